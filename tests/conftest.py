"""Shared fixtures of the whole suite."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture
def untraced() -> Iterator[None]:
    """Run the test with coverage's line tracing off: a whole nominal mission (224k
    cycles) takes ~7 s untraced and 35-50 s traced, of the CI's 5 minutes, and the
    quick-mission tests cover the same code. (pytest-cov's ``no_cover`` mark is not
    honoured in an xdist worker, and ``Coverage.stop()`` there leaves the tracer on.)"""
    tracer = sys.gettrace()
    sys.settrace(None)
    try:
        yield
    finally:
        sys.settrace(tracer)

"""Shared fixtures of the whole suite."""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def untraced() -> Iterator[None]:
    """Run the test with coverage's line tracing off: a whole nominal mission (224k
    cycles) takes ~7 s untraced and 35-50 s traced, of the CI's 5 minutes, and the
    quick-mission tests cover the same code. (pytest-cov's ``no_cover`` mark is not
    honoured in an xdist worker, and ``Coverage.stop()`` there leaves the tracer on.)"""
    with untraced_block():
        yield


@contextlib.contextmanager
def untraced_block() -> Iterator[None]:
    """:func:`untraced` as a block, for a module-scoped fixture; threads started inside
    it (a board emulator's) are not traced either."""
    tracer, thread_tracer = sys.gettrace(), threading.gettrace()
    sys.settrace(None)
    threading.settrace(None)  # type: ignore[arg-type]
    try:
        yield
    finally:
        sys.settrace(tracer)
        threading.settrace(thread_tracer)  # type: ignore[arg-type]


@pytest.fixture
def capture_cut_at_4_h() -> Callable[[Any], Any]:
    """``f(inputs)``: the mission of ``inputs`` with CAPTURE cut at the chart's 4 h, not the
    nominal mission's 8 h (configs/missions/nominal.yaml). For the tests whose fault keeps
    the chamber from being pumped down (a capped heater): what they check happens in the
    first hours, and the other 4 h of CAPTURE would only cost CI time."""
    from flight.config import PhaseConfig

    def cut(inputs: Any) -> Any:
        timeouts = {**inputs.mission.timeouts,
                    "EXTRACT_CAPTURE": PhaseConfig(timeout_s=14400.0)}
        return dataclasses.replace(
            inputs, mission=dataclasses.replace(inputs.mission, timeouts=timeouts))

    return cut


@pytest.fixture(scope="module")
def untraced_module() -> Iterator[None]:
    """:func:`untraced` for a module-scoped fixture that flies a whole mission (over a pty
    against the board emulator's thread)."""
    with untraced_block():
        yield

"""The plant's kernels on both paths, for the tests that check one against the other:
the C extension (sims/_kernels.c; skipped where it is not built, or built from another
version of its source) and numpy (sims/kernels_numpy.py, always there)."""

from __future__ import annotations

from types import ModuleType

import pytest

from sims import compiled, kernels_numpy


def _load_c() -> tuple[ModuleType | None, str]:
    try:
        return compiled.load_c(), ""
    except ImportError as exc:
        return None, f"C kernels unavailable, numpy alone tested: {str(exc).split(': ')[0]}"


C_KERNELS, C_MISSING = _load_c()


@pytest.fixture(params=["c", "numpy"])
def kernels(request: pytest.FixtureRequest) -> ModuleType:
    """Each path's kernels in turn (the C one skipped where it is not available)."""
    if request.param == "numpy":
        return kernels_numpy
    if C_KERNELS is None:
        pytest.skip(C_MISSING)
    return C_KERNELS


@pytest.fixture
def c_kernels() -> ModuleType:
    """The C kernels (skipped where they are not available)."""
    if C_KERNELS is None:
        pytest.skip(C_MISSING)
    return C_KERNELS

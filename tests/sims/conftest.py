"""The plant's kernels on both paths, for the tests that check one against the other:
the C extension (sims/_kernels.c; skipped where it is not built, or built from another
version of its source) and numpy (sims/kernels_numpy.py, always there)."""

from __future__ import annotations

import platform
from types import ModuleType

import pytest

from sims import compiled, kernels_numpy


def _load_c() -> tuple[ModuleType | None, str]:
    try:
        return compiled.load_c(), ""
    except ImportError as exc:
        return None, f"C kernels unavailable, numpy alone tested: {str(exc).split(': ')[0]}"


C_KERNELS, C_MISSING = _load_c()
#: x86-64's baseline instruction set has no fused multiply-add, so a C compiler cannot
#: contract ``a * b + c`` there unless told to (``-march=...``; setup.py does not): the C
#: and the numpy kernels are then the same IEEE-754 operations on the same libm, and agree
#: to the bit. Elsewhere (arm64: compilers fuse by default) they agree to rounding.
BITWISE = platform.machine().lower() in ("x86_64", "amd64")


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

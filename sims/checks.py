"""Shared argument checks of the property models (ice, regolith, electrolysis)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatOrArray = float | NDArray[np.float64]


def out(a: NDArray[np.float64]) -> FloatOrArray:
    """A 0-d array back to a plain float; any other array as it is."""
    return float(a) if a.ndim == 0 else a


def bad(name: str, rule: str, value: object) -> ValueError:
    """The ValueError for argument ``name`` breaking ``rule``."""
    return ValueError(f"{name} must be {rule}; got {value!r}")

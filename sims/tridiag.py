"""Tridiagonal solves for the sample's heat network, in compiled code when it is built.

The sample's implicit step solves ``A x = b`` once per thermal step, ``A`` tridiagonal
with ~31 rows. A Thomas sweep in Python costs ~10-28 us there (a Python float operation
per element) and numpy cannot vectorise it; the C kernels (:mod:`sims.compiled`) do it
for ~1 us including the call, and the numpy fallback runs the same sweep in Python.
Thomas elimination without pivoting: exact for the diagonally dominant ``C/dt +
Laplacian`` of the heat network (any positive capacities and conductances); a zero pivot
(non-physical input) raises.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from sims.compiled import kernels as _kernels


def solve_conductance_network(neg_g: NDArray[np.float64], diag: NDArray[np.float64],
                              rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve ``A x = rhs`` where ``A`` has ``diag`` on its diagonal and ``neg_g[i]`` (minus
    the conductance between unknowns ``i`` and ``i+1``) on both off-diagonals.

    ``rhs`` is one right-hand side ``(n,)`` or several as the rows of ``(k, n)``; the
    solution has the same shape. ``diag`` and ``rhs`` are not changed. Float64 arrays;
    other dtypes and layouts are converted.

    Raises:
        FloatingPointError: if ``A`` is singular (a zero pivot: only with non-physical
            input, e.g. a zero heat capacity and zero conductances).
        ValueError: if the shapes do not agree, or ``n`` is over
            ``sims.compiled.kernels.MAX_NODES``.
    """
    n = diag.shape[0]
    if diag.ndim != 1 or neg_g.shape != (n - 1,) or rhs.shape[-1] != n or rhs.ndim > 2:
        raise ValueError(f"tridiagonal system of {n} rows: off-diagonal {neg_g.shape}, "
                         f"right-hand side {rhs.shape}")
    x = np.empty(rhs.shape)
    _kernels.solve(_f64(neg_g), _f64(diag), _f64(rhs), x)
    return x


def _f64(a: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.ascontiguousarray(a, dtype=np.float64)

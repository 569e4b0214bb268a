"""Tridiagonal solves for the sample's heat network: LAPACK's ``dgtsv`` through scipy.

The sample's implicit step solves ``A x = b`` once per thermal step, ``A`` tridiagonal
with ~31 rows. A hand-written Thomas sweep in Python costs ~20-28 us there (a Python
float operation per element); numpy cannot vectorise the sweep; ``dgtsv`` does it in
compiled code for ~2-3 us including the call (measured: ``thermine bench``, see the
README). Gaussian elimination with partial pivoting: exact for the diagonally dominant
``C/dt + Laplacian`` (no row is ever swapped there) and safe if one ever was not.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.lapack import dgtsv


def solve_conductance_network(neg_g: NDArray[np.float64], diag: NDArray[np.float64],
                              rhs: NDArray[np.float64]) -> NDArray[np.float64]:
    """Solve ``A x = rhs`` where ``A`` has ``diag`` on its diagonal and ``neg_g[i]`` (minus
    the conductance between unknowns ``i`` and ``i+1``) on both off-diagonals.

    ``rhs`` is one right-hand side ``(n,)`` or several as the rows of ``(k, n)``; the
    solution has the same shape. ``diag`` and ``rhs`` are not changed.

    Raises:
        FloatingPointError: if ``A`` is singular (a zero pivot: only with non-physical
            input, e.g. a zero heat capacity and zero conductances).
        ValueError: if the shapes do not agree.
    """
    n = diag.shape[0]
    if neg_g.shape != (n - 1,) or rhs.shape[-1] != n:
        raise ValueError(f"tridiagonal system of {n} rows: off-diagonal {neg_g.shape}, "
                         f"right-hand side {rhs.shape}")
    # several right-hand sides: LAPACK wants them as the columns of a Fortran array, which
    # the transpose of C-ordered rows already is (no copy)
    b = rhs.T if rhs.ndim == 2 else rhs
    x, info = dgtsv(neg_g, diag, neg_g, b)[3:]
    if info > 0:
        raise FloatingPointError(f"tridiagonal system singular: zero pivot at row {info - 1}")
    if info < 0:  # (an argument LAPACK rejected: a bug here, not bad physics)
        raise ValueError(f"dgtsv rejected argument {-info}")
    return x.T if rhs.ndim == 2 else x

"""A symmetric tridiagonal solver (Thomas algorithm) for the sample's heat network.

Plain Python floats on lists: for the ~30 nodes of the sample this is faster than any
numpy formulation (which pays a call overhead per operation) and it is exact.
"""

from __future__ import annotations


def solve_symmetric_tridiagonal(g: list[float], diag: list[float],
                                rhs: list[float]) -> list[float]:
    """Solve ``A x = rhs`` where ``A`` has ``diag`` on its diagonal and ``-g[i]`` between
    unknowns ``i`` and ``i+1`` (a conductance network: ``len(g) == len(diag) - 1``).

    No pivoting: ``A`` must be diagonally dominant (it is for ``C/dt + Laplacian``).
    """
    n = len(diag)
    cp = [0.0] * n
    dp = [0.0] * n
    beta = diag[0]
    cp[0] = -g[0] / beta if n > 1 else 0.0
    dp[0] = rhs[0] / beta
    for i in range(1, n):
        gi = g[i - 1]
        beta = diag[i] + gi * cp[i - 1]
        dp[i] = (rhs[i] + gi * dp[i - 1]) / beta
        if i < n - 1:
            cp[i] = -g[i] / beta
    x = dp
    for i in range(n - 2, -1, -1):
        x[i] = dp[i] - cp[i] * x[i + 1]
    return x


def solve_symmetric_tridiagonal2(g: list[float], diag: list[float], rhs1: list[float],
                                 rhs2: list[float]) -> tuple[list[float], list[float]]:
    """:func:`solve_symmetric_tridiagonal` for two right-hand sides in one sweep (for a
    Sherman-Morrison rank-one update)."""
    n = len(diag)
    cp = [0.0] * n
    d1 = [0.0] * n
    d2 = [0.0] * n
    beta = diag[0]
    cp[0] = -g[0] / beta if n > 1 else 0.0
    d1[0] = rhs1[0] / beta
    d2[0] = rhs2[0] / beta
    for i in range(1, n):
        gi = g[i - 1]
        beta = diag[i] + gi * cp[i - 1]
        d1[i] = (rhs1[i] + gi * d1[i - 1]) / beta
        d2[i] = (rhs2[i] + gi * d2[i - 1]) / beta
        if i < n - 1:
            cp[i] = -g[i] / beta
    for i in range(n - 2, -1, -1):
        c = cp[i]
        d1[i] -= c * d1[i + 1]
        d2[i] -= c * d2[i + 1]
    return d1, d2

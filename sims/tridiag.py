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


def factor_symmetric_tridiagonal(g: list[float],
                                 diag: list[float]) -> tuple[list[float], list[float]]:
    """The forward-elimination factors ``(beta, cp)`` of the matrix of
    :func:`solve_symmetric_tridiagonal`, for :func:`solve_factored` (a matrix that stays
    the same for many right-hand sides: the sample's dry conduction between refreshes)."""
    n = len(diag)
    beta = [0.0] * n
    cp = [0.0] * n
    b = diag[0]
    beta[0] = b
    cp[0] = -g[0] / b if n > 1 else 0.0
    for i in range(1, n):
        b = diag[i] + g[i - 1] * cp[i - 1]
        beta[i] = b
        if i < n - 1:
            cp[i] = -g[i] / b
    return beta, cp


def solve_factored(g: list[float], beta: list[float], cp: list[float],
                   rhs: list[float]) -> list[float]:
    """:func:`solve_symmetric_tridiagonal` with the factors of
    :func:`factor_symmetric_tridiagonal` (the same result to the last bit)."""
    d = rhs[0] / beta[0]
    x = [d]
    for gi, b, r in zip(g, beta[1:], rhs[1:], strict=True):
        d = (r + gi * d) / b
        x.append(d)
    for i in range(len(x) - 2, -1, -1):
        d = x[i] - cp[i] * d
        x[i] = d
    return x

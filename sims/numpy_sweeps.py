"""The sweeps of the numpy kernels (:mod:`sims.kernels_numpy`): the tridiagonal Thomas
sweep of ``solve`` and the block-tridiagonal (2 x 2 blocks) sweep of ``coupled_step``,
the C's ``thomas()`` and ``block_thomas()`` (sims/_kernels.c) in the same order of
operations, on Python floats (a sweep cannot be vectorised)."""

from __future__ import annotations

import math

_isfinite = math.isfinite


def singular(row: int) -> FloatingPointError:
    return FloatingPointError(f"tridiagonal system singular: zero pivot at row {row}")


def thomas(off: list[float], diag: list[float], rows: list[list[float]]) -> None:
    """The C's ``thomas()``: ``A x = r`` for each list ``r`` in ``rows`` (replaced by
    ``x``), ``A`` with ``diag`` on its diagonal and ``off`` on both off-diagonals.

    Raises:
        FloatingPointError: on a zero (or non-finite) pivot.
    """
    n = len(diag)
    m = diag[0]
    if m == 0.0 or not _isfinite(m):
        raise singular(0)
    cp = [0.0] * n
    if n > 1:
        cp[0] = off[0] / m
    if len(rows) == 1:  # (the loops unrolled for one and two right-hand sides)
        (x,) = rows
        x[0] = x[0] / m
        for i in range(1, n):
            a = off[i - 1]
            m = diag[i] - a * cp[i - 1]
            if m == 0.0 or not _isfinite(m):
                raise singular(i)
            if i < n - 1:
                cp[i] = off[i] / m
            x[i] = (x[i] - a * x[i - 1]) / m
        for i in range(n - 2, -1, -1):
            x[i] -= cp[i] * x[i + 1]
    elif len(rows) == 2:
        x, y = rows
        x[0] = x[0] / m
        y[0] = y[0] / m
        for i in range(1, n):
            a = off[i - 1]
            m = diag[i] - a * cp[i - 1]
            if m == 0.0 or not _isfinite(m):
                raise singular(i)
            if i < n - 1:
                cp[i] = off[i] / m
            x[i] = (x[i] - a * x[i - 1]) / m
            y[i] = (y[i] - a * y[i - 1]) / m
        for i in range(n - 2, -1, -1):
            c = cp[i]
            x[i] -= c * x[i + 1]
            y[i] -= c * y[i + 1]
    else:
        for r in rows:
            r[0] = r[0] / m
        for i in range(1, n):
            a = off[i - 1]
            m = diag[i] - a * cp[i - 1]
            if m == 0.0 or not _isfinite(m):
                raise singular(i)
            if i < n - 1:
                cp[i] = off[i] / m
            for r in rows:
                r[i] = (r[i] - a * r[i - 1]) / m
        for i in range(n - 2, -1, -1):
            c = cp[i]
            for r in rows:
                r[i] -= c * r[i + 1]


def block_thomas(dg: list[list[float]], lo: list[tuple[float, float]],
                  up: list[tuple[float, float]], rhs: list[tuple[float, float]],
                  ) -> list[list[float]]:
    """The C's ``block_thomas()``: the block-tridiagonal system of 2 x 2 diagonal blocks
    ``dg`` (dtt, dtv, dvt, dvv) with diagonal couplings ``lo`` / ``up`` (T, V) to the
    nodes above and below; returns ``[T, V]`` per node.

    Raises:
        FloatingPointError: on a singular (or non-finite) block.
    """
    n = len(dg)
    cp: list[tuple[float, float, float, float]] = []
    x: list[list[float]] = []
    d1 = d2 = 0.0
    for i in range(n):
        m11, m12, m21, m22 = dg[i]
        r1, r2 = rhs[i]
        if i > 0:
            lt, lv = lo[i]
            c = cp[i - 1]
            m11 -= lt * c[0]
            m12 -= lt * c[1]
            m21 -= lv * c[2]
            m22 -= lv * c[3]
            r1 -= lt * d1
            r2 -= lv * d2
        det = m11 * m22 - m12 * m21
        if det == 0.0 or not _isfinite(det):
            raise FloatingPointError(
                f"tridiagonal system singular: zero pivot at row {i}")
        i11, i12, i21, i22 = m22 / det, -m12 / det, -m21 / det, m11 / det
        ut, uv = up[i]
        cp.append((i11 * ut, i12 * uv, i21 * ut, i22 * uv))
        d1 = i11 * r1 + i12 * r2
        d2 = i21 * r1 + i22 * r2
        x.append([d1, d2])
    for i in range(n - 2, -1, -1):
        c = cp[i]
        x1, x2 = x[i + 1]
        x[i][0] -= c[0] * x1 + c[1] * x2
        x[i][1] -= c[2] * x1 + c[3] * x2
    return x

"""The plant's kernels in numpy and Python: the fallback for ``sims/_kernels.c``.

The same six functions and constants as :mod:`sims._kernels` (``solve``,
``coupled_step``, ``sublimate``, ``rate_law``, ``node_terms``, ``plausible``), with the
same arguments, in-place outputs, return values and errors (``ValueError`` naming a bad
array, ``FloatingPointError`` on a zero pivot, ``TypeError`` on a wrong arity).
:mod:`sims.compiled` picks it when the C one is not built or ``THERMINE_KERNELS=numpy``.

The arithmetic is the C's, operation by operation, so the two agree to the bit on x86-64
(no fused multiply-add in its baseline) and to rounding elsewhere
(``tests/sims/test_kernel_paths.py``): elementwise expressions keep the C's operand
order; every sum is the C's left-to-right loop (``np.add.accumulate`` from ``0.0``, not
``np.sum``'s pairwise sum); ``exp`` and ``log`` are the C library's through
:mod:`math` (numpy's SIMD ones may differ by an ulp), falling back to numpy's
``inf``/``nan`` outside :mod:`math`'s domain, as the C gives; the Thomas sweeps loop
over Python floats in the C's order (:mod:`sims.numpy_sweeps`). Like the C, a
kernel gives ``inf`` and ``nan`` without a warning. The cost is the Python around the
arithmetic (~5-45 us per call against the C's ~0.2-1.2 us): a mission flies slower
(docs/physics.md), not differently.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sims.numpy_sweeps import block_thomas as _block_thomas
from sims.numpy_sweeps import thomas as _thomas

ICE_BASIS = 0  #: node_terms kind: (1, T, T^2, 1/T, 1/T^2, ln T, exp(w0 T^2), exp(w1 T^2))
LAYER_BASIS = 1  #: node_terms kind: (1, T, T^2, T^3, T^4, T^5, g, T g), g = exp(w0 T^2)
#: the most nodes a kernel takes: the C keeps its scratch on the stack; kept here so the
#: two paths accept the same inputs (params: layers <= 400, plus the plate)
MAX_NODES = 512

_F64 = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_exp, _log, _isfinite = math.exp, math.log, math.isfinite
F64Array = NDArray[np.float64]


def _take(obj: Any, dtype: np.dtype, n: int, writable: bool, name: str) -> np.ndarray:
    """``obj`` as a flat view of ``n`` items (``n < 0``: any number) of ``dtype``
    (float64 or bool), C-contiguous, writable if asked; the C's ``take()``: a
    ``ValueError`` naming the argument if it is not that."""
    if type(obj) is np.ndarray:  # the usual case, checked at once
        flags = obj.flags
        if (flags.c_contiguous and (flags.writeable or not writable) and obj.dtype == dtype
                and (n < 0 or obj.size == n)):
            return obj if obj.ndim == 1 else obj.reshape(-1)
    elif not isinstance(obj, np.ndarray):
        try:  # any object with the buffer protocol, as the C takes
            obj = np.asarray(memoryview(obj))
        except TypeError:
            obj = None
    f64 = dtype is _F64
    what = "float64" if f64 else "bool"
    if obj is None or not obj.flags.c_contiguous or (writable and not obj.flags.writeable):
        raise ValueError(f"{name}: a C-contiguous{', writable' if writable else ''} {what} "
                         "array is needed")
    if obj.dtype != dtype:
        raise ValueError(f"{name}: {what} expected")
    if n >= 0 and obj.size != n:
        raise ValueError(f"{name}: {n} {'values' if f64 else 'bools'} expected, "
                         f"got {obj.size}")
    return obj if obj.ndim == 1 else obj.reshape(-1)


def _as_float(x: Any) -> float:
    """A float argument, as the C's ``PyFloat_AsDouble`` takes it (not from a string)."""
    if type(x) is float:
        return x
    if isinstance(x, str | bytes | bytearray):
        raise TypeError(f"must be real number, not {type(x).__name__}")
    return float(x)


def _arity(kernel: str, args: tuple, expected: int) -> None:
    if len(args) != expected:
        raise TypeError(f"{kernel} takes {expected} arguments")


def _quiet(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """The kernel under ``np.errstate(all="ignore")``: the C's arithmetic gives ``inf`` and
    ``nan`` without a word (the plant tests a step's result, ``plausible``), so numpy's
    neither warns nor raises, whatever ``np.seterr`` says."""
    @functools.wraps(kernel)
    def quiet(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            return kernel(*args)
    return quiet


def _each(func: Callable[[float], float], ufunc: np.ufunc, x: F64Array) -> F64Array:
    """``func`` (:func:`math.exp`, :func:`math.log`: the C library's) at every element
    of ``x`` (any shape); where :mod:`math` refuses (``log`` of 0 or less, an overflow)
    numpy's ``ufunc`` for all of them, which gives C's ``inf``/``nan`` there instead."""
    try:
        return np.array([func(v) for v in x.ravel().tolist()]).reshape(x.shape)
    except (ValueError, OverflowError):
        return ufunc(x)


def _sum_rows(a: F64Array) -> list[float]:
    """Each row's sum, left to right from 0.0 (the C's ``acc = 0.0; acc += x``):
    ``np.add.accumulate`` is sequential; ``+ 0.0`` turns an all ``-0.0`` row's ``-0.0``
    into the C's ``0.0`` and changes nothing else."""
    if a.shape[-1] == 0:
        return [0.0] * a.shape[0]
    return (np.add.accumulate(a, axis=-1)[..., -1] + 0.0).tolist()


@_quiet
def solve(*args: Any) -> None:
    """solve(off, diag, rhs, x): tridiagonal solve into x (see sims/tridiag.py).

    ``x = A^-1 rhs``, ``A`` with ``diag`` (n, 1 to ``MAX_NODES``) on its diagonal and
    ``off`` (n - 1) on both off-diagonals; ``rhs`` and ``x``: k x n values (k >= 1).
    """
    _arity("solve(off, diag, rhs, x)", args, 4)
    diag = _take(args[1], _F64, -1, False, "diag")
    n = diag.size
    if n < 1 or n > MAX_NODES:
        raise ValueError(f"diag: 1 to {MAX_NODES} rows, got {n}")
    off = _take(args[0], _F64, n - 1, False, "off")
    rhs = _take(args[2], _F64, -1, False, "rhs")
    size = rhs.size
    if size == 0 or size % n != 0:
        raise ValueError(f"rhs: a multiple of {n} values expected, got {size}")
    x = _take(args[3], _F64, size, True, "x")
    rows = rhs.reshape(size // n, n).tolist()
    _thomas(off.tolist(), diag.tolist(), rows)
    x[:] = np.array(rows).reshape(-1)


@_quiet
def coupled_step(*args: Any) -> tuple[float, float]:
    """coupled_step(cap_over_dt, t_old, off, base_diag, lat, coef, ice_kg, kv, temp,
    out_kg, psi, heater_net_w, volume_over_dt, vapour_over_dt, other_source_kg_s,
    other_sink_m3_s, dt_s, c_chamber) -> (rho, below_kg)

    Sample.conduct()'s step with vapour (see there, and sims/_kernels.c): n nodes (the
    plate first), each with its temperature and a vapour variable (the chamber density
    for the plate's node, the pore vapour psi for a layer); ``coef`` rows (a, g, slope,
    slope x T) of n each, ``kv`` (n) the pore-vapour conductances (chamber to layer 1,
    layer to layer, bottom to vacuum), ``ice_kg`` of the n - 1 layers. Writes the new
    temperatures to ``temp``, the mass each layer gives up to ``out_kg`` and the pore
    vapour to ``psi``; returns the end-of-step chamber density [kg/m^3] and the mass
    that left through the bottom [kg].
    """
    _arity("coupled_step", args, 18)
    (heater_net_w, volume_over_dt, vapour_over_dt, other_source, other_sink, dt_s,
     c_ch) = (_as_float(v) for v in args[11:])
    t_old = _take(args[1], _F64, -1, False, "t_old")
    n = t_old.size
    if n < 2 or n > MAX_NODES:
        raise ValueError(f"t_old: 2 to {MAX_NODES} nodes, got {n}")
    cap = _take(args[0], _F64, n, False, "cap_over_dt").tolist()
    off = _take(args[2], _F64, n - 1, False, "off").tolist()
    base = _take(args[3], _F64, n, False, "base_diag").tolist()
    lat = _take(args[4], _F64, n, False, "lat").tolist()
    coef = _take(args[5], _F64, 4 * n, False, "coef").reshape(4, n)
    ice = [0.0, *_take(args[6], _F64, n - 1, False, "ice_kg").tolist()]
    kv = _take(args[7], _F64, n, False, "kv").tolist()
    temp = _take(args[8], _F64, n, True, "temp")
    out = _take(args[9], _F64, n, True, "out_kg")
    psi = _take(args[10], _F64, n, True, "psi")
    told = t_old.tolist()
    ca, cg, cs, cst = (row.tolist() for row in coef)
    # the coefficients of this step: coef, or a fixed source for a layer the solve
    # empties (then solved again)
    fixed = [True] + [False] * (n - 1)
    dg = [[base[0], 0.0, 0.0, volume_over_dt + other_sink + kv[0] * c_ch]] + [[0.0] * 4] * (
        n - 1)
    rhs = [(cap[0] * told[0] + heater_net_w, vapour_over_dt + other_source)] + [(0.0, 0.0)] * (
        n - 1)
    up = [(off[i], -kv[i]) if i < n - 1 else (0.0, 0.0) for i in range(n)]
    lo = [(0.0, 0.0)] + [(off[i - 1], -kv[0] * c_ch if i == 1 else -kv[i - 1])
                         for i in range(1, n)]
    masses = [0.0] * n
    x: list[list[float]] = []
    for _ in range(n):
        for i in range(1, n):
            lv = lat[i]
            dg[i] = [base[i] + lv * cs[i], -(lv * cg[i]), -cs[i], cg[i] + kv[i - 1] + kv[i]]
            rhs[i] = (cap[i] * told[i] + (-(lv * ca[i]) + lv * cst[i]), ca[i] - cst[i])
        x = _block_thomas(dg, lo, up, rhs)
        refix = False
        for i in range(1, n):
            m = (ca[i] + cs[i] * (x[i][0] - told[i]) - cg[i] * x[i][1]) * dt_s
            masses[i] = m
            if not fixed[i] and m > ice[i]:
                fixed[i] = refix = True
                ca[i], cg[i], cs[i], cst[i] = ice[i] / dt_s, 0.0, 0.0, 0.0
        if not refix:
            break
    rho = x[0][1]
    temp[:] = [row[0] for row in x]
    psi[:] = [c_ch * rho] + [row[1] for row in x[1:]]
    out[:] = masses
    return rho, kv[n - 1] * psi[n - 1].item() * dt_s


@_quiet
def sublimate(*args: Any) -> tuple[float, float, float, float, float, int]:
    """sublimate(ice_kg, mass_kg, h_ice_j_kg, temp_k, heat_j, ice_out, wet_nodes_out)
    -> (sum mass x h_ice, sum mass, sum gross, sum gross x T, sum heat, dry layers)

    Sample.sublimate()'s arithmetic (see there): n layers; ``ice_out`` = max(ice - mass,
    0); ``wet_nodes_out`` (n + 1 bools, plate first: False) = ice_out > 0; gross =
    max(mass, 0) (a NaN counts as 0 in both, as in the C).
    """
    _arity("sublimate", args, 7)
    ice = _take(args[0], _F64, -1, False, "ice_kg")
    n = ice.size
    mass = _take(args[1], _F64, n, False, "mass_kg")
    h = _take(args[2], _F64, n, False, "h_ice_j_kg")
    t = _take(args[3], _F64, n, False, "temp_k")
    heat = _take(args[4], _F64, n, False, "heat_j")
    ice_out = _take(args[5], _F64, n, True, "ice_out")
    wet = _take(args[6], _BOOL, n + 1, True, "wet_nodes_out")
    left = ice - mass
    wet_layers = left > 0.0
    terms = np.empty((5, n))  # mass x h, mass, gross, gross x T, heat
    np.multiply(mass, h, out=terms[0])
    terms[1] = mass
    terms[2] = 0.0
    np.copyto(terms[2], mass, where=mass > 0.0)
    np.multiply(terms[2], t, out=terms[3])
    terms[4] = heat
    ice_out[:] = 0.0
    np.copyto(ice_out, left, where=wet_layers)
    wet[0] = False
    wet[1:] = wet_layers
    m_h, m_sum, g_sum, g_t, heat_sum = _sum_rows(terms)
    return m_h, m_sum, g_sum, g_t, heat_sum, n - int(np.count_nonzero(wet_layers))


def _basis(kind: int, t: F64Array, w: F64Array) -> F64Array:
    """The C's ``basis_at()`` at every temperature: rows of the eight functions."""
    b = np.empty((8, t.size))
    t2 = t * t
    b[0] = 1.0
    b[1] = t
    b[2] = t2
    if kind == ICE_BASIS:
        inv = 1.0 / t
        b[3] = inv
        np.multiply(inv, inv, out=b[4])
        b[5] = _each(_log, np.log, t)
        b[6:] = _each(_exp, np.exp, np.multiply.outer(w, t2))
    else:
        np.multiply(t2, t, out=b[3])
        np.multiply(t2, t2, out=b[4])
        np.multiply(b[4], t, out=b[5])
        b[6] = _each(_exp, np.exp, w[0] * t2)
        np.multiply(b[6], t, out=b[7])
    return b


@_quiet
def node_terms(*args: Any) -> None:
    """node_terms(kind, coef, w, temp_k, out): sims.ice_nodes / sims.layer_nodes terms.

    ``out`` (rows x n) = ``coef`` (rows x 8) times the basis ``kind`` (``ICE_BASIS`` or
    ``LAYER_BASIS``) at each of the n ``temp_k``; ``w``: the Gaussian terms' -1/width^2.
    """
    _arity("node_terms", args, 5)
    kind = operator.index(args[0])
    if kind not in (ICE_BASIS, LAYER_BASIS):
        raise ValueError(f"kind: {ICE_BASIS} (ice) or {LAYER_BASIS} (layer), got {kind}")
    k = _take(args[1], _F64, -1, False, "coef")
    rows = k.size // 8
    if rows < 1 or k.size != rows * 8:
        raise ValueError("coef: rows of 8 values expected")
    w = _take(args[2], _F64, 2, False, "w")
    t = _take(args[3], _F64, -1, False, "temp_k")
    o = _take(args[4], _F64, rows * t.size, True, "out")
    if t.size == 0:
        return
    # acc = 0.0; acc += coef[r, j] x basis[j] for j = 0 .. 7, as the C (a sequential
    # accumulate over j, not a matrix product): terms[j, r, i] = coef[r, j] basis[j, i]
    # (in place, row by row: np.add.accumulate over a leading axis is ~2x slower)
    terms = k.reshape(rows, 8).T.reshape(8, rows, 1) * _basis(kind, t, w).reshape(8, 1, -1)
    terms = terms.reshape(8, -1)
    acc = terms[0] + 0.0
    for term in terms[1:]:
        acc += term
    o[:] = acc


@_quiet
def rate_law(*args: Any) -> bool:
    """rate_law(ln_p7_sqrt, ln_p2_sqrt, slope_per_k, temp_k, a_coef, g_coef, wet_nodes,
    psi, eq7_min_k, coef) -> inert

    Sample.vapour_coefficients()'s law at n nodes (see there): a = a_coef p_sat / sqrt T
    (eq. 7 at or above ``eq7_min_k``, else the joined eq. 2) and g = g_coef at an active
    node, both 0 elsewhere: active where ``wet_nodes`` is True or, dry, where the last
    step's pore vapour ``psi`` exceeds saturation (g psi > a); slope = a x slope_per_k;
    writes (a, g, slope, slope x T) to ``coef`` (4 x n). Returns True if no node is
    active.
    """
    _arity("rate_law", args, 10)
    eq7_min_k = _as_float(args[8])
    t = _take(args[3], _F64, -1, False, "temp_k")
    n = t.size
    ln_p7 = _take(args[0], _F64, n, False, "ln_p7_sqrt")
    ln_p2 = _take(args[1], _F64, n, False, "ln_p2_sqrt")
    slope_k = _take(args[2], _F64, n, False, "slope_per_k")
    a_coef = _take(args[4], _F64, n, False, "a_coef")
    g_coef = _take(args[5], _F64, n, False, "g_coef")
    wet = _take(args[6], _BOOL, n, False, "wet_nodes")
    psi = _take(args[7], _F64, n, False, "psi")
    c = _take(args[9], _F64, 4 * n, True, "coef").reshape(4, n)
    if n == 0:
        return True
    ln_p = np.where(t >= eq7_min_k, ln_p7, ln_p2)
    a = a_coef * _each(_exp, np.exp, ln_p)
    active = wet | (g_coef * psi > a)
    c[:2] = 0.0
    c[0, active] = a[active]
    c[1, active] = g_coef[active]
    np.multiply(c[0], slope_k, out=c[2])
    np.multiply(c[2], t, out=c[3])
    return not (c[:2] != 0.0).any()


@_quiet
def plausible(*args: Any) -> bool:
    """plausible(t_new, t_old, max_step_dk, min_temp_k): Plant's step test.

    Every ``|t_new - t_old| < max_step_dk`` and every ``t_new > min_temp_k`` (a NaN
    fails both, so a non-finite step is redone).
    """
    _arity("plausible", args, 4)
    max_step_dk, min_temp_k = _as_float(args[2]), _as_float(args[3])
    t = _take(args[0], _F64, -1, False, "t_new")
    t0 = _take(args[1], _F64, t.size, False, "t_old")
    return bool(((np.abs(t - t0) < max_step_dk) & (t > min_temp_k)).all())

"""PEM water electrolysis: Faraday stoichiometry, reversible voltage, polarization curve.

Pure functions. SI units except where the electrolysis convention is per cm^2 (current
density in A/cm^2, area resistance in ohm cm^2), as the argument names say. Functions that
take arguments accept floats (return a plain float, computed with ``math``) or numpy arrays
(return an ndarray; 0-d results come back as float); arrays broadcast. Bad input raises
``ValueError`` naming the argument. Sources: Faraday's law; standard thermodynamics of
water splitting (1.229 V / 1.481 V at 25 C); Butler-Volmer (asinh) kinetics as used in PEM
models, e.g. Dale et al. (2008) J. Power Sources 185:1348. "Typical" parameter defaults
are engineering choices, not fits: see docs/physics.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.checks import FloatOrArray
from sims.checks import bad as _bad
from sims.checks import out as _out
from sims.constants import M_H2, M_H2O, M_O2, P_STANDARD_PA, F, R

E_REV_298_V = 1.229  # reversible voltage at 298.15 K, 1 atm, liquid water (Gibbs 237.1 kJ/mol)
DE_REV_DT_V_K = -0.85e-3  # temperature coefficient of the reversible voltage, V/K
THERMONEUTRAL_V = 1.481  # enthalpy voltage at 25 C (HHV 285.8 kJ/mol / 2F)
T_REF_K = 298.15
ELECTRONS_PER_H2O = 2

_INF = math.inf
_SCALAR = (float, int)
_LN10 = math.log(10.0)
_R_2F = R / (ELECTRONS_PER_H2O * F)


def _pos(x: ArrayLike, name: str, allow_zero: bool = False) -> NDArray[np.float64]:
    """Array version of the checks: finite and > 0 (or >= 0)."""
    a = np.asarray(x, dtype=float)
    ok = (a >= 0.0) if allow_zero else (a > 0.0)
    if not np.all(ok & (a < _INF)):
        raise _bad(name, "finite and >= 0" if allow_zero else "finite and > 0", x)
    return a


def faraday_water_kg_per_c() -> float:
    """Mass of water split per coulomb, kg/C: ``M_H2O / (2 F)`` (~9.3358e-8)."""
    return M_H2O / (ELECTRONS_PER_H2O * F)


def coulombs_per_kg_water() -> float:
    """Charge needed to split 1 kg of water, C/kg: ``2 F / M_H2O`` (~1.07115e7)."""
    return ELECTRONS_PER_H2O * F / M_H2O


def h2_kg_per_kg_water() -> float:
    """Mass of H2 produced per kg of water split: ``M_H2 / M_H2O`` (~0.111898)."""
    return M_H2 / M_H2O


def o2_kg_per_kg_water() -> float:
    """Mass of O2 produced per kg of water split: ``(M_O2 / 2) / M_H2O`` (~0.888102).

    With these molar masses h2 + o2 = 1 to within one float rounding.
    """
    return 0.5 * M_O2 / M_H2O


def thermoneutral_voltage_v() -> float:
    """Thermoneutral cell voltage, V: 1.481 at 25 C (temperature dependence neglected)."""
    return THERMONEUTRAL_V


def reversible_voltage_v(
    temp_k: float | ArrayLike,
    p_h2_pa: float | ArrayLike = 101325.0,
    p_o2_pa: float | ArrayLike = 101325.0,
    water_activity: float | ArrayLike = 1.0,
) -> FloatOrArray:
    """Reversible (open-circuit) voltage of a water electrolysis cell, V.

    ``E = 1.229 - 0.85e-3 (T - 298.15) + (R T / 2F) ln((p_H2/p0) (p_O2/p0)^0.5 / a_H2O)``,
    p0 = 101325 Pa. Linear temperature term valid for liquid water, ~273-373 K.
    Raises ValueError unless temp_k, p_h2_pa and p_o2_pa are finite and > 0 and
    0 < water_activity <= 1.
    """
    if (
        isinstance(temp_k, _SCALAR)
        and isinstance(p_h2_pa, _SCALAR)
        and isinstance(p_o2_pa, _SCALAR)
        and isinstance(water_activity, _SCALAR)
    ):
        if not 0.0 < temp_k < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        if not 0.0 < p_h2_pa < _INF:
            raise _bad("p_h2_pa", "finite and > 0 Pa", p_h2_pa)
        if not 0.0 < p_o2_pa < _INF:
            raise _bad("p_o2_pa", "finite and > 0 Pa", p_o2_pa)
        if not 0.0 < water_activity <= 1.0:
            raise _bad("water_activity", "in (0, 1]", water_activity)
        q = (p_h2_pa / P_STANDARD_PA) * math.sqrt(p_o2_pa / P_STANDARD_PA) / water_activity
        return E_REV_298_V + DE_REV_DT_V_K * (temp_k - T_REF_K) + _R_2F * temp_k * math.log(q)
    t = _pos(temp_k, "temp_k")
    ph2 = _pos(p_h2_pa, "p_h2_pa")
    po2 = _pos(p_o2_pa, "p_o2_pa")
    a = np.asarray(water_activity, dtype=float)
    if not np.all((a > 0.0) & (a <= 1.0)):
        raise _bad("water_activity", "in (0, 1]", water_activity)
    q = (ph2 / P_STANDARD_PA) * np.sqrt(po2 / P_STANDARD_PA) / a
    return _out(E_REV_298_V + DE_REV_DT_V_K * (t - T_REF_K) + _R_2F * t * np.log(q))


def cell_voltage_v(
    current_density_a_cm2: float | ArrayLike,
    temp_k: float | ArrayLike,
    i0_anode_a_cm2: float | ArrayLike = 1e-7,
    tafel_anode_v_dec: float | ArrayLike = 0.050,
    i0_cathode_a_cm2: float | ArrayLike = 0.1,
    tafel_cathode_v_dec: float | ArrayLike = 0.030,
    r_ohm_ohm_cm2: float | ArrayLike = 0.20,
    p_h2_pa: float | ArrayLike = 101325.0,
    p_o2_pa: float | ArrayLike = 101325.0,
) -> FloatOrArray:
    """PEM electrolysis cell voltage, V, from a steady polarization model.

    ``V = E_rev + (b_a/ln10) asinh(i/(2 i0_a)) + (b_c/ln10) asinh(i/(2 i0_c)) + i R_ohm``
    (symmetric Butler-Volmer activation overpotentials; no mass-transport term, so it
    underestimates V above ~3 A/cm^2). Defaults are a "typical" set for Nafion 117 at 80 C,
    not a published fit. Zero current gives ``reversible_voltage_v(temp_k, p_h2, p_o2)``.
    Raises ValueError if current_density_a_cm2 or r_ohm_ohm_cm2 is negative or not finite,
    or any exchange current, Tafel slope, temperature or pressure is not finite and > 0.
    """
    i, i0a, ba, i0c, bc, r = (
        current_density_a_cm2,
        i0_anode_a_cm2,
        tafel_anode_v_dec,
        i0_cathode_a_cm2,
        tafel_cathode_v_dec,
        r_ohm_ohm_cm2,
    )
    if (
        isinstance(i, _SCALAR)
        and isinstance(i0a, _SCALAR)
        and isinstance(ba, _SCALAR)
        and isinstance(i0c, _SCALAR)
        and isinstance(bc, _SCALAR)
        and isinstance(r, _SCALAR)
        and isinstance(temp_k, _SCALAR)
        and isinstance(p_h2_pa, _SCALAR)
        and isinstance(p_o2_pa, _SCALAR)
    ):
        if not 0.0 <= i < _INF:
            raise _bad("current_density_a_cm2", "finite and >= 0 A/cm^2", i)
        if not 0.0 < i0a < _INF:
            raise _bad("i0_anode_a_cm2", "finite and > 0 A/cm^2", i0a)
        if not 0.0 < ba < _INF:
            raise _bad("tafel_anode_v_dec", "finite and > 0 V/decade", ba)
        if not 0.0 < i0c < _INF:
            raise _bad("i0_cathode_a_cm2", "finite and > 0 A/cm^2", i0c)
        if not 0.0 < bc < _INF:
            raise _bad("tafel_cathode_v_dec", "finite and > 0 V/decade", bc)
        if not 0.0 <= r < _INF:
            raise _bad("r_ohm_ohm_cm2", "finite and >= 0 ohm cm^2", r)
        e_rev = reversible_voltage_v(temp_k, p_h2_pa, p_o2_pa)
        return (
            e_rev
            + (ba / _LN10) * math.asinh(i / (2.0 * i0a))
            + (bc / _LN10) * math.asinh(i / (2.0 * i0c))
            + i * r
        )
    i = _pos(i, "current_density_a_cm2", allow_zero=True)
    i0a, ba = _pos(i0a, "i0_anode_a_cm2"), _pos(ba, "tafel_anode_v_dec")
    i0c, bc = _pos(i0c, "i0_cathode_a_cm2"), _pos(bc, "tafel_cathode_v_dec")
    r = _pos(r, "r_ohm_ohm_cm2", allow_zero=True)
    e_rev = np.asarray(reversible_voltage_v(np.asarray(temp_k, dtype=float), p_h2_pa, p_o2_pa))
    v = (
        e_rev
        + (ba / _LN10) * np.arcsinh(i / (2.0 * i0a))
        + (bc / _LN10) * np.arcsinh(i / (2.0 * i0c))
        + i * r
    )
    return _out(v)


def cell_voltage_scalar_v(current_density_a_cm2: float, temp_k: float, r_ohm_ohm_cm2: float,
                          p_h2_pa: float, p_o2_pa: float,
                          activation_v: tuple[float, float] | None = None) -> float:
    """Unchecked float kernel of :func:`cell_voltage_v` with its default kinetics, V, for
    the stack's per-cycle step: every argument must already be valid (finite, in range).
    ``activation_v`` is :func:`activation_scalar_v` at this current density, if the caller
    kept it (it depends on nothing else)."""
    q = (p_h2_pa / P_STANDARD_PA) * math.sqrt(p_o2_pa / P_STANDARD_PA) / 1.0
    e_rev = E_REV_298_V + DE_REV_DT_V_K * (temp_k - T_REF_K) + _R_2F * temp_k * math.log(q)
    i = current_density_a_cm2
    anode_v, cathode_v = activation_v or activation_scalar_v(i)
    return e_rev + anode_v + cathode_v + i * r_ohm_ohm_cm2


def activation_scalar_v(current_density_a_cm2: float) -> tuple[float, float]:
    """Unchecked: the anode and cathode activation overpotentials [V] of
    :func:`cell_voltage_v`'s default kinetics (asinh form) at ``current_density_a_cm2``."""
    i = current_density_a_cm2
    return _B_A * math.asinh(i / (2.0 * 1e-7)), _B_C * math.asinh(i / (2.0 * 0.1))


_B_A, _B_C = 0.050 / _LN10, 0.030 / _LN10  # the default Tafel slopes, per e-fold


def faradaic_efficiency(
    current_density_a_cm2: float | ArrayLike, crossover_a_cm2: float | ArrayLike = 0.005
) -> FloatOrArray:
    """Faradaic (current) efficiency of H2 production, dimensionless in [0, 1).

    ``eta = max(0, (i - i_x) / i)``: a constant gas-crossover loss i_x (A/cm^2) is
    subtracted from the cell current; eta = 0 for i <= i_x. The default i_x = 5 mA/cm^2
    is a "typical" value (gives eta = 0.990 at 0.5 A/cm^2, 0.995 at 1 A/cm^2).
    Raises ValueError if either argument is negative or not finite.
    """
    if isinstance(current_density_a_cm2, _SCALAR) and isinstance(crossover_a_cm2, _SCALAR):
        i, ix = current_density_a_cm2, crossover_a_cm2
        if not 0.0 <= i < _INF:
            raise _bad("current_density_a_cm2", "finite and >= 0 A/cm^2", i)
        if not 0.0 <= ix < _INF:
            raise _bad("crossover_a_cm2", "finite and >= 0 A/cm^2", ix)
        return (i - ix) / i if i > ix else 0.0
    ia = _pos(current_density_a_cm2, "current_density_a_cm2", allow_zero=True)
    ixa = _pos(crossover_a_cm2, "crossover_a_cm2", allow_zero=True)
    safe_i = np.where(ia > 0.0, ia, 1.0)
    return _out(np.where(ia > ixa, (ia - ixa) / safe_i, 0.0))


def faradaic_efficiency_scalar(current_density_a_cm2: float,
                               crossover_a_cm2: float = 0.005) -> float:
    """Unchecked float kernel of :func:`faradaic_efficiency`, for the stack's per-cycle
    step: both arguments must already be finite floats >= 0."""
    i = current_density_a_cm2
    return (i - crossover_a_cm2) / i if i > crossover_a_cm2 else 0.0


def heat_released_w(
    current_a: float | ArrayLike, cell_voltage_v: float | ArrayLike, n_cells: int | ArrayLike = 1
) -> FloatOrArray:
    """Heat generated by an electrolysis stack, W: ``(V_cell - 1.481) I n_cells``.

    Positive means the stack heats; negative (V below thermoneutral) means it absorbs heat.
    Raises ValueError if current_a is negative or not finite, cell_voltage_v is not finite
    and > 0, or n_cells is not a whole number >= 1.
    """
    if (
        isinstance(current_a, _SCALAR)
        and isinstance(cell_voltage_v, _SCALAR)
        and isinstance(n_cells, _SCALAR)
    ):
        if not 0.0 <= current_a < _INF:
            raise _bad("current_a", "finite and >= 0 A", current_a)
        if not 0.0 < cell_voltage_v < _INF:
            raise _bad("cell_voltage_v", "finite and > 0 V", cell_voltage_v)
        if not (1 <= n_cells < _INF and n_cells == int(n_cells)):
            raise _bad("n_cells", "a whole number >= 1", n_cells)
        return float((cell_voltage_v - THERMONEUTRAL_V) * current_a * n_cells)
    i = _pos(current_a, "current_a", allow_zero=True)
    v = _pos(cell_voltage_v, "cell_voltage_v")
    n = np.asarray(n_cells, dtype=float)
    if not np.all((n >= 1.0) & (n < _INF) & (n == np.floor(n))):
        raise _bad("n_cells", "a whole number >= 1", n_cells)
    return _out((v - THERMONEUTRAL_V) * i * n)

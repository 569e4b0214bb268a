"""Thermophysics of water ice Ih: vapour pressure, latent heat, heat capacity, sublimation.

Pure functions, SI units. Each accepts a float (returns a plain float, computed with
``math``) or a numpy array (returns an ndarray; 0-d results come back as float). Array
arguments broadcast against each other. Non-physical input raises ``ValueError`` naming
the argument. Sources: Murphy & Koop (2005) QJRMS 131:1539 ("M&K"); Hertz-Knudsen-Langmuir
kinetics; Knudsen diffusion in a porous medium; Klinger (1980) J. Glaciol. 25:509.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims.checks import FloatOrArray
from sims.checks import bad as _bad
from sims.checks import out as _out
from sims.constants import M_H2O, R

EQ7 = "murphy_koop_eq7"
EQ2 = "murphy_koop_eq2"
FORMULAS = (EQ7, EQ2)
EQ7_MIN_K = 110.0  # lower validity limit of M&K eq. 7; below it the default joins eq. 2

_INF = math.inf
_SCALAR = (float, int)
_HKL_K = M_H2O / (2.0 * math.pi * R)  # sqrt(M / (2 pi R T)) = sqrt(_HKL_K / T)
_KN_K = 8.0 * R / (math.pi * M_H2O)  # mean molecular speed v = sqrt(_KN_K * T)


def _ln_p_eq7(t: float) -> float:
    return 9.550426 - 5723.265 / t + 3.53068 * math.log(t) - 0.00728332 * t


def _ln_p_eq2(t: float) -> float:
    return 28.9074 - 6143.7 / t


# ln of the factor that scales eq. 2 so that it meets eq. 7 at 110 K (about ln 1.297).
_LN_JOIN = _ln_p_eq7(EQ7_MIN_K) - _ln_p_eq2(EQ7_MIN_K)


def _temp_array(temp_k: ArrayLike) -> NDArray[np.float64]:
    t = np.asarray(temp_k, dtype=float)
    if not np.all((t > 0.0) & (t < _INF)):
        raise _bad("temp_k", "finite and > 0 K", temp_k)
    return t


# The array kernels' constants as 0-d arrays: numpy combines those with an array faster
# than Python floats (the same float64 arithmetic, so the same results to the bit).
_K = np.array


def vapor_pressure_array_pa(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel of the default :func:`vapor_pressure_pa` (eq. 7 joined to eq. 2
    below 110 K), Pa. For the plant's hot loop: ``t`` must already be finite and > 0 K."""
    ln7 = _EQ7_A - _EQ7_B / t + _EQ7_C * np.log(t) - _EQ7_D * t
    if not np.count_nonzero(t < EQ7_MIN_K):  # all in eq. 7's range: no join needed
        return np.exp(ln7)
    ln2 = 28.9074 + _LN_JOIN - 6143.7 / t
    return np.exp(np.where(t >= EQ7_MIN_K, ln7, ln2))


_EQ7_A, _EQ7_B, _EQ7_C, _EQ7_D = _K(9.550426), _K(5723.265), _K(3.53068), _K(0.00728332)
_EQ5 = tuple(_K(c) for c in (1.0 / 123.75, 46782.5, 35.8925, 0.07414, 541.5))


def latent_heat_array_j_per_mol(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel of :func:`latent_heat_j_per_mol` (M&K eq. 5), J/mol."""
    inv_t0, c0, c1, c2, c3 = _EQ5
    x = t * inv_t0
    return c0 + c1 * t - c2 * t * t + c3 * np.exp(-x * x)


_EQ5_KG = tuple(_K(c) for c in (-1.0 / 123.75**2, 46782.5 / M_H2O, 35.8925 / M_H2O,
                                0.07414 / M_H2O, 541.5 / M_H2O))


def latent_heat_array_j_kg(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel of :func:`latent_heat_j_per_kg` (M&K eq. 5 / M_H2O), J/kg,
    with the constants divided through (to rounding the same; fewer array operations)."""
    k, c0, c1, c2, c3 = _EQ5_KG
    tt = t * t
    return c0 + c1 * t - c2 * tt + c3 * np.exp(tt * k)


def vapor_pressure_pa(temp_k: float | ArrayLike, formula: str = EQ7) -> FloatOrArray:
    """Saturation vapour pressure over hexagonal ice, Pa.

    ``formula="murphy_koop_eq7"`` (default): M&K (2005) eq. 7,
    ``ln p = 9.550426 - 5723.265/T + 3.53068 ln T - 0.00728332 T``, valid T > 110 K.
    Below 110 K (outside eq. 7's range) this default switches to eq. 2 multiplied by the
    constant that makes it meet eq. 7 at 110 K (x ~1.297), so the result is continuous and
    monotonic from ~20 K to 300 K. This join is a project choice, not a published fit.

    ``formula="murphy_koop_eq2"``: M&K eq. 2, ``ln p = 28.9074 - 6143.7/T`` at all T.
    It agrees with eq. 7 within ~0.55 % from 180 K to 273 K, ~23 % lower at 110 K.

    Raises ValueError if temp_k is not finite and > 0, or formula is unknown.
    """
    if formula == EQ7:
        if isinstance(temp_k, _SCALAR):
            t = float(temp_k)
            if not 0.0 < t < _INF:
                raise _bad("temp_k", "finite and > 0 K", temp_k)
            if t >= EQ7_MIN_K:
                return math.exp(_ln_p_eq7(t))
            return math.exp(_ln_p_eq2(t) + _LN_JOIN)
        return _out(vapor_pressure_array_pa(_temp_array(temp_k)))
    if formula == EQ2:
        if isinstance(temp_k, _SCALAR):
            t = float(temp_k)
            if not 0.0 < t < _INF:
                raise _bad("temp_k", "finite and > 0 K", temp_k)
            return math.exp(_ln_p_eq2(t))
        ta = _temp_array(temp_k)
        return _out(np.exp(28.9074 - 6143.7 / ta))
    raise ValueError(f"formula must be one of {FORMULAS}; got {formula!r}")


def latent_heat_j_per_mol(temp_k: float | ArrayLike) -> FloatOrArray:
    """Latent heat of sublimation of ice, J/mol. M&K (2005) eq. 5, valid T > 30 K.

    ``L = 46782.5 + 35.8925 T - 0.07414 T^2 + 541.5 exp(-(T/123.75)^2)``
    (51059 J/mol at 273.16 K). Raises ValueError if temp_k is not finite and > 0.
    """
    if isinstance(temp_k, _SCALAR):
        t = float(temp_k)
        if not 0.0 < t < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        x = t / 123.75
        return 46782.5 + 35.8925 * t - 0.07414 * t * t + 541.5 * math.exp(-x * x)
    return _out(latent_heat_array_j_per_mol(_temp_array(temp_k)))


def latent_heat_j_per_kg(temp_k: float | ArrayLike) -> FloatOrArray:
    """Latent heat of sublimation of ice, J/kg: M&K eq. 5 divided by M_H2O (T > 30 K).

    About 2.834e6 J/kg at 273.16 K. Raises ValueError if temp_k is not finite and > 0.
    """
    return latent_heat_j_per_mol(temp_k) / M_H2O


def ice_heat_capacity_j_mol_k(temp_k: float | ArrayLike) -> FloatOrArray:
    """Molar heat capacity of ice Ih, J/(mol K). M&K (2005) eq. 4, valid T > 20 K.

    ``c = -2.0572 + 0.14644 T + 0.06163 T exp(-(T/125.1)^2)`` (38.09 at 273.15 K).
    The fit turns negative below ~9.2 K; callers must stay inside the validity range.
    Raises ValueError if temp_k is not finite and > 0.
    """
    if isinstance(temp_k, _SCALAR):
        t = float(temp_k)
        if not 0.0 < t < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        x = t / 125.1
        return -2.0572 + 0.14644 * t + 0.06163 * t * math.exp(-x * x)
    ta = _temp_array(temp_k)
    return _out(_c_ice_j_mol(ta))


def _c_ice_j_mol(t: NDArray[np.float64]) -> NDArray[np.float64]:
    return -2.0572 + 0.14644 * t + 0.06163 * t * np.exp(-((t / 125.1) ** 2))


def ice_heat_capacity_j_kg_k(temp_k: float | ArrayLike) -> FloatOrArray:
    """Specific heat capacity of ice Ih, J/(kg K): M&K eq. 4 divided by M_H2O (T > 20 K).

    Raises ValueError if temp_k is not finite and > 0.
    """
    return ice_heat_capacity_j_mol_k(temp_k) / M_H2O


def ice_heat_capacity_array_j_kg_k(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel of :func:`ice_heat_capacity_j_kg_k`, J/(kg K): ``t`` must
    already be finite and > 0 K."""
    return _c_ice_j_mol(t) / M_H2O


def ice_heat_capacity_scalar_j_kg_k(t: float) -> float:
    """Unchecked float kernel of :func:`ice_heat_capacity_j_kg_k`, J/(kg K), for the
    trap's per-cycle step: ``t`` must already be a finite float > 0 K."""
    x = t / 125.1
    return (-2.0572 + 0.14644 * t + 0.06163 * t * math.exp(-x * x)) / M_H2O


_EQ4_H = tuple(_K(c) for c in (125.1, -2.0572, 0.07322, 0.06163 * (125.1**2 / 2.0)))


def _h_ice_j_mol(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Antiderivative of M&K eq. 4, J/mol (arrays only)."""
    t0, c0, c1, c2 = _EQ4_H
    x2 = (t / t0) ** 2
    return c0 * t + c1 * t * t - c2 * np.exp(-x2)


def ice_enthalpy_array_j_kg(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel: enthalpy of ice (antiderivative of M&K eq. 4, arbitrary
    reference), J/kg. Differences of it are sensible heats."""
    return _h_ice_j_mol(t) / M_H2O


def ice_sensible_heat_j_kg(t_from_k: float | ArrayLike, t_to_k: float | ArrayLike) -> FloatOrArray:
    """Heat to warm 1 kg of ice Ih from ``t_from_k`` to ``t_to_k``, J/kg (negative: cooling).

    The exact integral of M&K (2005) eq. 4 (valid T > 20 K), divided by M_H2O.
    Raises ValueError unless both temperatures are finite and > 0.
    """
    a = _temp_array(t_from_k)
    b = _temp_array(t_to_k)
    return _out(np.asarray(ice_sensible_heat_array_j_kg(a, b)))


def ice_sensible_heat_array_j_kg(t_from: NDArray[np.float64],
                                 t_to: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel of :func:`ice_sensible_heat_j_kg`, J/kg."""
    return (_h_ice_j_mol(t_to) - _h_ice_j_mol(t_from)) / M_H2O


def ice_conductivity_w_m_k(temp_k: float | ArrayLike) -> FloatOrArray:
    """Thermal conductivity of crystalline ice Ih, W/(m K): ``k = 567 / T``.

    Source: Klinger (1980) J. Glaciol. 25:509, the fit commonly used in planetary thermal
    models; intended for crystalline ice from a few tens of K up to 273 K.
    Raises ValueError if temp_k is not finite and > 0.
    """
    if isinstance(temp_k, _SCALAR):
        t = float(temp_k)
        if not 0.0 < t < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        return 567.0 / t
    return _out(567.0 / _temp_array(temp_k))


def sublimation_flux_kg_m2_s(
    temp_k: float | ArrayLike,
    alpha: float | ArrayLike = 1.0,
    ambient_pressure_pa: float | ArrayLike = 0.0,
) -> FloatOrArray:
    """Net Hertz-Knudsen-Langmuir sublimation mass flux from a bare ice surface, kg/(m^2 s).

    ``J = alpha (p_sat(T) - p_amb) sqrt(M / (2 pi R T))`` with p_sat from the default
    ``vapor_pressure_pa`` (M&K eq. 7). Negative J means net deposition. alpha is the
    sublimation (evaporation) coefficient, ~1 for clean ice. Valid for a free surface
    (no regolith cover: use ``knudsen_diffusivity_m2_s`` for buried ice).
    Raises ValueError if temp_k is not finite and > 0, alpha is outside [0, 1], or
    ambient_pressure_pa is negative or not finite.
    """
    if (
        isinstance(temp_k, _SCALAR)
        and isinstance(alpha, _SCALAR)
        and isinstance(ambient_pressure_pa, _SCALAR)
    ):
        if not 0.0 <= alpha <= 1.0:
            raise _bad("alpha", "in [0, 1]", alpha)
        if not 0.0 <= ambient_pressure_pa < _INF:
            raise _bad("ambient_pressure_pa", "finite and >= 0 Pa", ambient_pressure_pa)
        p_sat = vapor_pressure_pa(temp_k)
        return alpha * (p_sat - ambient_pressure_pa) * math.sqrt(_HKL_K / temp_k)
    t = _temp_array(temp_k)
    a = np.asarray(alpha, dtype=float)
    p_amb = np.asarray(ambient_pressure_pa, dtype=float)
    if not np.all((a >= 0.0) & (a <= 1.0)):
        raise _bad("alpha", "in [0, 1]", alpha)
    if not np.all((p_amb >= 0.0) & (p_amb < _INF)):
        raise _bad("ambient_pressure_pa", "finite and >= 0 Pa", ambient_pressure_pa)
    p_sat = np.asarray(vapor_pressure_pa(t), dtype=float)
    return _out(a * (p_sat - p_amb) * np.sqrt(_HKL_K / t))


def vapor_pressure_scalar_pa(t: float) -> float:
    """Unchecked float kernel of the default :func:`vapor_pressure_pa`, Pa, for the
    plant's step: ``t`` a finite float > 0 K."""
    return math.exp(_ln_p_eq7(t)) if t >= EQ7_MIN_K else math.exp(_ln_p_eq2(t) + _LN_JOIN)


def latent_heat_scalar_j_kg(t: float) -> float:
    """Unchecked float kernel of :func:`latent_heat_j_per_kg`, J/kg, for the trap's
    per-deposit call: ``t`` a finite float > 0 K."""
    x = t / 123.75
    return (46782.5 + 35.8925 * t - 0.07414 * t * t + 541.5 * math.exp(-x * x)) / M_H2O


def sublimation_flux_scalar_kg_m2_s(t: float) -> float:
    """Unchecked float kernel of :func:`sublimation_flux_kg_m2_s` into vacuum (alpha 1,
    no ambient pressure), kg/(m^2 s), for the plant's step: ``t`` a finite float > 0 K."""
    return 1.0 * (vapor_pressure_scalar_pa(t) - 0.0) * math.sqrt(_HKL_K / t)


def vapor_density_kg_m3(pressure_pa: float | ArrayLike, temp_k: float | ArrayLike) -> FloatOrArray:
    """Mass density of water vapour as an ideal gas, kg/m^3: ``rho = p M / (R T)``.

    Valid at the low pressures of interest (< 1 kPa, deviation from ideality << 1 %).
    Raises ValueError if pressure_pa is negative or not finite, or temp_k is not finite and > 0.
    """
    if isinstance(pressure_pa, _SCALAR) and isinstance(temp_k, _SCALAR):
        if not 0.0 <= pressure_pa < _INF:
            raise _bad("pressure_pa", "finite and >= 0 Pa", pressure_pa)
        if not 0.0 < temp_k < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        return pressure_pa * M_H2O / (R * temp_k)
    p = np.asarray(pressure_pa, dtype=float)
    if not np.all((p >= 0.0) & (p < _INF)):
        raise _bad("pressure_pa", "finite and >= 0 Pa", pressure_pa)
    return _out(p * M_H2O / (R * _temp_array(temp_k)))


def knudsen_diffusivity_m2_s(
    temp_k: float | ArrayLike,
    pore_radius_m: float | ArrayLike,
    porosity: float | ArrayLike,
    tortuosity: float | ArrayLike,
) -> FloatOrArray:
    """Effective Knudsen diffusivity of water vapour through a porous layer, m^2/s.

    ``D = (porosity / tortuosity) * (2/3) r * sqrt(8 R T / (pi M))`` (free-molecular flow
    in pores of radius r: mean free path >> r, true for regolith in vacuum). Source: the
    textbook Knudsen coefficient of a cylindrical pore, D_K = (2/3) r v_mean (e.g. Cussler,
    Diffusion: Mass Transfer in Fluid Systems), scaled by porosity/tortuosity.
    Raises ValueError unless temp_k > 0, pore_radius_m > 0, 0 < porosity <= 1 and
    tortuosity >= 1 (all finite).
    """
    if (
        isinstance(temp_k, _SCALAR)
        and isinstance(pore_radius_m, _SCALAR)
        and isinstance(porosity, _SCALAR)
        and isinstance(tortuosity, _SCALAR)
    ):
        if not 0.0 < temp_k < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        if not 0.0 < pore_radius_m < _INF:
            raise _bad("pore_radius_m", "finite and > 0 m", pore_radius_m)
        if not 0.0 < porosity <= 1.0:
            raise _bad("porosity", "in (0, 1]", porosity)
        if not 1.0 <= tortuosity < _INF:
            raise _bad("tortuosity", "finite and >= 1", tortuosity)
        v = math.sqrt(_KN_K * temp_k)
        return (porosity / tortuosity) * (2.0 / 3.0) * pore_radius_m * v
    t = _temp_array(temp_k)
    r = np.asarray(pore_radius_m, dtype=float)
    phi = np.asarray(porosity, dtype=float)
    tau = np.asarray(tortuosity, dtype=float)
    if not np.all((r > 0.0) & (r < _INF)):
        raise _bad("pore_radius_m", "finite and > 0 m", pore_radius_m)
    if not np.all((phi > 0.0) & (phi <= 1.0)):
        raise _bad("porosity", "in (0, 1]", porosity)
    if not np.all((tau >= 1.0) & (tau < _INF)):
        raise _bad("tortuosity", "finite and >= 1", tortuosity)
    return _out((phi / tau) * (2.0 / 3.0) * r * np.sqrt(_KN_K * t))

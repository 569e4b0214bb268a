"""Thermophysical properties of lunar regolith, dry and with pore ice.

Dry properties: Hayne et al. (2017) JGR Planets 122:2371, appendix A. Pore-ice mixing:
Johansen (1975) frozen-soil conductivity model as summarised by Farouki (1981) CRREL
Monograph 81-1 (see ``icy_conductivity_w_m_k``). Pure functions, SI units. Each accepts
floats (returns a plain float, computed with ``math``) or numpy arrays (returns an ndarray;
0-d results come back as float); arrays broadcast. Bad input raises ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sims import icy_texture
from sims.checks import FloatOrArray
from sims.checks import bad as _bad
from sims.checks import out as _out
from sims.ice import ice_heat_capacity_j_kg_k

# Hayne et al. (2017) appendix A.
EMISSIVITY = 0.95  # infrared emissivity
KS = 7.4e-4  # surface contact conductivity, W/(m K)
KD = 3.4e-3  # deep contact conductivity, W/(m K)
H_M = 0.07  # e-folding scale of density and conductivity, m
CHI = 2.7  # radiative conductivity parameter at 350 K (dimensionless)
RHO_SURFACE = 1100.0  # bulk density at z = 0, kg/m^3
RHO_DEEP = 1800.0  # bulk density at depth, kg/m^3

# Pore-ice mixing model parameters. "Typical" engineering values, not published fits.
GRAIN_DENSITY_KG_M3 = 3100.0  # solid grain density of lunar regolith (typical)
GRAIN_CONDUCTIVITY_W_M_K = 1.5  # conductivity of solid lunar rock/glass grains (typical)
# Ice Ih density near 273 K (Petrenko & Whitworth 1999, Physics of Ice); ~1.5 % more at 100 K.
ICE_DENSITY_KG_M3 = 917.0
ICE_K_COEFF = 567.0  # ice conductivity k = 567/T W/(m K), Klinger (1980) J. Glaciol. 25:509

# Grain size (docs/physics.md, "Grain size"): Hayne et al.'s profile is taken to hold at
# this median grain diameter (lunar soils' median is ~40-130 um, Carrier et al. 1991,
# Lunar Sourcebook ch. 9; 60 um also gives the 20 um pore radius the model had before)
GRAIN_DIAMETER_REF_M = 60e-6

_INF = math.inf
_SCALAR = (float, int)
_DRHO = RHO_DEEP - RHO_SURFACE
_DK = KD - KS


def _arr(
    x: ArrayLike, name: str, lo: float, lo_incl: bool, hi: float = _INF, hi_incl: bool = False
) -> NDArray[np.float64]:
    """Convert to a float array and check its bounds (NaN and inf always fail)."""
    a = np.asarray(x, dtype=float)
    ok = ((a >= lo) if lo_incl else (a > lo)) & ((a <= hi) if hi_incl else (a < hi))
    if not np.all(ok & np.isfinite(a)):
        rule = f"{'>=' if lo_incl else '>'} {lo:g}"
        if hi != _INF:
            rule += f" and {'<=' if hi_incl else '<'} {hi:g}"
        raise _bad(name, f"finite and {rule}", x)
    return a


def heat_capacity_j_kg_k(temp_k: float | ArrayLike) -> FloatOrArray:
    """Specific heat of dry lunar regolith, J/(kg K). Hayne et al. (2017) app. A.

    ``c = -3.6125 + 2.7431 T + 2.3616e-3 T^2 - 1.2340e-5 T^3 + 8.9093e-9 T^4``, a fit to
    Hemingway et al. (1981) and Ledlow et al. (1992); good ~70-400 K, poorer below ~70 K
    (negative below ~1.3 K). Raises ValueError if temp_k is not finite and > 0.
    """
    t: FloatOrArray
    if isinstance(temp_k, _SCALAR):
        t = float(temp_k)
        if not 0.0 < t < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
    else:
        t = _arr(temp_k, "temp_k", 0.0, False)
    c = heat_capacity_array_j_kg_k(t)
    return c if isinstance(c, float) else _out(c)


def heat_capacity_array_j_kg_k(t: FloatOrArray) -> FloatOrArray:
    """Unchecked kernel of :func:`heat_capacity_j_kg_k`, J/(kg K), for the plant's hot
    loop: ``t`` must already be finite and > 0 K."""
    return -3.6125 + t * (2.7431 + t * (2.3616e-3 + t * (-1.2340e-5 + t * 8.9093e-9)))


def _h_poly(t: FloatOrArray) -> FloatOrArray:
    """Antiderivative of the Hayne et al. (2017) heat-capacity polynomial, J/kg."""
    return t * (-3.6125 + t * (2.7431 / 2 + t * (2.3616e-3 / 3 + t * (-1.2340e-5 / 4
                                                                       + t * 8.9093e-9 / 5))))


def enthalpy_array_j_kg(t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Unchecked array kernel: antiderivative of :func:`heat_capacity_j_kg_k` (arbitrary
    reference), J/kg. Differences of it are sensible heats."""
    return _h_poly(t)  # type: ignore[return-value]


def sensible_heat_j_kg(t_from_k: float | ArrayLike, t_to_k: float | ArrayLike) -> FloatOrArray:
    """Heat to warm 1 kg of dry regolith from ``t_from_k`` to ``t_to_k``, J/kg.

    The exact integral of :func:`heat_capacity_j_kg_k` (Hayne et al. 2017, app. A).
    Negative when cooling. Raises ValueError unless both temperatures are finite and > 0.
    """
    if isinstance(t_from_k, _SCALAR) and isinstance(t_to_k, _SCALAR):
        for name, v in (("t_from_k", t_from_k), ("t_to_k", t_to_k)):
            if not 0.0 < v < _INF:
                raise _bad(name, "finite and > 0 K", v)
        return float(_h_poly(float(t_to_k)) - _h_poly(float(t_from_k)))
    a = _arr(t_from_k, "t_from_k", 0.0, False)
    b = _arr(t_to_k, "t_to_k", 0.0, False)
    return _out(np.asarray(_h_poly(b) - _h_poly(a)))


def density_kg_m3(depth_m: float | ArrayLike) -> FloatOrArray:
    """Bulk density of dry regolith, kg/m^3: ``1800 - 700 exp(-z/H)``, H = 0.07 m.

    Hayne et al. (2017) app. A (fits Apollo core data; ~0-1 m). Raises ValueError if
    depth_m is negative or not finite.
    """
    if isinstance(depth_m, _SCALAR):
        if not 0.0 <= depth_m < _INF:
            raise _bad("depth_m", "finite and >= 0 m", depth_m)
        return RHO_DEEP - _DRHO * math.exp(-depth_m / H_M)
    z = _arr(depth_m, "depth_m", 0.0, True)
    return _out(RHO_DEEP - _DRHO * np.exp(-z / H_M))


def conductivity_w_m_k(temp_k: float | ArrayLike, depth_m: float | ArrayLike) -> FloatOrArray:
    """Thermal conductivity of dry regolith, W/(m K). Hayne et al. (2017) app. A.

    ``K = Kc(z) (1 + chi (T/350)^3)``, ``Kc(z) = Kd - (Kd - Ks) exp(-z/H)``, with
    Ks = 7.4e-4, Kd = 3.4e-3 W/(m K), chi = 2.7, H = 0.07 m. Valid ~20-400 K in vacuum.
    Raises ValueError if temp_k is not finite and > 0, or depth_m is negative / not finite.
    """
    if isinstance(temp_k, _SCALAR) and isinstance(depth_m, _SCALAR):
        if not 0.0 < temp_k < _INF:
            raise _bad("temp_k", "finite and > 0 K", temp_k)
        if not 0.0 <= depth_m < _INF:
            raise _bad("depth_m", "finite and >= 0 m", depth_m)
        x = temp_k / 350.0
        return (KD - _DK * math.exp(-depth_m / H_M)) * (1.0 + CHI * x * x * x)
    t = _arr(temp_k, "temp_k", 0.0, False)
    z = _arr(depth_m, "depth_m", 0.0, True)
    return _out((KD - _DK * np.exp(-z / H_M)) * (1.0 + CHI * (t / 350.0) ** 3))


def icy_heat_capacity_j_kg_k(
    temp_k: float | ArrayLike, ice_mass_fraction: float | ArrayLike
) -> FloatOrArray:
    """Specific heat of regolith with pore ice, J/(kg of mixture K).

    Mass-weighted mix: ``c = (1 - f) c_regolith(T) + f c_ice(T)``, f = m_ice/(m_ice + m_reg),
    with Hayne et al. (2017) for regolith and Murphy & Koop (2005) eq. 4 for ice.
    Raises ValueError if temp_k is not finite and > 0 or ice_mass_fraction is outside [0, 1].
    """
    if isinstance(ice_mass_fraction, _SCALAR) and isinstance(temp_k, _SCALAR):
        if not 0.0 <= ice_mass_fraction <= 1.0:
            raise _bad("ice_mass_fraction", "in [0, 1]", ice_mass_fraction)
        f = ice_mass_fraction
        return (1.0 - f) * heat_capacity_j_kg_k(temp_k) + f * ice_heat_capacity_j_kg_k(temp_k)
    fa = _arr(ice_mass_fraction, "ice_mass_fraction", 0.0, True, 1.0, hi_incl=True)
    c_reg = np.asarray(heat_capacity_j_kg_k(np.asarray(temp_k, dtype=float)))
    c_ice = np.asarray(ice_heat_capacity_j_kg_k(np.asarray(temp_k, dtype=float)))
    return _out((1.0 - fa) * c_reg + fa * c_ice)


def icy_conductivity_w_m_k(
    temp_k: float | ArrayLike,
    depth_m: float | ArrayLike,
    ice_mass_fraction: float | ArrayLike,
    grain_density_kg_m3: float | ArrayLike = GRAIN_DENSITY_KG_M3,
    texture: str = "cemented",
    grain_diameter_m: float = GRAIN_DIAMETER_REF_M,
) -> FloatOrArray:
    """Thermal conductivity of regolith with ice in its pores, W/(m K).

    ``texture`` (:mod:`sims.icy_texture`: granular, pore_filling, cemented) says how the
    ice sits among the grains; ``grain_diameter_m`` scales the dry conductivity's contact
    and radiative terms (:func:`grain_factors`). The law below is the ``cemented`` one.

    Pore ice (saturation S <= 1): Johansen (1975) frozen-soil model (Farouki 1981, CRREL
    Monograph 81-1): ``K = K_dry + S (K_sat - K_dry)`` (Kersten number = S), with ``K_dry``
    the Hayne et al. (2017) dry value and ``K_sat = k_g^(1-n) k_ice^n`` (geometric mean),
    n = 1 - rho_dry(z)/rho_grain, k_g = 1.5 W/(m K) ("typical"), k_ice = 567/T (Klinger
    1980), ``S = rho_dry f / ((1 - f) rho_ice n)``, rho_ice = 917 kg/m^3.
    Excess ice (S > 1, the grains no longer touch): geometric mean of saturated soil and
    pure ice by volume, ``K = K_sat^(1-x) k_ice^x``, x = volume fraction of ice beyond the
    pores (a project assumption). K_sat is floored at K_dry and k_ice at K_sat, so K equals
    the dry value at f = 0, is continuous, rises monotonically with f, and is k_ice at f = 1.
    Johansen's fit is for terrestrial soils near 250-273 K; using it at 40-200 K in vacuum
    is an assumption (see docs/physics.md).
    Raises ValueError for temp_k <= 0, depth_m < 0, f outside [0, 1], or a grain density
    not above the bulk density (all must be finite).
    """
    icy_texture.check(texture)
    if (
        isinstance(temp_k, _SCALAR)
        and isinstance(depth_m, _SCALAR)
        and isinstance(ice_mass_fraction, _SCALAR)
        and isinstance(grain_density_kg_m3, _SCALAR)
        and texture == "cemented" and grain_diameter_m == GRAIN_DIAMETER_REF_M
    ):
        f, rho_g = ice_mass_fraction, grain_density_kg_m3
        if not 0.0 <= f <= 1.0:
            raise _bad("ice_mass_fraction", "in [0, 1]", f)
        k_dry = conductivity_w_m_k(temp_k, depth_m)
        rho = RHO_DEEP - _DRHO * math.exp(-depth_m / H_M)
        if not rho < rho_g < _INF:
            raise _bad("grain_density_kg_m3", f"finite and > bulk density {rho:.1f}", rho_g)
        if f == 0.0:
            return k_dry
        n = 1.0 - rho / rho_g
        k_ice = ICE_K_COEFF / temp_k
        k_sat = max(GRAIN_CONDUCTIVITY_W_M_K ** (1.0 - n) * k_ice**n, k_dry)
        a = ICE_DENSITY_KG_M3 / rho
        pore = (1.0 - f) * a * n  # f at which the pores are just full, scaled
        if f <= pore:
            return k_dry + (f / pore) * (k_sat - k_dry)
        x = (f - pore) / (f + (1.0 - f) * a * (1.0 - n))
        return k_sat ** (1.0 - x) * max(k_ice, k_sat) ** x
    ta = _arr(temp_k, "temp_k", 0.0, False)
    z = _arr(depth_m, "depth_m", 0.0, True)
    fa = _arr(ice_mass_fraction, "ice_mass_fraction", 0.0, True, 1.0, hi_incl=True)
    rho_ga = np.asarray(grain_density_kg_m3, dtype=float)
    rhoa = RHO_DEEP - _DRHO * np.exp(-z / H_M)
    if not np.all((rho_ga > rhoa) & (rho_ga < _INF)):
        raise _bad("grain_density_kg_m3", "finite and > the bulk density", grain_density_kg_m3)
    terms = icy_conductivity_terms(z, rho_ga, grain_diameter_m, texture)
    return _out(icy_conductivity_array_w_m_k(ta, fa, terms))


def grain_factors(grain_diameter_m: float) -> tuple[float, float]:
    """Multipliers of Hayne et al.'s contact and radiative conductivity at the median
    grain diameter ``grain_diameter_m`` [m], relative to ``GRAIN_DIAMETER_REF_M``:
    contact ``(d/d0)^(-1/3)`` (the JKR contact radius over the grain radius, Gundlach &
    Blum 2013, Sakatani et al. 2017), radiative ``d/d0`` (radiation crosses the voids
    between grains: its conductivity scales with their size, ``8 sigma e T^3 d``-like).

    Raises:
        ValueError: unless ``grain_diameter_m`` is finite and > 0.
    """
    if not 0.0 < grain_diameter_m < _INF:
        raise _bad("grain_diameter_m", "finite and > 0 m", grain_diameter_m)
    x = grain_diameter_m / GRAIN_DIAMETER_REF_M
    return x ** (-1.0 / 3.0), x


def pore_radius_m(grain_diameter_m: float, porosity: float) -> float:
    """Effective pore radius [m] of a bed of grains of diameter ``grain_diameter_m`` at
    ``porosity``: twice the hydraulic radius, ``phi d / (3 (1 - phi))`` (Carman-Kozeny's
    hydraulic radius ``phi / ((1 - phi) S)``, grain surface per volume ``S = 6 / d``; 20 um
    for 60 um grains at 0.5).

    Raises:
        ValueError: unless ``grain_diameter_m`` > 0 and 0 < ``porosity`` < 1.
    """
    if not 0.0 < grain_diameter_m < _INF:
        raise _bad("grain_diameter_m", "finite and > 0 m", grain_diameter_m)
    if not 0.0 < porosity < 1.0:
        raise _bad("porosity", "in (0, 1)", porosity)
    return porosity * grain_diameter_m / (3.0 * (1.0 - porosity))


def icy_conductivity_terms(depth_m: FloatOrArray, grain_density_kg_m3: FloatOrArray = (
        GRAIN_DENSITY_KG_M3), grain_diameter_m: float = GRAIN_DIAMETER_REF_M,
        texture: str = "cemented") -> tuple[Any, ...]:
    """The depth-only terms of :func:`icy_conductivity_w_m_k` (unchecked), for
    :func:`icy_conductivity_array_w_m_k`: the contact conductivity ``Kc(z)`` at the grain
    size [W/(m K)], the porosity ``n``, the ice-to-bulk density ratio, ``k_g^(1-n)``
    [W/(m K)], the radiative parameter at the grain size and the ice texture
    (:data:`sims.icy_texture.TEXTURES`).

    Raises:
        ValueError: for a texture that is not one of those.
    """
    z = np.asarray(depth_m, dtype=float)
    rho_g = np.asarray(grain_density_kg_m3, dtype=float)
    contact, radiative = grain_factors(grain_diameter_m)
    k_c = (KD - _DK * np.exp(-z / H_M)) * contact
    rho = RHO_DEEP - _DRHO * np.exp(-z / H_M)
    n = 1.0 - rho / rho_g
    return (k_c, n, ICE_DENSITY_KG_M3 / rho, GRAIN_CONDUCTIVITY_W_M_K ** (1.0 - n),
            np.array(CHI * radiative / contact), icy_texture.check(texture))


def dry_conductivity_array_w_m_k(t: NDArray[np.float64],
                                 terms: tuple[FloatOrArray, ...]) -> NDArray[np.float64]:
    """:func:`icy_conductivity_array_w_m_k` with no ice (the Hayne et al. law), W/(m K):
    the same terms, the same arithmetic."""
    return terms[0] * (1.0 + terms[4] * (t / 350.0) ** 3)


def icy_conductivity_array_w_m_k(t: NDArray[np.float64], f: NDArray[np.float64],
                                 terms: tuple[Any, ...]) -> NDArray[np.float64]:
    """Unchecked array kernel of :func:`icy_conductivity_w_m_k`, W/(m K), given the depth
    terms from :func:`icy_conductivity_terms` (the texture among them): ``t`` finite and
    > 0 K, ``f`` in [0, 1]."""
    k_c, n, a, k_g_1n = terms[:4]
    texture = terms[5]
    k_dry = dry_conductivity_array_w_m_k(t, terms)
    k_ice = ICE_K_COEFF / t
    k_sat = np.maximum(k_g_1n * k_ice**n, k_dry)
    pore = (1.0 - f) * a * n
    in_pores = f <= pore
    if (np.count_nonzero(in_pores) == in_pores.size
            and np.count_nonzero(pore > 0.0) == np.size(pore)):  # pore ice only: usual
        return icy_texture.in_pores_w_m_k(texture, k_dry, k_sat, k_ice, f / pore, n, a)
    s = np.where(in_pores, f / np.where(pore > 0.0, pore, 1.0), 1.0)
    x = np.clip((f - pore) / (f + (1.0 - f) * a * (1.0 - n)), 0.0, 1.0)
    k_full = icy_texture.in_pores_w_m_k(texture, k_dry, k_sat, k_ice, 1.0, n, a)
    k_excess = k_full ** (1.0 - x) * np.maximum(k_ice, k_full) ** x
    return np.where(in_pores, icy_texture.in_pores_w_m_k(texture, k_dry, k_sat, k_ice, s, n, a),
                    k_excess)

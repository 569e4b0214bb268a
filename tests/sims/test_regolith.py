"""Tests for sims.regolith against Hayne et al. (2017) JGR Planets 122:2371, appendix A."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sims import ice, regolith


def test_exported_constants():
    """Hayne et al. (2017) appendix A parameter values."""
    assert regolith.EMISSIVITY == 0.95
    assert regolith.KS == 7.4e-4
    assert regolith.KD == 3.4e-3
    assert regolith.H_M == 0.07
    assert regolith.CHI == 2.7


@pytest.mark.parametrize(("temp_k", "expected"), [(100.0, 282.9), (250.0, 671.8)])
def test_heat_capacity(temp_k, expected):
    """Hayne et al. (2017) c_p polynomial: 282.9 J/(kg K) at 100 K, 671.8 at 250 K (rel 1e-3)."""
    assert regolith.heat_capacity_j_kg_k(temp_k) == pytest.approx(expected, rel=1e-3)


def test_heat_capacity_array_and_float():
    """Array in -> ndarray out, equal to scalar calls; float in -> float out."""
    arr = regolith.heat_capacity_j_kg_k(np.array([100.0, 250.0]))
    assert isinstance(arr, np.ndarray)
    assert arr[0] == pytest.approx(regolith.heat_capacity_j_kg_k(100.0), rel=1e-12)
    assert type(regolith.heat_capacity_j_kg_k(100)) is float


def test_deep_conductivity_350k():
    """Hayne et al. (2017): K = Kd (1 + chi) = 3.4e-3 x 3.7 = 1.258e-2 W/(m K) at 350 K, z >> H."""
    assert regolith.conductivity_w_m_k(350.0, 5.0) == pytest.approx(1.258e-2, rel=1e-4)


def test_surface_conductivity():
    """Hayne et al. (2017) at z = 0: K = Ks (1 + chi (T/350)^3); at 350 K 7.4e-4 x 3.7."""
    assert regolith.conductivity_w_m_k(350.0, 0.0) == pytest.approx(2.738e-3, rel=1e-4)
    k = regolith.conductivity_w_m_k(np.array([100.0, 350.0]), np.array([0.0, 5.0]))
    assert k[1] == pytest.approx(1.258e-2, rel=1e-4)


def test_density_profile():
    """Hayne et al. (2017): rho(H) = 1800 - 700/e = 1542.5 kg/m^3; 1100 at 0; 1800 deep."""
    assert regolith.density_kg_m3(0.07) == pytest.approx(1542.5, rel=1e-4)
    assert regolith.density_kg_m3(0.0) == pytest.approx(1100.0, rel=1e-12)
    assert regolith.density_kg_m3(np.array([10.0]))[0] == pytest.approx(1800.0, rel=1e-9)


def test_icy_heat_capacity_mass_weighted():
    """Mass-weighted mix (LCROSS 5.6 wt %, Colaprete et al. 2010) of Hayne c_p and M&K eq. 4."""
    f, t = 0.056, 100.0
    expected = (1 - f) * regolith.heat_capacity_j_kg_k(t) + f * ice.ice_heat_capacity_j_kg_k(t)
    assert regolith.icy_heat_capacity_j_kg_k(t, f) == pytest.approx(expected, rel=1e-12)
    assert regolith.icy_heat_capacity_j_kg_k(t, 0.0) == regolith.heat_capacity_j_kg_k(t)
    assert regolith.icy_heat_capacity_j_kg_k(t, 1.0) == pytest.approx(
        ice.ice_heat_capacity_j_kg_k(t), rel=1e-12
    )
    arr = regolith.icy_heat_capacity_j_kg_k(np.array([t, t]), np.array([0.0, f]))
    assert arr[1] == pytest.approx(expected, rel=1e-12)


def test_icy_conductivity_limits():
    """Mixing model: dry value at f = 0 (Hayne 2017); pure ice 567/T at f = 1 (Klinger 1980)."""
    assert regolith.icy_conductivity_w_m_k(100.0, 0.5, 0.0) == regolith.conductivity_w_m_k(
        100.0, 0.5
    )
    assert regolith.icy_conductivity_w_m_k(100.0, 0.5, 1.0) == pytest.approx(5.67, rel=1e-12)


def test_icy_conductivity_lcross_hand_value():
    """Johansen (1975) pore-ice model at 100 K, z = 0.5 m, f = 0.056. By hand:

    rho = 1800 - 700 e^(-0.5/0.07) = 1799.44; n = 1 - rho/3100 = 0.41953;
    S = rho f / ((1-f) 917 n) = 0.27747; Kc = 3.4e-3 - 2.66e-3 e^(-0.5/0.07) = 3.398e-3,
    K_dry = Kc (1 + 2.7 (100/350)^3) = 3.612e-3; K_sat = 1.5^0.58047 x 5.67^0.41953 = 2.6204;
    K = K_dry + S (K_sat - K_dry) = 0.7297 W/(m K).
    """
    assert regolith.icy_conductivity_w_m_k(100.0, 0.5, 0.056) == pytest.approx(0.7297, rel=1e-3)


@given(
    st.floats(min_value=25.0, max_value=300.0),
    st.floats(min_value=0.0, max_value=2.0),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_icy_conductivity_monotonic_in_ice(temp_k, depth_m, f1, f2):
    """K(f) never decreases with ice content and is never below the dry value."""
    lo, hi = min(f1, f2), max(f1, f2)
    k_lo = regolith.icy_conductivity_w_m_k(temp_k, depth_m, lo)
    k_hi = regolith.icy_conductivity_w_m_k(temp_k, depth_m, hi)
    assert k_lo <= k_hi * (1 + 1e-12)
    assert k_lo >= regolith.conductivity_w_m_k(temp_k, depth_m) * (1 - 1e-12)


def test_icy_conductivity_continuous_at_pore_filling():
    """Continuous where the pores fill (S = 1): pore-ice branch meets the excess-ice branch."""
    rho = regolith.density_kg_m3(0.5)
    n = 1 - rho / 3100.0
    f_sat = 917.0 * n / (rho + 917.0 * n)
    below = regolith.icy_conductivity_w_m_k(100.0, 0.5, f_sat - 1e-9)
    above = regolith.icy_conductivity_w_m_k(100.0, 0.5, f_sat + 1e-9)
    assert above == pytest.approx(below, rel=1e-6)
    f = np.array([0.0, 0.056, f_sat - 1e-9, f_sat + 1e-9, 0.5, 1.0])
    arr = regolith.icy_conductivity_w_m_k(np.full(6, 100.0), 0.5, f)
    for fi, ki in zip(f, arr, strict=True):
        assert regolith.icy_conductivity_w_m_k(100.0, 0.5, float(fi)) == pytest.approx(ki, rel=1e-9)
    assert np.all(np.diff(arr) > 0)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: regolith.heat_capacity_j_kg_k(0.0), "temp_k"),
        (lambda: regolith.density_kg_m3(-0.01), "depth_m"),
        (lambda: regolith.density_kg_m3(np.array([0.1, -1.0])), "depth_m"),
        (lambda: regolith.conductivity_w_m_k(100.0, -1.0), "depth_m"),
        (lambda: regolith.conductivity_w_m_k(-100.0, 1.0), "temp_k"),
        (lambda: regolith.icy_heat_capacity_j_kg_k(100.0, 1.2), "ice_mass_fraction"),
        (lambda: regolith.icy_heat_capacity_j_kg_k(np.array([100.0]), -0.1), "ice_mass_fraction"),
        (lambda: regolith.icy_conductivity_w_m_k(100.0, 0.1, -0.1), "ice_mass_fraction"),
        (lambda: regolith.icy_conductivity_w_m_k(100.0, 0.1, 0.05, 1000.0), "grain_density"),
        (lambda: regolith.icy_conductivity_w_m_k(math.nan, 0.1, 0.05), "temp_k"),
        (lambda: regolith.icy_conductivity_w_m_k(np.array([100.0]), 0.1, 1.5), "ice_mass_fraction"),
    ],
)
def test_bad_input_raises_naming_argument(call, name):
    """Non-physical input raises ValueError whose message names the argument."""
    with pytest.raises(ValueError, match=name):
        call()

"""The plant's unchecked fast paths give what the checked, documented functions give.

The hot loop of the plant calls kernels without argument checks (and compiled code,
sims/_kernels.c, for the sample's step); each must agree with the public function it
stands for: to the last bit where it is the same arithmetic, to rounding where constants
were folded.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sims import electrolysis, ice, ice_nodes, layer_nodes, power, regolith
from sims.params import HeaterParams, SampleParams
from sims.sample import Sample
from sims.tridiag import solve_conductance_network

T_K = np.linspace(20.0, 520.0, 501)


def test_ice_array_kernels_match_the_checked_functions() -> None:
    assert np.array_equal(ice.vapor_pressure_array_pa(T_K), ice.vapor_pressure_pa(T_K))
    warm = T_K[T_K >= ice.EQ7_MIN_K]  # (all above the join: eq. 7 alone)
    assert np.array_equal(ice.vapor_pressure_array_pa(warm), ice.vapor_pressure_pa(warm))
    assert np.array_equal(ice.ice_heat_capacity_array_j_kg_k(T_K),
                          ice.ice_heat_capacity_j_kg_k(T_K))
    assert np.array_equal(ice.ice_sensible_heat_array_j_kg(np.array(40.0), T_K),
                          ice.ice_sensible_heat_j_kg(40.0, T_K))
    np.testing.assert_allclose(ice.latent_heat_array_j_kg(T_K), ice.latent_heat_j_per_kg(T_K),
                               rtol=1e-14)


@pytest.mark.parametrize("t_k", [20.0, 40.0, 109.99, 110.0, 150.0, 273.15, 400.0])
def test_ice_scalar_kernels_match_the_checked_functions(t_k: float) -> None:
    assert ice.ice_heat_capacity_scalar_j_kg_k(t_k) == ice.ice_heat_capacity_j_kg_k(t_k)
    assert ice.sublimation_flux_scalar_kg_m2_s(t_k) == ice.sublimation_flux_kg_m2_s(t_k)
    assert ice.vapor_pressure_scalar_pa(t_k) == ice.vapor_pressure_pa(t_k)
    assert ice.latent_heat_scalar_j_kg(t_k) == ice.latent_heat_j_per_kg(t_k)


def test_regolith_kernels_match_the_checked_functions() -> None:
    assert np.array_equal(regolith.heat_capacity_array_j_kg_k(T_K),
                          regolith.heat_capacity_j_kg_k(T_K))
    terms = regolith.icy_conductivity_terms(0.5)
    for f in (0.0, 0.05, 0.2, 0.6, 1.0):  # dry, pore ice, pores full, excess ice, all ice
        frac = np.full(T_K.shape, f)
        assert np.array_equal(regolith.icy_conductivity_array_w_m_k(T_K, frac, terms),
                              regolith.icy_conductivity_w_m_k(T_K, 0.5, frac)), f
        assert float(regolith.icy_conductivity_array_w_m_k(T_K[100:101], frac[:1], terms)[0]) \
            == pytest.approx(regolith.icy_conductivity_w_m_k(float(T_K[100]), 0.5, f), rel=1e-12)
    # the sample's shortcut once it is dry: the icy law at no ice, to the bit, and Hayne's
    depth_m = np.linspace(0.0, 0.1, T_K.size)
    terms = regolith.icy_conductivity_terms(depth_m)
    dry = regolith.dry_conductivity_array_w_m_k(T_K, terms)
    assert np.array_equal(dry, regolith.icy_conductivity_array_w_m_k(T_K, 0.0 * T_K, terms))
    np.testing.assert_allclose(dry, regolith.conductivity_w_m_k(T_K, depth_m), rtol=1e-14)


@pytest.mark.parametrize("i_a_cm2", [0.0, 1e-3, 0.3, 1.0, 2.5])
@pytest.mark.parametrize("p_pa", [1.0, 1e3, 2e6])
def test_cell_voltage_kernel_matches_the_checked_model(i_a_cm2: float, p_pa: float) -> None:
    want = electrolysis.cell_voltage_v(i_a_cm2, 333.15, r_ohm_ohm_cm2=0.7, p_h2_pa=p_pa,
                                       p_o2_pa=p_pa / 2)
    assert electrolysis.cell_voltage_scalar_v(i_a_cm2, 333.15, 0.7, p_pa, p_pa / 2) == want
    kept = electrolysis.activation_scalar_v(i_a_cm2)  # (as the stack keeps it per current)
    assert electrolysis.cell_voltage_scalar_v(i_a_cm2, 333.15, 0.7, p_pa, p_pa / 2,
                                              kept) == want


@pytest.mark.parametrize("args", [
    (45.0, 12.0, 10.0, 5.0, 20.0), (30.0, 12.0, 25.0, 5.0, 20.0), (5.0, 12.0, 0.0, 5.0, 20.0),
    (45.0, 0.0, 0.0, 0.0, 0.0), (-1.0, 12.0, 3.0, 2.0, 1.0), (45.0, 12.0, 33.0, 0.0, 0.0),
])
def test_allocate_w_is_allocate_as_a_tuple(args: tuple[float, ...]) -> None:
    g = power.allocate(*args)
    assert power.allocate_w(*args) == (g.cryocooler_w, g.stack_fraction, g.trap_heater_w,
                                       g.heater_w, g.total_w, g.brownout)


def _dense(neg_g: np.ndarray, diag: np.ndarray) -> np.ndarray:
    return np.diag(diag) + np.diag(neg_g, 1) + np.diag(neg_g, -1)


@pytest.mark.parametrize("n", [2, 3, 31])
def test_conductance_network_solve_matches_a_dense_solve(n: int) -> None:
    """The Thomas sweep (sims._kernels.solve) on the sample's matrix shape (C/dt +
    conductance Laplacian) gives the dense solution, for one right-hand side and for the
    two of Sherman-Morrison."""
    rng = np.random.default_rng(n)
    g = rng.uniform(0.1, 1.0, n - 1)
    diag = rng.uniform(0.01, 0.5, n)
    diag[:-1] += g
    diag[1:] += g
    rhs = rng.normal(size=(2, n))
    before = (diag.copy(), rhs.copy())
    want = np.linalg.solve(_dense(-g, diag), rhs.T).T
    np.testing.assert_allclose(solve_conductance_network(-g, diag, rhs), want, rtol=1e-12)
    np.testing.assert_allclose(solve_conductance_network(-g, diag, rhs[1]), want[1],
                               rtol=1e-12)
    assert np.array_equal(diag, before[0]) and np.array_equal(rhs, before[1])  # untouched


def test_conductance_network_solve_says_what_is_wrong() -> None:
    with pytest.raises(FloatingPointError, match="singular"):
        solve_conductance_network(np.zeros(2), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="3 rows"):
        solve_conductance_network(np.zeros(3), np.ones(3), np.ones(3))


def test_clip_and_conditional_min_max_keep_nan_and_signed_zero() -> None:
    """The plant's hand-written min/max keep Python's builtins' results, NaN included."""
    from sims.plant import _clip

    for x in (-1.0, -0.0, 0.0, 0.5, 3.0, math.inf, -math.inf):
        assert math.copysign(1.0, _clip(x, 2.0)) == math.copysign(1.0, min(max(x, 0.0), 2.0))
        assert _clip(x, 2.0) == min(max(x, 0.0), 2.0)
    assert math.isnan(_clip(math.nan, 2.0)) == math.isnan(min(max(math.nan, 0.0), 2.0))


def test_ice_node_properties_match_the_checked_functions() -> None:
    """The eight functions of T and their product (sims._kernels.node_terms) give M&K
    eqs. 7 and 2 (as logarithms of p / sqrt T), 5 and the integral of 4 as sims.ice does,
    to rounding, and the Clapeyron slope factor B/T^2 - 1/(2T)."""
    props = ice_nodes.IceNodes(T_K.size).evaluate(T_K)
    np.testing.assert_allclose(np.exp(props[ice_nodes.LN_INV_SQRT_T]), 1.0 / np.sqrt(T_K),
                               rtol=1e-15)
    warm, cold = T_K >= ice.EQ7_MIN_K, T_K < ice.EQ7_MIN_K
    for row, where in ((ice_nodes.LN_P7_SQRT, warm), (ice_nodes.LN_P2_SQRT, cold)):
        np.testing.assert_allclose(np.exp(props[row][where]) * np.sqrt(T_K[where]),
                                   ice.vapor_pressure_pa(T_K[where]), rtol=1e-13)
    np.testing.assert_allclose(props[ice_nodes.LATENT_J_KG], ice.latent_heat_j_per_kg(T_K),
                               rtol=1e-14)
    # enthalpy: differences are sensible heats (its reference is arbitrary)
    h = props[ice_nodes.ENTHALPY_J_KG]
    np.testing.assert_allclose(h - h[0], ice.ice_sensible_heat_j_kg(T_K[0], T_K),
                               rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(props[ice_nodes.SLOPE_PER_K],
                               ice_nodes.CLAPEYRON_B_K / T_K**2 - 0.5 / T_K, rtol=1e-13)


def test_sublimation_law_is_hkl_of_each_layer_against_its_pore_vapour() -> None:
    """vapour_coefficients() (sims._kernels.rate_law) against sims.ice directly, across
    the 110 K join and with dry layers: a = W p_sat(T) sqrt(M / (2 pi R T)) (HKL over
    the layer's pore walls, W = A dz 2 phi / r_pore) and g = W at a layer that holds
    ice; a dry layer neither gives nor takes (0, 0) unless its pore vapour is above
    saturation (then it frosts: a and g as a wet one); the slope is a (B/T^2 - 1/(2T))
    (Clapeyron)."""
    from sims.constants import M_H2O, R

    s = Sample(SampleParams(), HeaterParams(), 300.0)
    s.temp_k = np.linspace(90.0, 330.0, s.temp_k.size)
    s.vapour_coefficients(0.0, 300.0)
    s.conduct(0.1, 0.0, 0.0, 1e-3, 0.0, 1e-4)
    ice_kg = s.ice_kg.copy()
    ice_kg[:3] = 0.0  # the top three layers dry
    s.ice_kg = ice_kg
    s.sublimate(np.zeros(ice_kg.size))  # (notes which layers hold ice)
    assert (s.temp_k[1:] < ice.EQ7_MIN_K).any() and (s.temp_k[4:] > ice.EQ7_MIN_K).any()
    t = s.temp_k[1:]
    hkl = ice.vapor_pressure_pa(t) * np.sqrt(M_H2O / (2.0 * np.pi * R * t))
    psi = s._psi.copy()
    psi[1:4] = (0.0, 2.0 * hkl[1], 0.5 * hkl[2])  # the second dry layer above saturation
    s._psi = psi
    a, g = s.vapour_coefficients(1e-6, 290.0)
    active = ice_kg > 0.0
    active[1] = True
    wall_m2 = s.area_m2 * s.dz_m * 2.0 * s.p.porosity / s.pore_radius_m
    np.testing.assert_allclose(a, np.where(active, wall_m2 * hkl, 0.0), rtol=1e-13)
    np.testing.assert_allclose(g, np.where(active, wall_m2, 0.0), rtol=1e-15)
    assert not a[[0, 2]].any() and not g[[0, 2]].any()
    slope = s._coef[2, 1:]
    np.testing.assert_allclose(slope, a * (ice_nodes.CLAPEYRON_B_K / t**2 - 0.5 / t),
                               rtol=1e-13)
    np.testing.assert_allclose(s._coef[3, 1:], slope * t, rtol=1e-15)
    assert not s.inert


def test_sample_ice_properties_follow_temperatures_changed_in_place() -> None:
    """sublimate() and the next vapour_coefficients() share one evaluation of the ice's
    properties per temperature array. A sublimation short of the prediction gives latent
    heat back, changing the temperatures in place: the coefficients that follow are those
    of a sample given the same temperatures afresh, to the bit."""
    s = Sample(SampleParams(), HeaterParams(), 300.0)
    s.temp_k = np.linspace(240.0, 330.0, s.temp_k.size)
    s.vapour_coefficients(1e-6, 300.0)
    out, _ = s.conduct(1.0, 5.0, 1e-7, 1e-3, 0.0, 1e-4)
    before = s.temp_k.copy()
    s.sublimate(out * 0.5)  # not what conduct() predicted: heat goes back in place
    assert not np.array_equal(s.temp_k, before)
    a, b = s.vapour_coefficients(1e-6, 300.0)
    fresh = copy.deepcopy(s)
    fresh.temp_k = s.temp_k.copy()  # a new array: nothing of the old evaluation is used
    a_ref, b_ref = fresh.vapour_coefficients(1e-6, 300.0)
    assert np.array_equal(a, a_ref) and np.array_equal(b, b_ref)


def test_layer_node_properties_match_the_checked_functions() -> None:
    """Eight functions of T and a coefficient table give the regolith's (Hayne et al.
    2017, app. A) and the ice's (M&K eq. 4) heat capacity and enthalpy, as sims.regolith
    and sims.ice do, to rounding."""
    props = layer_nodes.LayerNodes(T_K.size).evaluate(T_K)
    np.testing.assert_allclose(props[layer_nodes.CP_REGOLITH],
                               regolith.heat_capacity_j_kg_k(T_K), rtol=1e-14)
    np.testing.assert_allclose(props[layer_nodes.CP_ICE], ice.ice_heat_capacity_j_kg_k(T_K),
                               rtol=1e-14)
    np.testing.assert_allclose(props[layer_nodes.H_REGOLITH],
                               regolith.enthalpy_array_j_kg(T_K), rtol=1e-14, atol=1e-9)
    h_ice = props[layer_nodes.H_ICE]
    np.testing.assert_allclose(h_ice - h_ice[0], ice.ice_sensible_heat_j_kg(T_K[0], T_K),
                               rtol=1e-13, atol=1e-9)


def test_refreshed_capacities_are_those_of_the_checked_fits() -> None:
    """The capacities a refresh gives the solver (from layer_nodes) are the plate's and
    regolith plus ice by sims.regolith and sims.ice at the refresh temperatures; so is
    Sample.heat_capacity_j_k() at the current ones."""
    s = Sample(SampleParams(), HeaterParams(), 300.0)
    s.temp_k = np.linspace(150.0, 330.0, s.temp_k.size)
    s.vapour_coefficients(0.0, 300.0)
    s.conduct(1.0, 5.0, 0.0, 1e-3, 0.0, 1e-4)  # the first step refreshes

    def layers(t: np.ndarray) -> np.ndarray:
        return (s.regolith_kg * regolith.heat_capacity_j_kg_k(t)
                + s.ice_kg * ice.ice_heat_capacity_j_kg_k(t))

    assert s._cap_j_k[0] == HeaterParams().plate_heat_capacity_j_k
    np.testing.assert_allclose(s._cap_j_k[1:], layers(s._temp_at_refresh[1:]), rtol=1e-14)
    np.testing.assert_allclose(s.heat_capacity_j_k()[1:], layers(s.temp_k[1:]), rtol=1e-14)


def test_enthalpy_correction_is_the_exact_integrals_of_the_checked_fits() -> None:
    """At a refresh each layer moves to where the exact enthalpy change since the last
    refresh (sims.regolith / sims.ice integrals) equals the energy the solver gave it:
    the enthalpies cached at the last refresh give the same temperatures as evaluating
    the checked functions at both ends."""
    s = Sample(SampleParams(), HeaterParams(), 300.0)
    s.temp_k = np.linspace(150.0, 330.0, s.temp_k.size)
    s.vapour_coefficients(0.0, 300.0)
    for _ in range(12):  # past one refresh interval (10 s), with the plate heated
        s.conduct(1.0, 20.0, 0.0, 1e-3, 0.0, 1e-4)
    t_ref, t, cap = s._temp_at_refresh[1:], s.temp_k[1:].copy(), s._cap_j_k[1:]
    true_j = (s.regolith_kg * regolith.sensible_heat_j_kg(t_ref, t)
              + s.ice_kg * ice.ice_sensible_heat_j_kg(t_ref, t))
    layer_c = (s.regolith_kg * regolith.heat_capacity_j_kg_k(t)
               + s.ice_kg * ice.ice_heat_capacity_j_kg_k(t))
    expected = t - (true_j - cap * (t - t_ref)) / layer_c
    assert np.max(np.abs(t - t_ref)) > 1.0  # (the solver did move them)
    s._enthalpy_correction()
    np.testing.assert_allclose(s.temp_k[1:], expected, rtol=0, atol=1e-10)

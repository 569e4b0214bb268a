"""Tests for sims.electrolysis: Faraday's law, thermodynamics, PEM polarization model."""

import math

import numpy as np
import pytest

from sims import electrolysis as el
from sims.constants import F, R

T80 = 353.15  # 80 C, K


def test_coulombs_per_kg_water():
    """Faraday's law, 2 e- per H2O: 2 x 96485.332 / 0.01801528 = 1.0711e7 C/kg (rel 1e-4)."""
    assert el.coulombs_per_kg_water() == pytest.approx(1.0711e7, rel=1e-4)
    assert el.faraday_water_kg_per_c() == pytest.approx(1.0 / el.coulombs_per_kg_water(), rel=1e-12)


def test_product_masses():
    """Stoichiometry with IUPAC masses: 2.01588/18.01528 = 0.11190 kg H2 and 15.9994/18.01528
    = 0.88810 kg O2 per kg water (rel 1e-4); they sum to 1 because 2.01588 + 15.9994 = 18.01528.
    """
    assert el.h2_kg_per_kg_water() == pytest.approx(0.11190, rel=1e-4)
    assert el.o2_kg_per_kg_water() == pytest.approx(0.88810, rel=1e-4)
    assert el.h2_kg_per_kg_water() + el.o2_kg_per_kg_water() == pytest.approx(1.0, abs=1e-12)


def test_reversible_voltage_standard():
    """E_rev = 1.229 V at 298.15 K and 1 atm (Gibbs energy 237.1 kJ/mol / 2F); abs 1e-6."""
    assert el.reversible_voltage_v(298.15) == pytest.approx(1.229, abs=1e-6)
    assert type(el.reversible_voltage_v(298.15)) is float


def test_reversible_voltage_temperature_and_nernst():
    """-0.85 mV/K: 1.229 - 0.85e-3 x 55 = 1.18225 V at 80 C. Nernst at 298.15 K: a tenfold
    rise in p_H2 adds (RT/2F) ln 10 = 29.58 mV (the textbook 59/2 mV per decade).
    """
    assert el.reversible_voltage_v(T80) == pytest.approx(1.18225, abs=1e-6)
    dv = el.reversible_voltage_v(298.15, p_h2_pa=1013250.0) - el.reversible_voltage_v(298.15)
    assert dv == pytest.approx(0.02958, abs=2e-5)
    assert dv == pytest.approx(R * 298.15 / (2 * F) * math.log(10), rel=1e-9)
    arr = el.reversible_voltage_v(np.array([298.15, T80]), water_activity=np.array([1.0, 0.5]))
    assert arr[1] == pytest.approx(1.18225 + R * T80 / (2 * F) * math.log(2), abs=1e-9)


def test_thermoneutral():
    """Thermoneutral voltage 1.481 V at 25 C (HHV 285.8 kJ/mol / 2F)."""
    assert el.thermoneutral_voltage_v() == 1.481
    assert 285.83e3 / (2 * F) == pytest.approx(el.thermoneutral_voltage_v(), abs=1e-3)


def test_cell_voltage_operating_range():
    """Typical set at 80 C, 1-2 A/cm^2: 1.6-2.1 V, rising with current (PEM operating range
    1.4-2.3 V at 1-3 A/cm^2, project sources). By hand at 1 A/cm^2: 1.18225 + 0.02171
    asinh(5e6) + 0.01303 asinh(5) + 0.2 = 1.18225 + 0.3500 + 0.0301 + 0.2000 = 1.7624 V.
    """
    i = np.linspace(1.0, 2.0, 11)
    v = el.cell_voltage_v(i, T80)
    assert np.all((v > 1.6) & (v < 2.1))
    assert np.all(np.diff(v) > 0)
    assert el.cell_voltage_v(1.0, T80) == pytest.approx(1.7624, abs=2e-4)
    for ii, vi in zip(i, v, strict=True):
        assert el.cell_voltage_v(float(ii), T80) == pytest.approx(vi, rel=1e-12)


def test_cell_voltage_zero_current_is_reversible():
    """At i = 0 every overpotential vanishes: V = E_rev (asinh(0) = 0)."""
    assert el.cell_voltage_v(0.0, T80) == pytest.approx(el.reversible_voltage_v(T80), abs=1e-15)
    assert el.cell_voltage_v(0.0, T80, p_h2_pa=3e6) == pytest.approx(
        el.reversible_voltage_v(T80, p_h2_pa=3e6), abs=1e-15
    )


def test_faradaic_efficiency():
    """Faradaic efficiency >= 99 % from 0.5 A/cm^2 (project sources). With the typical 5 mA/cm^2
    crossover, (0.5 - 0.005)/0.5 = 0.990 exactly at 0.5 A/cm^2 and 0.995 at 1 A/cm^2.
    """
    assert el.faradaic_efficiency(0.5) == pytest.approx(0.99, abs=1e-12)
    assert el.faradaic_efficiency(0.5 + 1e-9) > 0.99
    assert el.faradaic_efficiency(1.0) == pytest.approx(0.995, abs=1e-12)
    assert el.faradaic_efficiency(0.0) == 0.0
    assert el.faradaic_efficiency(0.004) == 0.0
    arr = el.faradaic_efficiency(np.array([0.0, 0.005, 0.6, 2.0]))
    assert arr[0] == 0.0 and arr[1] == 0.0
    assert np.all(arr[2:] > 0.99)


def test_faradaic_efficiency_scalar_kernel_equals_the_checked_function():
    """The stack's unchecked per-cycle kernel gives the checked function's value to the
    bit, at, below and above the crossover, for the default and another crossover."""
    for i in (0.0, 0.004, 0.005, 0.0050001, 0.02, 0.5, 1.0, 2.5):
        assert el.faradaic_efficiency_scalar(i) == el.faradaic_efficiency(i)
        assert el.faradaic_efficiency_scalar(i, 0.01) == el.faradaic_efficiency(i, 0.01)


def test_heat_released():
    """Stack heat (V - 1.481) I n: 10 cells at 1.9 V, 100 A -> 0.419 x 100 x 10 = 419 W."""
    assert el.heat_released_w(100.0, 1.9, 10) == pytest.approx(419.0, rel=1e-9)
    assert el.heat_released_w(100.0, 1.4) < 0.0  # below thermoneutral the cell absorbs heat
    arr = el.heat_released_w(np.array([0.0, 100.0]), 1.9, 10)
    assert arr[1] == pytest.approx(419.0, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: el.cell_voltage_v(-0.1, T80), "current_density_a_cm2"),
        (lambda: el.cell_voltage_v(np.array([1.0, -1.0]), T80), "current_density_a_cm2"),
        (lambda: el.cell_voltage_v(1.0, 0.0), "temp_k"),
        (lambda: el.cell_voltage_v(1.0, T80, i0_anode_a_cm2=0.0), "i0_anode_a_cm2"),
        (lambda: el.cell_voltage_v(1.0, T80, tafel_cathode_v_dec=-0.03), "tafel_cathode"),
        (lambda: el.cell_voltage_v(1.0, T80, r_ohm_ohm_cm2=-0.1), "r_ohm_ohm_cm2"),
        (lambda: el.reversible_voltage_v(T80, p_h2_pa=0.0), "p_h2_pa"),
        (lambda: el.reversible_voltage_v(T80, water_activity=1.5), "water_activity"),
        (lambda: el.faradaic_efficiency(-1.0), "current_density_a_cm2"),
        (lambda: el.faradaic_efficiency(1.0, crossover_a_cm2=-1e-3), "crossover_a_cm2"),
        (lambda: el.heat_released_w(-1.0, 1.8), "current_a"),
        (lambda: el.heat_released_w(1.0, 1.8, n_cells=0), "n_cells"),
        (lambda: el.heat_released_w(1.0, 1.8, n_cells=2.5), "n_cells"),
    ],
)
def test_bad_input_raises_naming_argument(call, name):
    """Non-physical input raises ValueError whose message names the argument."""
    with pytest.raises(ValueError, match=name):
        call()

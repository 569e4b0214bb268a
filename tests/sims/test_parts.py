"""Unit tests of the plant's parts: SteppedClock, power.allocate, Trap and Stack."""

import math

import pytest

from common.clock import SteppedClock
from sims import electrolysis, power
from sims.constants import LATENT_FUSION_J_KG, M_H2, M_H2O, M_O2, F, R
from sims.params import ElectrolyzerParams, TrapParams
from sims.stack import Stack
from sims.trap import MELT_TEMP_K, Trap

# ---- SteppedClock -------------------------------------------------------------------------


def test_clock_starts_at_start_and_advances():
    c = SteppedClock()
    assert c.now_s() == 0.0
    assert c.advance(0.5) == 0.5
    assert c.now_s() == 0.5
    assert c.advance(2.0) == 2.5
    assert SteppedClock(100.0).now_s() == 100.0
    assert SteppedClock(100.0).advance(1.0) == 101.0


def test_clock_does_not_drift_over_a_million_ticks():
    """10 Hz for ~28 h: counting ticks gives 1e5 s exactly, where summing 0.1 would not."""
    c = SteppedClock()
    for _ in range(1_000_000):
        c.advance(0.1)
    assert c.now_s() == pytest.approx(1e5, abs=1e-9)
    naive = 0.0
    for _ in range(1_000):
        naive += 0.1
    assert naive != 100.0  # why the clock counts ticks (the comparison is meaningful)


def test_clock_changing_dt_keeps_time_continuous():
    c = SteppedClock()
    for _ in range(10):
        c.advance(0.1)
    for _ in range(5):
        c.advance(0.2)
    c.advance(0.1)
    assert c.now_s() == pytest.approx(2.1, abs=1e-12)
    for _ in range(1000):
        c.advance(0.1)
    assert c.now_s() == pytest.approx(102.1, abs=1e-9)


@pytest.mark.parametrize("dt_s", [0.0, -0.1, -1e-300, math.nan])
def test_clock_rejects_non_positive_dt(dt_s):
    c = SteppedClock(5.0)
    with pytest.raises(ValueError, match="dt_s"):
        c.advance(dt_s)
    assert c.now_s() == 5.0


def test_clock_rejects_negative_start():
    with pytest.raises(ValueError, match="start_s"):
        SteppedClock(-1.0)


# ---- power.allocate -------------------------------------------------------------------

# cap, (cryo, stack, trap heater, heater) asked -> (cryo, stack fraction, trap, heater), brownout
ALLOCATE_CASES = [
    # everything fits
    (45.0, (12.0, 20.0, 5.0, 8.0), (12.0, 1.0, 5.0, 8.0), False),
    (45.0, (0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), False),
    # exactly the cap is not a brownout
    (45.0, (12.0, 0.0, 3.0, 30.0), (12.0, 1.0, 3.0, 30.0), False),
    # heater (last) is cut first
    (45.0, (12.0, 0.0, 15.0, 30.0), (12.0, 1.0, 15.0, 18.0), True),
    # trap heater before the plate heater
    (20.0, (12.0, 0.0, 15.0, 30.0), (12.0, 1.0, 8.0, 0.0), True),
    # the stack keeps a fraction of its current, the heaters get nothing
    (45.0, (12.0, 66.0, 15.0, 30.0), (12.0, 0.5, 0.0, 0.0), True),
    # the cryocooler is all-or-nothing: cut whole, the rest share the cap
    (10.0, (12.0, 0.0, 4.0, 30.0), (0.0, 1.0, 4.0, 6.0), True),
    (10.0, (12.0, 20.0, 4.0, 30.0), (0.0, 0.5, 0.0, 0.0), True),
    # no cap at all
    (0.0, (12.0, 20.0, 4.0, 30.0), (0.0, 0.0, 0.0, 0.0), True),
    (0.0, (0.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), False),
    # the cryocooler first even when the stack asks more
    (30.0, (12.0, 36.0, 0.0, 0.0), (12.0, 0.5, 0.0, 0.0), True),
]


@pytest.mark.parametrize("cap, asked, granted, brownout", ALLOCATE_CASES)
def test_allocate_priority_order(cap, asked, granted, brownout):
    cryo, stack, trap, heater = asked
    g = power.allocate(cap, cryo, stack, trap, heater)
    assert g.cryocooler_w == pytest.approx(granted[0])
    assert g.stack_fraction == pytest.approx(granted[1])
    assert g.trap_heater_w == pytest.approx(granted[2])
    assert g.heater_w == pytest.approx(granted[3])
    assert g.brownout is brownout
    expected_total = granted[0] + stack * granted[1] + granted[2] + granted[3]
    assert g.total_w == pytest.approx(expected_total)
    assert g.total_w <= cap + 1e-9
    assert 0.0 <= g.stack_fraction <= 1.0


def test_allocate_never_exceeds_cap_on_a_grid():
    loads = [0.0, 1.0, 12.0, 33.3, 100.0]
    for cap in (0.0, 5.0, 12.0, 45.0, 150.0):
        for cryo in loads:
            for stack in loads:
                for trap in loads:
                    for heater in loads:
                        g = power.allocate(cap, cryo, stack, trap, heater)
                        asked = cryo + stack + trap + heater
                        assert g.total_w <= cap + 1e-9
                        assert g.brownout == (asked > cap)
                        assert g.cryocooler_w in (0.0, cryo)
                        assert 0.0 <= g.trap_heater_w <= trap
                        assert 0.0 <= g.heater_w <= heater
                        if not g.brownout:
                            assert g.total_w == pytest.approx(asked)


# ---- Trap -----------------------------------------------------------------------------


def _trap(**kw) -> Trap:
    base = {"parasitic_conductance_w_k": 0.0, "initial_temp_k": MELT_TEMP_K}
    return Trap(TrapParams(**(base | kw)), wall_temp_k=220.0)


def test_trap_holds_at_melting_point_while_ice_remains_and_conserves_water():
    """Ice Ih melts at 273.15 K at 1 atm (IAPWS R10-06): a heated trap warms to it, then
    holds there until the last ice has melted; ice + reservoir is constant throughout."""
    trap = _trap(initial_temp_k=250.0)
    trap.ice_kg = 2e-3
    trap.heater_power_w = 5.0
    held = 0
    for _ in range(2000):
        trap.step(1.0, 0.0)
        assert trap.ice_kg >= 0.0 and trap.reservoir_kg >= 0.0
        assert trap.ice_kg + trap.reservoir_kg == pytest.approx(2e-3, rel=1e-12)
        if trap.reservoir_kg == 0.0:
            assert trap.temp_k <= MELT_TEMP_K + 1e-9
        if trap.ice_kg > 0.0 and trap.reservoir_kg > 0.0:
            assert trap.temp_k == pytest.approx(MELT_TEMP_K, abs=1e-9)
            held += 1
        if trap.ice_kg == 0.0:
            break
    assert held > 50
    assert trap.ice_kg == 0.0
    assert trap.reservoir_kg == pytest.approx(2e-3, rel=1e-12)
    t_done = trap.temp_k
    trap.step(1.0, 0.0)
    assert trap.temp_k > t_done  # no ice left: the heater warms the trap again


def test_trap_latent_heat_of_fusion():
    """Melting m kg of ice at 0 C takes 333.55 kJ/kg x m (Feistel & Wagner 2006,
    IAPWS R10-06), within 1 %: heater energy minus the sensible heat left above 273.15 K."""
    m_kg = 0.01
    power_w, dt_s = 2.0, 1.0
    trap = _trap()
    trap.ice_kg = m_kg
    trap.heater_power_w = power_w
    steps = 0
    while trap.ice_kg > 0.0:
        trap.step(dt_s, 0.0)
        steps += 1
        assert steps < 10_000
    sensible_j = (trap.temp_k - MELT_TEMP_K) * trap.p.heat_capacity_j_k
    melt_j = power_w * dt_s * steps - sensible_j
    assert melt_j == pytest.approx(LATENT_FUSION_J_KG * m_kg, rel=0.01)
    assert trap.reservoir_kg == pytest.approx(m_kg, rel=1e-12)


def test_trap_does_not_melt_below_the_melting_point():
    trap = _trap(initial_temp_k=200.0)
    trap.ice_kg = 1e-3
    trap.heater_power_w = 1.0
    for _ in range(60):
        trap.step(1.0, 0.0)
    assert trap.temp_k < MELT_TEMP_K
    assert trap.reservoir_kg == 0.0
    assert trap.ice_kg == 1e-3


def test_trap_deposition_releases_latent_heat_of_sublimation():
    """Vapour freezing on the finger releases L_sub ~ 2.8 MJ/kg (Murphy & Koop 2005 eq. 5):
    1 mg on a 100 J/K trap at 120 K warms it by ~28 mK."""
    trap = _trap(initial_temp_k=120.0)
    trap.step(1.0, 1e-6)
    assert trap.ice_kg == 1e-6
    assert trap.temp_k - 120.0 == pytest.approx(2.84e6 * 1e-6 / 100.0, rel=0.03)


def test_cryocooler_lift_is_linear_between_floor_and_reference():
    p = TrapParams()
    trap = Trap(p, 220.0)
    trap.temp_k = p.cryo_ref_temp_k
    assert trap.lift_w() == 0.0  # off
    trap.cryo_on = True
    assert trap.lift_w() == pytest.approx(p.cryo_lift_w_at_ref)
    trap.temp_k = p.cryo_floor_temp_k
    assert trap.lift_w() == pytest.approx(0.0, abs=1e-12)
    trap.temp_k = 0.5 * (p.cryo_floor_temp_k + p.cryo_ref_temp_k)
    assert trap.lift_w() == pytest.approx(0.5 * p.cryo_lift_w_at_ref)
    trap.temp_k = p.cryo_floor_temp_k - 10.0
    assert trap.lift_w() == 0.0


def test_cryocooled_trap_settles_where_lift_balances_the_leak():
    """Energy balance G (T_wall - T) = lift(T) with lift linear from floor to reference."""
    p = TrapParams()
    trap = Trap(p, 220.0)
    trap.cryo_on = True
    slope = p.cryo_lift_w_at_ref / (p.cryo_ref_temp_k - p.cryo_floor_temp_k)
    g = p.parasitic_conductance_w_k
    t_eq = (g * 220.0 + slope * p.cryo_floor_temp_k) / (g + slope)
    for _ in range(3000):
        trap.step(10.0, 0.0)
    assert trap.temp_k == pytest.approx(t_eq, abs=0.1)
    assert trap.temp_k > p.cryo_floor_temp_k


# ---- Stack ----------------------------------------------------------------------------


@pytest.mark.parametrize("cells, current_a, dt_s", [(1, 10.0, 10.0), (3, 5.0, 2.0),
                                                     (1, 20.0, 0.1)])
def test_stack_faraday_law(cells, current_a, dt_s):
    """Faraday's law, 2 electrons per H2O: water split = Q eff M_H2O / (2 F), with
    Q = I dt n_cells (cells in series) and eff the faradaic efficiency."""
    p = ElectrolyzerParams(cells=cells)
    st = Stack(p)
    split = st.step(dt_s, current_a, 1.0)
    eff = electrolysis.faradaic_efficiency(current_a / p.active_area_cm2)
    assert 0.98 < eff < 1.0
    q = current_a * dt_s * cells
    assert split == pytest.approx(q * eff / (2.0 * F) * M_H2O, rel=1e-12)
    assert split == pytest.approx(q * eff * 18.01528e-3 / (2 * 96485.332), rel=1e-12)
    assert st.water_split_kg == split
    assert st.h2_kg + st.o2_kg == pytest.approx(split, rel=1e-12)
    assert st.h2_kg == pytest.approx(split * M_H2 / M_H2O, rel=1e-12)
    assert st.o2_kg / st.h2_kg == pytest.approx(M_O2 / 2.0 / M_H2, rel=1e-9)
    assert st.charge_c == pytest.approx(current_a * dt_s)
    assert st.current_a == current_a


def test_stack_splits_no_more_than_available():
    st = Stack(ElectrolyzerParams())
    split = st.step(100.0, 20.0, 1e-9)
    assert split == 1e-9
    assert st.water_split_kg == 1e-9
    assert st.h2_kg + st.o2_kg == pytest.approx(1e-9, rel=1e-12)


def test_stack_voltage_rises_with_current():
    """Polarization curve (Butler-Volmer activation + ohmic): V increases with i."""
    st = Stack(ElectrolyzerParams())
    currents = [0.0, 0.5, 2.0, 5.0, 10.0, 15.0, 20.0]
    volts = [st.cell_voltage_v(i) for i in currents]
    assert volts == sorted(volts)
    assert len(set(volts)) == len(volts)
    assert 1.4 < st.cell_voltage_v(15.0) < 2.3  # operating range 1.4-2.3 V (project sources)
    seen = []
    for i in (2.0, 10.0, 20.0):
        st.step(1.0, i, 1.0)
        seen.append(st.voltage_v)
    assert seen == sorted(seen) and seen[0] < seen[-1]
    st3 = Stack(ElectrolyzerParams(cells=3))
    st3.step(1.0, 10.0, 1.0)
    assert st3.voltage_v == pytest.approx(3.0 * Stack(ElectrolyzerParams()).cell_voltage_v(10.0))


def test_stack_open_circuit_voltage_is_nernst_at_tank_pressures():
    """E_rev at 60 C and the 1 kPa residual tank pressures (Nernst term, project sources)."""
    p = ElectrolyzerParams()
    st = Stack(p)
    expected = electrolysis.reversible_voltage_v(
        p.stack_temp_k, p.initial_tank_pressure_pa, p.initial_tank_pressure_pa
    )
    assert st.voltage_v == pytest.approx(expected, rel=1e-12)
    assert st.open_circuit_v() == pytest.approx(expected, rel=1e-12)


def test_stack_no_split_without_water():
    st = Stack(ElectrolyzerParams())
    ocv = st.voltage_v
    for water in (0.0, -1e-6):
        assert st.step(10.0, 15.0, water) == 0.0
    assert st.water_split_kg == 0.0
    assert st.h2_kg == 0.0 and st.o2_kg == 0.0
    assert st.current_a == 0.0
    assert st.charge_c == 0.0
    assert st.voltage_v == ocv


def test_stack_tanks_start_at_residual_pressure_and_follow_ideal_gas():
    """p V = n R T: each tank starts at the residual pressure and rises by
    (m/M) R T / V as gas is produced."""
    p = ElectrolyzerParams()
    st = Stack(p)
    assert st.h2_pressure_pa() == pytest.approx(p.initial_tank_pressure_pa, rel=1e-12)
    assert st.o2_pressure_pa() == pytest.approx(p.initial_tank_pressure_pa, rel=1e-12)
    st.step(100.0, 15.0, 1.0)
    rt = R * p.tank_temp_k
    assert st.h2_pressure_pa() == pytest.approx(
        p.initial_tank_pressure_pa + st.h2_kg / M_H2 * rt / p.h2_tank_volume_m3, rel=1e-9
    )
    assert st.o2_pressure_pa() == pytest.approx(
        p.initial_tank_pressure_pa + st.o2_kg / M_O2 * rt / p.o2_tank_volume_m3, rel=1e-9
    )
    assert st.h2_pressure_pa() > p.initial_tank_pressure_pa

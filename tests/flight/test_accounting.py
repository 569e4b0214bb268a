"""The payload's own accounting (flight/accounting.py) on synthetic readings and commands:
Faraday's law with the crossover current, the H2/O2 split by molar mass, the tanks by the
ideal-gas law, the energy per subsystem, the catch from the reservoir gauge, the yield
line per scoop, the trap mass inferred from the valve flow, and the OPS channels.

Every expected figure is computed here by hand from the constants it cites, not from
the module's own constants."""

from __future__ import annotations

import math
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.accounting import ENERGY_KEYS, Accountant
from flight.config import PayloadConfig

# CODATA 2018 (exact in the 2019 SI: e x N_A)
F = 96485.33212  # C/mol
R = 8.314462618  # J/(mol K)
# molar masses (IUPAC standard atomic weights: H 1.00794, O 15.9994) [kg/mol]
M_H2 = 2 * 1.00794e-3  # 2.01588 g/mol
M_O2 = 2 * 15.9994e-3  # 31.9988 g/mol
M_H2O = M_H2 + M_O2 / 2  # 18.01528 g/mol
DT = 0.1  # s (10 Hz)


def readings(**over: Any) -> dict[str, Any]:
    """Every sensor of the dictionary, at rest."""
    r: dict[str, Any] = {
        "heater_temp_k": 300.0, "sample_temp_k": 250.0, "chamber_pressure_pa": 0.0,
        "trap_temp_k": 120.0, "reservoir_mass_kg": 0.0, "h2_tank_pressure_pa": 1000.0,
        "o2_tank_pressure_pa": 1000.0, "stack_voltage_v": 1.2, "stack_current_a": 0.0,
        "bus_power_w": 0.0, "bus_cap_w": 45.0, "valve_open": False}
    assert set(r) == set(DICTIONARY.sensors)
    r.update(over)
    return r


def commands(**over: Any) -> dict[str, Any]:
    """Every actuator command of the dictionary, off (SAFE)."""
    c = dict(DICTIONARY.safe_commands)
    assert set(c) == set(DICTIONARY.actuators)
    c.update(over)
    return c


class Events(list[tuple[str, dict[str, Any]]]):
    def __call__(self, event: str, **fields: Any) -> None:
        self.append((event, fields))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [f for e, f in self if e == name]


def accountant(**payload: Any) -> tuple[Accountant, Events]:
    events = Events()
    return Accountant(PayloadConfig(**payload), DT, events), events


def run(acc: Accountant, n: int, r: dict[str, Any], last: dict[str, Any],
        t0: float = 0.0, state: str = "ELECTROLYZE") -> float:
    """``n`` cycles of the same readings and commands; returns the time after."""
    for i in range(n):
        acc.update(t0 + i * DT, state, r, last)
    return t0 + n * DT


# ---- Faraday ----------------------------------------------------------------------------

def test_faraday_water_split_with_the_crossover_current() -> None:
    acc, _ = accountant(crossover_current_a=0.05, stack_cells=1)
    r = readings(stack_current_a=12.0, stack_voltage_v=1.9, bus_power_w=12 * 1.9)
    run(acc, 10_000, r, commands(electrolyzer_current_a=12.0))  # 1000 s at 12 A
    # (12 - 0.05) A x 1000 s = 11950 C; 2 electrons per molecule:
    # 11950 C / (2 x 96485.33212 C/mol) = 0.0619265 mol x 18.01528 g/mol = 1.115623 g
    by_hand = 11950.0 * 0.01801528 / (2 * 96485.33212)
    assert by_hand == pytest.approx(1.115623e-3, rel=1e-6)
    v = acc.values(r)
    assert v["water_electrolyzed_kg"] == pytest.approx(by_hand, rel=1e-9)
    # split by molar mass: H2O -> H2 + 1/2 O2
    assert v["h2_produced_kg"] == pytest.approx(by_hand * M_H2 / M_H2O, rel=1e-9)
    assert v["o2_produced_kg"] == pytest.approx(by_hand * (M_O2 / 2) / M_H2O, rel=1e-9)
    assert v["h2_produced_kg"] == pytest.approx(0.111898 * by_hand, rel=1e-5)
    assert v["h2_produced_kg"] + v["o2_produced_kg"] == pytest.approx(by_hand, rel=1e-12)
    # and in moles: two H2 for each O2
    assert (v["h2_produced_kg"] / M_H2) / (v["o2_produced_kg"] / M_O2) == pytest.approx(2.0)


def test_faraday_counts_cells_in_series_and_nothing_below_the_crossover() -> None:
    acc, _ = accountant(crossover_current_a=0.05, stack_cells=3)
    run(acc, 100, readings(stack_current_a=2.05), commands())  # 10 s
    assert acc.split_kg == pytest.approx(3 * 2.0 * 10.0 * M_H2O / (2 * F), rel=1e-9)
    acc2, _ = accountant(crossover_current_a=0.05)
    for amps in (0.04, 0.05, 0.0, -1.0, float("nan"), None):
        run(acc2, 10, readings(stack_current_a=amps), commands())
    assert acc2.split_kg == 0.0  # at or below the crossover, or no reading: nothing split


# ---- the tanks by the ideal-gas law -----------------------------------------------------

def test_tank_masses_from_pressure_rises() -> None:
    acc, _ = accountant(h2_tank_volume_m3=5.0e-3, o2_tank_volume_m3=2.5e-3, tank_temp_k=293.15)
    acc.update(0.0, "IDLE", readings(h2_tank_pressure_pa=1000.0, o2_tank_pressure_pa=2000.0),
               commands())  # the first reading is the baseline p0
    r = readings(h2_tank_pressure_pa=101_000.0, o2_tank_pressure_pa=52_000.0)
    acc.update(0.1, "ELECTROLYZE", r, commands())
    v = acc.values(r)
    # m = dp V M / (R T): 1e5 Pa x 5e-3 m3 x 2.01588e-3 kg/mol / (8.314462618 x 293.15)
    h2 = 1.0e5 * 5.0e-3 * 2.01588e-3 / (8.314462618 * 293.15)
    o2 = 5.0e4 * 2.5e-3 * 31.9988e-3 / (8.314462618 * 293.15)
    assert h2 == pytest.approx(4.1355e-4, rel=1e-4) and o2 == pytest.approx(1.64117e-3, rel=1e-4)
    assert v["h2_tank_kg"] == pytest.approx(h2, rel=1e-9)
    assert v["o2_tank_kg"] == pytest.approx(o2, rel=1e-9)
    # a failed tank reading: that tank's last good figure stands (a LOAD_SAMPLE in that
    # cycle must not take "nothing" as the next scoop's base), the other reads on
    r_bad = readings(h2_tank_pressure_pa=float("nan"), o2_tank_pressure_pa=62_000.0)
    v = acc.values(r_bad)
    assert v["h2_tank_kg"] == pytest.approx(h2, rel=1e-9)
    assert v["o2_tank_kg"] == pytest.approx(o2 * 6.0 / 5.0, rel=1e-9)


def test_no_tank_figure_before_a_valid_baseline() -> None:
    acc, _ = accountant()
    r = readings(h2_tank_pressure_pa=None, o2_tank_pressure_pa=5000.0)
    acc.update(0.0, "IDLE", r, commands())
    v = acc.values(r)
    assert v["h2_tank_kg"] is None and v["o2_tank_kg"] is None
    acc.update(0.1, "IDLE", readings(h2_tank_pressure_pa=3000.0, o2_tank_pressure_pa=4000.0),
               commands())  # the first valid pair is the baseline
    v = acc.values(readings(h2_tank_pressure_pa=3000.0, o2_tank_pressure_pa=4000.0))
    assert v["h2_tank_kg"] == 0.0 and v["o2_tank_kg"] == 0.0


# ---- energy per subsystem ---------------------------------------------------------------

def test_energy_per_subsystem() -> None:
    acc, _ = accountant(cryocooler_power_w=12.0)
    r = readings(bus_power_w=60.0, stack_voltage_v=2.0, stack_current_a=5.0)
    last = commands(heater_enabled=True, heater_power_w=20.0, cryocooler_on=True,
                    trap_heater_enabled=True, trap_heater_power_w=7.5)
    run(acc, 1000, r, last)  # 100 s
    e = acc.values(r)
    assert e["energy_bus_j"] == pytest.approx(60.0 * 100, rel=1e-9)
    assert e["energy_heater_j"] == pytest.approx(20.0 * 100, rel=1e-9)
    assert e["energy_cryocooler_j"] == pytest.approx(12.0 * 100, rel=1e-9)  # rated draw
    assert e["energy_trap_heater_j"] == pytest.approx(7.5 * 100, rel=1e-9)
    assert e["energy_electrolyzer_j"] == pytest.approx(2.0 * 5.0 * 100, rel=1e-9)  # V x I
    # avionics: the bus less the rest, 60 - 20 - 12 - 7.5 - 10 = 10.5 W
    assert e["energy_avionics_j"] == pytest.approx(10.5 * 100, rel=1e-9)
    assert sum(e[k] for k in ENERGY_KEYS if k != "energy_bus_j") == \
        pytest.approx(e["energy_bus_j"], rel=1e-9)


def test_a_heater_counts_only_while_its_load_switch_is_closed() -> None:
    acc, _ = accountant()
    r = readings(bus_power_w=5.0)
    # commanded power with the switch open: nothing into the heaters
    run(acc, 100, r, commands(heater_enabled=False, heater_power_w=20.0,
                              trap_heater_enabled=False, trap_heater_power_w=12.0,
                              cryocooler_on=False))
    e = acc.values(r)
    assert e["energy_heater_j"] == 0.0 and e["energy_trap_heater_j"] == 0.0
    assert e["energy_cryocooler_j"] == 0.0 and e["energy_electrolyzer_j"] == 0.0
    assert e["energy_avionics_j"] == pytest.approx(5.0 * 10, rel=1e-9)  # all of the bus
    # the switch closed: the commanded power counts
    run(acc, 100, r, commands(heater_enabled=True, heater_power_w=3.0))
    assert acc.values(r)["energy_heater_j"] == pytest.approx(3.0 * 10, rel=1e-9)


def test_the_commands_of_the_last_cycle_pair_with_the_readings_of_this_one() -> None:
    acc, _ = accountant()
    acc.update(0.0, "EXTRACT_HEAT", readings(bus_power_w=0.0), commands())
    acc.update(0.1, "EXTRACT_HEAT", readings(bus_power_w=25.0),
               commands(heater_enabled=True, heater_power_w=25.0))
    e = acc.values(readings())
    assert e["energy_heater_j"] == pytest.approx(2.5) and e["energy_bus_j"] == pytest.approx(2.5)
    assert e["energy_avionics_j"] == pytest.approx(0.0, abs=1e-12)


def test_a_failed_bus_reading_adds_no_bus_or_avionics_energy() -> None:
    acc, _ = accountant()
    last = commands(heater_enabled=True, heater_power_w=10.0)
    for bus in (float("nan"), None):
        acc.update(0.0, "EXTRACT_HEAT", readings(bus_power_w=bus), last)
    e = acc.values(readings())
    assert e["energy_bus_j"] == 0.0 and e["energy_avionics_j"] == 0.0
    assert e["energy_heater_j"] == pytest.approx(2.0)  # the heater's still counts


# ---- the catch and the yield line -------------------------------------------------------

def scoop(acc: Accountant, t0: float, level0: float, catch: float, amps: float = 2.05,
          electrolyze_n: int = 1000) -> tuple[float, dict[str, Any]]:
    """One scoop: the gauge at ``level0``, the melt raises it by ``catch``; then
    electrolysis at ``amps`` for ``electrolyze_n`` cycles. Returns the time after and
    the last readings."""
    t = run(acc, 10, readings(reservoir_mass_kg=level0, bus_power_w=37.0),
            commands(heater_enabled=True, heater_power_w=25.0, cryocooler_on=True),
            t0, "EXTRACT_HEAT")
    r = readings(reservoir_mass_kg=level0 + catch)
    t = run(acc, 10, r, commands(trap_heater_enabled=True, trap_heater_power_w=12.0), t,
            "TRANSFER")
    acc.state_changed(t, "TRANSFER", "ELECTROLYZE", r)
    r = readings(reservoir_mass_kg=level0 + catch, stack_current_a=amps, stack_voltage_v=2.0,
                 bus_power_w=2.0 * amps)
    t = run(acc, electrolyze_n, r, commands(electrolyzer_current_a=amps), t)
    return t, r


def test_the_catch_is_the_gauge_on_entering_electrolyze_and_the_line_closes_on_idle() -> None:
    acc, events = accountant(crossover_current_a=0.05)
    level0, catch = 2.0e-5, 1.2e-3
    t, r = scoop(acc, 0.0, level0, catch)
    line = acc.lines[-1]
    assert line.completed_s is None and line.water_captured_kg == pytest.approx(catch)
    # the gauge drops as the stack splits water: the catch stays what it read on entry
    r_low = dict(r, reservoir_mass_kg=1.0e-4)
    assert acc.values(r_low)["water_captured_kg"] == pytest.approx(catch)
    acc.state_changed(t, "ELECTROLYZE", "IDLE", r_low)
    (done,) = events.named("scoop_complete")
    split = 2.0 * 100.0 * M_H2O / (2 * F)  # (2.05 - 0.05) A x 100 s
    assert done == {"scoop": 1, "water_captured_kg": pytest.approx(catch),
                    "water_electrolyzed_kg": pytest.approx(split, rel=1e-9),
                    "h2_produced_kg": pytest.approx(split * M_H2 / M_H2O, rel=1e-9),
                    "o2_produced_kg": pytest.approx(split * (M_O2 / 2) / M_H2O, rel=1e-9)}
    assert acc.lines[-1].completed_s == t
    v = acc.values(r_low)
    assert v["scoop"] == 1 and v["water_captured_kg"] == pytest.approx(catch)
    # other moves of the chart do not gauge or close anything
    acc.state_changed(t, "IDLE", "EXTRACT_HEAT", r)
    assert len(events.named("scoop_complete")) == 1


def test_sample_loaded_starts_a_line_of_differences_from_the_previous_totals() -> None:
    acc, events = accountant(crossover_current_a=0.05)
    t, r = scoop(acc, 0.0, 0.0, 1.0e-3, amps=2.05)
    acc.state_changed(t, "ELECTROLYZE", "IDLE", r)
    totals1 = dict(acc.energy_j)
    split1 = acc.split_kg
    r_idle = readings(reservoir_mass_kg=1.5e-4, h2_tank_pressure_pa=5000.0,
                      o2_tank_pressure_pa=4000.0)
    acc.sample_loaded(2, t, r_idle)
    assert acc.scoop == 2 and [ln.scoop for ln in acc.lines] == [1, 2]
    assert acc.lines[-1].loaded_s == t
    t2, r2 = scoop(acc, t, 1.5e-4, 8.0e-4, amps=3.05, electrolyze_n=500)
    r2 = dict(r2, h2_tank_pressure_pa=9000.0, o2_tank_pressure_pa=6000.0)
    acc.state_changed(t2, "ELECTROLYZE", "IDLE", r2)
    line2 = acc.lines[-1]
    assert line2.scoop == 2 and line2.completed_s == t2
    assert line2.water_captured_kg == pytest.approx(8.0e-4)
    split2 = 3.0 * 50.0 * M_H2O / (2 * F)
    assert line2.water_electrolyzed_kg == pytest.approx(split2, rel=1e-9)
    assert acc.split_kg == pytest.approx(split1 + split2, rel=1e-9)
    assert line2.h2_produced_kg == pytest.approx(split2 * M_H2 / M_H2O, rel=1e-9)
    for k in ENERGY_KEYS:
        assert line2.energy_j[k] == pytest.approx(acc.energy_j[k] - totals1[k], abs=1e-6)
    assert line2.energy_j["energy_electrolyzer_j"] == pytest.approx(2.0 * 3.05 * 50.0)
    # the tanks: the rise over the scoop only (from the pressures when it was loaded)
    rt = R * 293.15
    assert line2.h2_tank_kg == pytest.approx(4000.0 * 5.0e-3 * M_H2 / rt, rel=1e-6)
    assert line2.o2_tank_kg == pytest.approx(2000.0 * 2.5e-3 * M_O2 / rt, rel=1e-6)
    # the run's totals: both scoops
    v = acc.values(r2)
    assert v["scoop"] == 2
    assert v["water_captured_kg"] == pytest.approx(1.0e-3 + 8.0e-4)
    (first, second) = events.named("scoop_complete")
    assert first["scoop"] == 1 and second["scoop"] == 2
    assert second["water_electrolyzed_kg"] == pytest.approx(split2, rel=1e-9)
    # the summary: both lines, completed
    s = acc.summary(r2)
    assert [ln["scoop"] for ln in s["scoops"]] == [1, 2]
    assert s["scoops"][1]["water_captured_kg"] == pytest.approx(8.0e-4)
    assert s["scoops"][1]["payload_j_per_kg"] == pytest.approx(
        line2.energy_j["energy_bus_j"] / 8.0e-4)
    assert s["totals"] == v


def test_an_unfinished_scoop_line_in_the_summary() -> None:
    acc, events = accountant(crossover_current_a=0.05)
    t, r = scoop(acc, 0.0, 0.0, 6.0e-4, amps=1.05, electrolyze_n=200)
    s = acc.summary(r)  # still in ELECTROLYZE: the line as it stands
    (line,) = s["scoops"]
    assert line["scoop"] == 1 and line["completed_s"] is None
    assert line["water_captured_kg"] == pytest.approx(6.0e-4)
    assert line["water_electrolyzed_kg"] == pytest.approx(1.0 * 20.0 * M_H2O / (2 * F), rel=1e-9)
    assert line["energy_j"]["energy_electrolyzer_j"] == pytest.approx(2.0 * 1.05 * 20.0)
    assert line["heater_j_per_kg"] == pytest.approx(line["energy_j"]["energy_heater_j"] / 6.0e-4)
    assert events.named("scoop_complete") == []  # nothing closed
    assert acc.lines[-1].completed_s is None  # the summary does not close it either
    # a fresh scoop now (SAFE, RECOVER, LOAD_SAMPLE): the unfinished line keeps its
    # figures so far, and the catch counts in the run's total
    acc.sample_loaded(2, t, r)
    s = acc.summary(r)
    assert [ln["scoop"] for ln in s["scoops"]] == [1, 2]
    assert s["scoops"][0]["completed_s"] is None
    assert s["scoops"][0]["water_captured_kg"] == pytest.approx(6.0e-4)
    assert s["scoops"][1]["water_captured_kg"] == 0.0
    assert s["totals"]["water_captured_kg"] == pytest.approx(6.0e-4)


def test_before_anything_is_captured_the_per_kg_figures_are_none() -> None:
    acc, _ = accountant()
    acc.update(0.0, "IDLE", readings(), commands())
    (line,) = acc.summary(readings())["scoops"]
    assert line["heater_j_per_kg"] is None and line["payload_j_per_kg"] is None
    assert line["water_captured_kg"] == 0.0


# ---- the trap mass inferred from the valve flow -----------------------------------------

def test_the_trap_mass_is_inferred_from_effusion_while_the_gauge_reads_nothing() -> None:
    acc, _ = accountant(valve_diameter_m=0.01, chamber_gas_temp_k=220.0)
    p = 10.0  # Pa
    r_open = readings(valve_open=True, chamber_pressure_pa=p, reservoir_mass_kg=0.0)
    run(acc, 3000, r_open, commands(valve_open=True), 0.0, "EXTRACT_CAPTURE")  # 300 s
    # free-molecular effusion: m' = p A sqrt(M / (2 pi R T))
    area = math.pi * 0.01 ** 2 / 4  # 7.853981634e-5 m2
    flux = math.sqrt(0.01801528 / (2 * math.pi * 8.314462618 * 220.0))  # s/m
    assert area * flux == pytest.approx(9.8331e-8, rel=1e-4)  # kg/(s Pa)
    expected = p * area * flux * 300.0
    v = acc.values(r_open)
    assert v["water_captured_kg"] == pytest.approx(expected, rel=1e-9)
    # the valve closed (its reading), or no pressure: nothing more flows
    run(acc, 100, readings(valve_open=False, chamber_pressure_pa=p), commands(), 300.0,
        "EXTRACT_CAPTURE")
    run(acc, 100, readings(valve_open=True, chamber_pressure_pa=float("nan")), commands(),
        310.0, "EXTRACT_CAPTURE")
    assert acc.values(readings())["water_captured_kg"] == pytest.approx(expected, rel=1e-9)
    # the gauge's rise counts once it is the larger figure; on entering ELECTROLYZE the
    # gauge is the catch
    assert acc.values(readings(reservoir_mass_kg=1.0))["water_captured_kg"] == 1.0
    acc.state_changed(320.0, "TRANSFER", "ELECTROLYZE", readings(reservoir_mass_kg=2.0e-4))
    assert acc.values(readings(reservoir_mass_kg=1.0e-5))["water_captured_kg"] == \
        pytest.approx(2.0e-4)


# ---- the OPS channels -------------------------------------------------------------------

def test_values_are_the_dictionarys_derived_accounting_channels() -> None:
    acc, _ = accountant()
    acc.update(0.0, "IDLE", readings(), commands())
    v = acc.values(readings())
    derived = [c.name for c in DICTIONARY.channels.derived]
    accounting = [n for n in derived if n != "power_cap_w" and not n.startswith("seq_")]
    assert set(v) == set(accounting)
    assert set(ENERGY_KEYS) <= set(v)
    assert v["scoop"] == 1
    for name in accounting:
        if name != "scoop":
            assert v[name] == 0.0  # nothing yet (the tanks: at their baseline)


def test_a_tank_reading_failed_at_load_sample_does_not_fold_scoop_1_into_scoop_2() -> None:
    acc, _ = accountant()
    acc.update(0.0, "IDLE", readings(h2_tank_pressure_pa=1000.0), commands())
    r1 = readings(h2_tank_pressure_pa=11_000.0)  # scoop 1 filled the tank by 10 kPa
    acc.update(0.1, "ELECTROLYZE", r1, commands())
    acc.state_changed(0.1, "ELECTROLYZE", "IDLE", r1)
    acc.sample_loaded(2, 0.2, readings(h2_tank_pressure_pa=float("nan")))  # a failed read
    r2 = readings(h2_tank_pressure_pa=11_000.0)  # nothing more made in scoop 2
    acc.update(0.3, "IDLE", r2, commands())
    line2 = acc.summary(r2)["scoops"][1]
    # scoop 2 made no hydrogen: its line says 0 or that it cannot tell (NaN), never
    # scoop 1's 10 kPa of gas
    assert not line2["h2_tank_kg"] > 1e-9


def test_the_ops_values_are_the_dictionary_s_derived_channels_in_order(tmp_path) -> None:
    """Operations.values() gives every OPS channel, in the dictionary's order (the
    telemetry.jsonl field order and the OPS packet's)."""
    from pathlib import Path

    from flight.operations import DERIVED
    from ground.harness.run import Run, load_inputs

    root = Path(__file__).resolve().parents[2]
    run = Run(load_inputs(root / "configs/missions/quick.yaml",
                          root / "configs/hardware/sim.yaml"), tmp_path / "run")
    run.fly(until_s=2.0)
    values = run.flight.ops.values(run.flight.reader.readings)
    assert tuple(values) == DERIVED
    assert values["seq_next_s"] is None or values["seq_next_s"] > 0.0


def test_the_same_crucible_extracted_again_gets_a_line_of_its_own() -> None:
    """IDLE -> EXTRACT with the last line complete and no LOAD_SAMPLE between: a new line
    for the same scoop; the completed one is never rewritten nor announced twice (review
    finding: scoop 1's 1.0 g became 0.0 g and scoop_complete came twice)."""
    acc, events = accountant()
    r0 = readings()
    acc.update(0.0, "IDLE", r0, commands())
    for src, dst, level in (("IDLE", "EXTRACT_HEAT", 0.0), ("TRANSFER", "ELECTROLYZE", 1e-3),
                            ("ELECTROLYZE", "IDLE", 1e-3)):
        acc.state_changed(1.0, src, dst, readings(reservoir_mass_kg=level))
    assert [ln.water_captured_kg for ln in acc.lines] == [pytest.approx(1e-3)]
    # again, without a fresh scoop: 0.5 g more reaches the reservoir (from 1.0 g)
    for src, dst, level in (("IDLE", "EXTRACT_HEAT", 1e-3), ("TRANSFER", "ELECTROLYZE", 1.5e-3),
                            ("ELECTROLYZE", "IDLE", 1.5e-3)):
        acc.state_changed(2.0, src, dst, readings(reservoir_mass_kg=level))
    assert [(ln.scoop, ln.water_captured_kg) for ln in acc.lines] == [
        (1, pytest.approx(1e-3)), (1, pytest.approx(0.5e-3))]
    assert len(events.named("scoop_complete")) == 2
    assert acc.values(r0)["water_captured_kg"] == pytest.approx(1.5e-3)

"""Several scoops per mission on the plant (Plant.load_sample): water and energy stay
balanced across loads, the accounts of the samples emptied out are kept, and every load
on the bus is integrated."""

from __future__ import annotations

import math

import pytest

from sims.params import PlantParams, SampleParams
from sims.plant import Plant

FIRST = SampleParams(mass_kg=0.02, layers=10)
#: the scoops after the first: richer, warmer, a different grid, drier
LATER = (SampleParams(mass_kg=0.03, ice_mass_fraction=0.1, initial_temp_k=60.0, layers=8),
         SampleParams(mass_kg=0.04, ice_mass_fraction=0.05, layers=12),
         SampleParams(mass_kg=0.02, ice_mass_fraction=0.0, layers=6))


def make_plant() -> Plant:
    return Plant(PlantParams(sample=FIRST))


def check_water(plant: Plant) -> None:
    for key, value in plant.water_ledger_kg().items():
        assert value >= 0.0, f"{key} went negative: {value!r}"
    assert abs(plant.mass_balance_error_kg()) < 1e-12 * plant.ice_initial_kg


def run(plant: Plant, steps: int, dt_s: float, check: bool = True, **inputs: float) -> None:
    """Set ``inputs`` (fields of Plant.inputs), then step ``steps`` times."""
    for name, value in inputs.items():
        setattr(plant.inputs, name, value)
    for _ in range(steps):
        plant.step(dt_s)
        if check:
            check_water(plant)


def capture(plant: Plant, dt_s: float = 0.7) -> None:
    """Heat with the trap cold, then capture with the valve open (mid-way through the
    sublimation: the sample still holds ice when it is emptied out). The plate stays warm
    from one scoop to the next: the heater is on only while it is below 320 K."""
    for steps, valve in ((round(200.0 / dt_s), False), (round(300.0 / dt_s), True)):
        for _ in range(steps):
            on = plant.sample.temp_k.item(0) < 320.0
            run(plant, 1, dt_s, heater_power_w=30.0 if on else 0.0, cryocooler_on=True,
                valve_open=valve)


def test_water_and_energy_balance_over_three_loads_with_capture_in_between() -> None:
    """Each load with a sample still holding ice and a thermal interval pending (0.7 s
    steps, 1 s thermal steps): water is conserved to 1e-12 of the ice ever loaded at every
    step, the ice left in each emptied sample is in spent_ice_kg, the energy balance
    stays closed (< 1e-3 of the heater energy) though the emptied samples took away far
    more heat than that."""
    plant = make_plant()
    loaded = plant.ice_initial_kg
    spent = 0.0
    for params in LATER:
        capture(plant)
        assert plant._slow_dt_s > 0.0  # an interval pending: load_sample closes it
        left = plant.sample.ice_total_kg()
        assert left > 0.05 * plant.sample.ice_initial_kg  # not a dry sample
        vapour, trap_ice, old = plant.vapour_kg, plant.trap.ice_kg, plant.sample
        plant.load_sample(params)
        assert plant.sample is not old
        # the ice the old sample held once its last interval closed (a little less)
        assert left * 0.9 < old.ice_total_kg() <= left
        spent += old.ice_total_kg()
        check_water(plant)
        # the trap and the vapour carry on (the closing interval moved a little)
        assert plant.trap.ice_kg == pytest.approx(trap_ice, rel=2e-2)
        assert plant.vapour_kg == pytest.approx(vapour, rel=0.5)
        loaded += plant.sample.ice_initial_kg
        assert plant.ice_initial_kg == pytest.approx(loaded, rel=1e-15)
        t = plant.truth()
        assert t["spent_ice_kg"] == pytest.approx(spent, rel=1e-15)
        assert t["sample_ice_kg"] == plant.sample.ice_initial_kg
    capture(plant)
    t = plant.truth()
    assert t["samples_loaded"] == 4.0 and plant.samples_loaded == 4
    assert t["trap_ice_kg"] > 0.5 * (loaded - t["spent_ice_kg"])  # the scoops were mined
    # a warm plate (kept from the last scoop) meeting a 40-60 K scoop moves the first
    # layer some 200 K within one refresh interval, where c(T) is steep: the enthalpy
    # correction's single Newton step leaves a few J per load here (9.5 J over three
    # loads, 3e-4 of this short test's heater energy; ~50 J a load before the pore
    # vapour moved both ways, when an emptying layer's whole ice left in one step)
    assert abs(t["energy_balance_error_j"]) < 1e-3 * t["heater_energy_j"]
    # not vacuous: without the heat the emptied samples took, the books would be far off
    assert t["spent_heat_j"] > 100.0 * abs(t["energy_balance_error_j"])
    assert 0.0 < t["heater_energy_j"] < 30.0 * 4 * 500.0 * 1.002


def test_a_load_adds_no_error_and_keeps_every_cumulative_account() -> None:
    """With no interval pending (1 s steps = the thermal step), a load moves nothing:
    the energy error, the heater, radiated and latent energies, the floor, the gross
    sublimated mass, the vapour and the trap are what they were, to rounding."""
    plant = make_plant()
    capture(plant, dt_s=1.0)
    assert plant._slow_dt_s == 0.0
    keys = ("energy_balance_error_j", "heater_energy_j", "radiated_j", "latent_j",
            "energy_floor_j", "sublimated_gross_kg", "chamber_vapour_kg", "trap_ice_kg",
            "bus_energy_j", "cryocooler_energy_j", "time_s")
    before = plant.truth(keys)
    assert before["latent_j"] > 0.0 and before["energy_floor_j"] > 0.0
    stored = plant.sample.stored_heat_j()
    before_plate_k = plant.sample.plate_temp_k
    plant.load_sample(LATER[0])
    after = plant.truth(keys)
    for k in keys:
        assert after[k] == pytest.approx(before[k], rel=1e-12, abs=1e-9), k
    assert plant.truth(["spent_heat_j"])["spent_heat_j"] == pytest.approx(stored, rel=1e-12)
    # the new sample is in the crucible, as __init__ would build it, on the plate as it
    # was (the plate is the crucible's): its heat carried in, the balance closed
    plate_k = before_plate_k
    s = plant.sample
    assert plant.params.sample is LATER[0]
    assert s.p is LATER[0] and s.ice_kg.size == LATER[0].layers
    assert s.plate_temp_k == plate_k > s.bottom_temp_k == 60.0
    assert s.carried_in_j == pytest.approx(
        plant.params.heater.plate_heat_capacity_j_k * (plate_k - 60.0), rel=1e-12)
    assert s.heater_energy_j == 0.0 and s.energy_balance_error_j() == pytest.approx(0.0)
    f = LATER[0].ice_mass_fraction
    assert s.ice_total_kg() == pytest.approx(LATER[0].mass_kg * f / (1.0 - f), rel=1e-12)


def test_a_pending_interval_is_closed_with_the_old_sample() -> None:
    """Heater energy delivered in 0.3 s steps (intervals of 1 s pending) is all in the
    books after the load: 30 W x the time, to rounding, none of it into the new sample."""
    plant = make_plant()
    run(plant, 7, 0.3, heater_power_w=30.0)
    assert plant._slow_dt_s > 0.0
    before = plant.truth(["heater_energy_j"])["heater_energy_j"]
    assert before < 30.0 * 2.1 * (1 - 1e-3)  # the pending 0.1 s is not in it yet
    plant.load_sample(LATER[0])
    assert plant._slow_dt_s == 0.0
    assert plant.truth(["heater_energy_j"])["heater_energy_j"] == pytest.approx(
        30.0 * 2.1, rel=1e-12)
    assert plant.sample.heater_energy_j == 0.0


def test_a_fresh_scoop_after_a_dry_inert_sample_sublimates_again() -> None:
    """A sample heated dry, then left unheated (inert: 5 s intervals), is replaced while
    such an interval is pending; the new scoop, heated, gives vapour again."""
    plant = Plant(PlantParams(sample=SampleParams(mass_kg=0.005, layers=4)))
    run(plant, 800, 2.0, check=False, heater_power_w=30.0, cryocooler_on=True,
        valve_open=True)
    assert plant.sample.ice_total_kg() == 0.0
    run(plant, 30, 0.1, heater_power_w=0.0, valve_open=False)
    assert plant.sample.inert and plant._slow_inert and plant._slow_dt_s > 0.0
    trap0 = plant.trap.ice_kg
    plant.load_sample(LATER[1])
    run(plant, 400, 2.0, heater_power_w=30.0, valve_open=True)
    assert plant.sample.ice_total_kg() < 0.9 * plant.sample.ice_initial_kg
    assert plant.trap.ice_kg > trap0
    check_water(plant)


def test_bus_energy_is_the_integral_of_the_bus_power_and_the_sum_of_its_loads() -> None:
    """Every load draws at some point (heater, cryocooler, trap heater, stack, a
    brown-out too), across two loads: bus_energy_j is the sum of bus_power_w x dt (rel
    1e-9) and of the loads' energies; the cryocooler's is its draw x its time on."""
    plant = make_plant()
    direct = cryo_on_s = 0.0
    # (steps of 0.7 s; heater, valve, cryocooler, trap heater, stack current)
    phases = ((300, 30.0, False, True, 0.0, 0.0), (400, 30.0, True, True, 0.0, 0.0),
              (600, 0.0, False, False, 15.0, 0.0), (150, 0.0, False, False, 0.0, 10.0),
              (50, 30.0, False, True, 15.0, 0.0))  # (the last over the 45 W cap)
    brownouts = 0
    for load in (None, LATER[0], LATER[1]):
        if load is not None:
            plant.load_sample(load)
        for steps, heater_w, valve, cryo, trap_w, current_a in phases:
            inputs = dict(heater_power_w=heater_w, valve_open=valve, cryocooler_on=cryo,
                          trap_heater_power_w=trap_w, electrolyzer_current_a=current_a)
            for _ in range(steps):
                run(plant, 1, 0.7, check=False, **inputs)
                direct += plant.bus_power_w * 0.7
                cryo_on_s += 0.7 if plant.trap.cryo_on else 0.0
                brownouts += plant.brownout
    t = plant.truth()
    assert brownouts > 0 and t["electrolysis_energy_j"] > 0.0
    assert t["trap_heater_energy_j"] > 0.0 and t["cryocooler_energy_j"] > 0.0
    assert t["bus_energy_j"] == pytest.approx(direct, rel=1e-9)
    loads = math.fsum((t["cryocooler_energy_j"], t["trap_heater_energy_j"],
                       t["heater_energy_j"], plant._slow_heater_j, t["electrolysis_energy_j"]))
    assert t["bus_energy_j"] == pytest.approx(loads, rel=1e-12)
    assert t["cryocooler_energy_j"] == pytest.approx(12.0 * cryo_on_s, rel=1e-9)
    assert t["samples_loaded"] == 3.0


def test_new_truth_keys_at_start() -> None:
    t = make_plant().truth()
    assert t["samples_loaded"] == 1.0
    for k in ("spent_ice_kg", "spent_heat_j", "cryocooler_energy_j", "trap_heater_energy_j",
              "bus_energy_j", "heater_energy_j", "energy_balance_error_j"):
        assert t[k] == 0.0, k
    assert make_plant().truth(["samples_loaded", "bus_energy_j"]) == {
        "samples_loaded": 1.0, "bus_energy_j": 0.0}

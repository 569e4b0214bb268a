"""Every fault kind of the catalogue, injected into the quick mission: when it was
injected, which FDIR monitor caught it and how fast, the response, and the safety
oracles on plant truth (docs/faults.md has the same table). Gaps the FDIR does not
cover yet are strict xfails that say why, so closing one turns the test red."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"

# layer, kind, target, params, trigger, expected monitor, detection bound after injection [s]
CASES: list[tuple[str, str, str, dict[str, float], dict[str, Any], str, float]] = [
    ("plant", "heater_open_circuit", "", {}, {"on_state": "EXTRACT_HEAT"},
     "heater_not_heating", 130.0),
    ("plant", "cryocooler_degraded", "", {}, {"at_s": 1.0}, "trap_not_cooling", 250.0),
    ("plant", "cryocooler_failed", "", {}, {"at_s": 1.0}, "trap_not_cooling", 250.0),
    ("plant", "valve_stuck_open", "", {}, {"on_state": "EXTRACT_CAPTURE"},
     "valve_stuck_open", 7.0),
    ("plant", "valve_stuck_closed", "", {}, {"on_state": "EXTRACT_HEAT"},
     "valve_stuck_closed", 440.0),  # trips once CAPTURE commands it open (~400 s in)
    ("plant", "membrane_degraded", "", {"extra_ohm_cm2": 1.0}, {"on_state": "ELECTROLYZE"},
     "stack_voltage_high", 15.0),
    ("plant", "h2_tank_leak", "", {"rate_kg_s": 1e-6}, {"on_state": "ELECTROLYZE"},
     "h2_not_rising", 75.0),
    ("plant", "brownout", "", {}, {"on_state": "EXTRACT_CAPTURE"}, "bus_brownout", 6.0),
    ("device", "stuck", "heater_temp", {}, {"on_state": "EXTRACT_HEAT"},
     "heater_temp_frozen", 11.1),  # 10 s window + 10 samples; was heater_not_heating, 130 s
    ("device", "drift", "chamber_pressure", {"rate_per_s": 20.0},
     {"on_state": "EXTRACT_CAPTURE"}, "chamber_overpressure", 260.0),
    ("device", "noise", "trap_temp", {"sigma": 5.0}, {"on_state": "EXTRACT_CAPTURE"},
     "trap_temp_noisy", 6.0),
    ("device", "noise", "heater_temp", {"sigma": 10.0}, {"on_state": "EXTRACT_CAPTURE"},
     "heater_temp_noisy", 6.0),
    ("device", "dropout", "heater_temp", {}, {"on_state": "EXTRACT_CAPTURE"},
     "heater_temp_stale", 3.2),
    ("device", "dropout", "trap_temp", {}, {"on_state": "EXTRACT_CAPTURE"},
     "trap_temp_stale", 3.2),
    ("device", "ignore", "valve", {}, {"on_state": "EXTRACT_HEAT"},
     "valve_stuck_closed", 440.0),
    # a bias that appears as a step is a jump no plate makes in 0.1 s: caught as noise,
    # the loop switches to the sample thermometer (plate_reads_hot_unpowered follows)
    ("device", "bias", "heater_temp", {"offset": 150.0}, {"on_state": "EXTRACT_CAPTURE"},
     "heater_temp_noisy", 6.0),
]


def fly(tmp_path: Path, fault: dict[str, Any]) -> dict[str, Any]:
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"faults": [fault]}), encoding="utf-8")
    return Run(load_inputs(QUICK, SIM, faults_path=plan), tmp_path / "run").fly()


@pytest.mark.parametrize("layer, kind, target, params, trigger, monitor, bound_s", CASES,
                         ids=[f"{c[1]}-{c[2] or 'plant'}" for c in CASES])
def test_fault_is_detected_in_bound_and_safe(tmp_path: Path, layer: str, kind: str,
                                             target: str, params: dict[str, float],
                                             trigger: dict[str, Any], monitor: str,
                                             bound_s: float) -> None:
    s = fly(tmp_path, {"id": "f", "layer": layer, "kind": kind, "target": target,
                       "params": params, "trigger": trigger})
    (f,) = s["faults"]
    assert f["injected_at_s"] is not None
    assert f["monitor"] == monitor
    latency = f["detected_at_s"] - f["injected_at_s"]
    assert 0.0 <= latency <= bound_s, latency
    assert f["response"] is not None
    assert s["violations"] == [], s["violations"]
    rec = [r for r in s["fdir_records"] if r.get("monitor") == monitor]
    assert rec, s["fdir_records"]


def test_heater_open_circuit_ends_safe_with_its_reason(tmp_path: Path) -> None:
    s = fly(tmp_path, {"id": "f", "layer": "plant", "kind": "heater_open_circuit",
                       "trigger": {"on_state": "EXTRACT_HEAT"}})
    assert s["final_state"] == "SAFE" and "heater_not_heating" in s["safe_reason"]
    assert s["faults"][0]["outcome"] == "safed"


def test_ice_poor_sample_completes_with_less_water(tmp_path: Path) -> None:
    """Not a failure to detect: the mission completes, with the water there was."""
    s = fly(tmp_path, {"id": "f", "layer": "plant", "kind": "ice_poor_sample",
                       "params": {"factor": 0.2}, "trigger": {"at_s": 0}})
    assert s["mission_complete"] and s["violations"] == []
    f = 0.2 * 0.056  # ice mass fraction of the poor scoop
    assert s["ice_initial_kg"] == pytest.approx(0.02 * f / (1 - f), rel=1e-9)


def test_heater_stuck_on_is_caught_and_its_load_switch_opened(tmp_path: Path) -> None:
    """A driver failed on at 25 W, in the nominal mission (its long capture is where it
    shows): the plate passes 400 K with the loop commanding < 2 W -> heater_on_unbidden
    -> SAFE, which opens the heater's load switch: nothing is delivered after, and the
    plant never breaks an invariant."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"faults": [{
        "id": "f", "layer": "plant", "kind": "heater_stuck_on", "params": {"power_w": 25.0},
        "trigger": {"at_s": 1.0}}]}), encoding="utf-8")
    run = Run(load_inputs(ROOT / "configs/missions/nominal.yaml", SIM, faults_path=plan),
              tmp_path / "run")
    s = run.fly()
    (f,) = s["faults"]
    assert f["monitor"] == "heater_on_unbidden" and f["outcome"] == "safed"
    assert s["violations"] == []
    # mission times to the microsecond, not 897.8000000000001 (#19)
    assert f["detected_at_s"] == round(f["detected_at_s"], 6) > f["injected_at_s"]
    assert run.platform.truth()["heater_delivered_w"] == 0.0


def test_heater_stuck_on_is_caught_in_a_short_mission_too(tmp_path: Path) -> None:
    """The load switch is closed only in HEAT and CAPTURE; a 25 W driver failed on there
    overheats the plate of the quick mission's granular scoop (it conducts ~2.35x dry
    regolith, docs/physics.md) while the loop asks for < 2 W: caught as in the nominal
    mission, inside every invariant."""
    s = fly(tmp_path, {"id": "f", "layer": "plant", "kind": "heater_stuck_on",
                       "params": {"power_w": 25.0}, "trigger": {"at_s": 1}})
    (f,) = s["faults"]
    assert f["monitor"] == "heater_on_unbidden" and f["outcome"] == "safed"
    assert s["violations"] == []
    # mission times to the microsecond, not 897.8000000000001 (#19)
    assert f["detected_at_s"] == round(f["detected_at_s"], 6) > f["injected_at_s"]



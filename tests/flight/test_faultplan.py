"""Fault plans: validation at load, triggers (time, state, value), durations, records;
and the safety oracles on plant truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.errors import ConfigError
from ground.harness.faultplan import (
    FaultScheduler,
    Injector,
    build_time_sample,
    load_plan,
    parse_plan,
)
from ground.harness.oracles import Oracles

CATALOGUES = {
    "plant": {"heater_open_circuit": {}, "brownout": {"cap_factor": (0.3, 0.0, 1.0)}},
    "device": {"bias": {"offset": (None, -1e6, 1e6)}},
    "link": {"drop": {"probability": (0.3, 0.0, 1.0)}},
}
TELEMETRY = {"chamber_pressure_pa", "heater_temp_k"}
STATES = {"IDLE", "EXTRACT_CAPTURE", "SAFE"}
ROLES = {"heater_temp", "heater"}


def plan_file(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "plan.yaml"
    p.write_text(body, encoding="utf-8")
    return p


def load(tmp_path: Path, body: str):
    return load_plan(plan_file(tmp_path, body), TELEMETRY, STATES, ROLES, CATALOGUES)


GOOD = """
faults:
  - {id: a, layer: plant, kind: heater_open_circuit, trigger: {at_s: 10}}
  - {id: b, layer: device, target: heater_temp, kind: bias, params: {offset: 5},
     trigger: {on_state: EXTRACT_CAPTURE}, duration_s: 20}
  - {id: c, layer: plant, kind: brownout, trigger: {when: {telemetry: chamber_pressure_pa,
     above: 50}}}
"""


@pytest.mark.parametrize("body, where, words", [
    ("faults: [{id: a, layer: plant, kind: nope}]", "faults[0].kind", "heater_open_circuit"),
    ("faults: [{id: a, layer: ground, kind: nope}]", "faults[0].layer", "plant"),
    ("faults: [{id: a, layer: device, target: pump, kind: bias}]", "faults[0].target",
     "heater_temp"),
    ("faults: [{id: a, layer: plant, kind: brownout, params: {cap: 0.5}}]",
     "faults[0].params.cap", "cap_factor"),
    ("faults: [{id: a, layer: plant, kind: brownout, params: {cap_factor: 2}}]",
     "faults[0].params.cap_factor", "out of"),
    ("faults: [{id: a, layer: plant, kind: brownout, trigger: {at_s: 1, on_state: IDLE}}]",
     "faults[0].trigger", "exactly one"),
    ("faults: [{id: a, layer: plant, kind: brownout, trigger: {on_state: NAP}}]",
     "faults[0].trigger.on_state", "NAP"),
    ("faults: [{id: a, layer: plant, kind: brownout, trigger: {when: {telemetry: x, above: 1}}}]",
     "faults[0].trigger.when.telemetry", "x"),
    ("faults: [{id: a, layer: plant, kind: brownout}, {id: a, layer: plant, kind: brownout}]",
     "faults[1].id", "duplicate"),
    ("faults: [{id: a, layer: plant, kind: ice_poor_sample, trigger: {at_s: 5}}]",
     "faults[0].trigger", "at_s: 0"),
    ("faults: [{id: a, layer: plant, kind: brownout, duration_s: -1}]", "duration_s", "range"),
])
def test_bad_plans_name_the_entry(tmp_path: Path, body: str, where: str, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load(tmp_path, body)
    assert where in str(exc.value) and words in str(exc.value)


class Rig:
    def __init__(self, tmp_path: Path, body: str = GOOD) -> None:
        self.plan = load(tmp_path, body)
        self.log: list[tuple[str, str]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        injectors = {f.id: Injector(lambda i=f.id: self.log.append(("on", i)),
                                    lambda i=f.id: self.log.append(("off", i)))
                     for f in self.plan.faults}
        self.s = FaultScheduler(self.plan, injectors,
                                lambda e, **k: self.events.append((e, k)))


def test_triggers_by_time_state_and_value_and_durations(tmp_path: Path) -> None:
    r = Rig(tmp_path)
    s = r.s
    s.tick(9.9, "IDLE", {"chamber_pressure_pa": 1.0})
    assert r.log == []
    s.tick(10.0, "IDLE", {"chamber_pressure_pa": 1.0})
    assert r.log == [("on", "a")]
    s.tick(11.0, "EXTRACT_CAPTURE", {"chamber_pressure_pa": None})  # unknown: no trigger
    assert r.log == [("on", "a"), ("on", "b")]
    s.tick(30.9, "EXTRACT_CAPTURE", {"chamber_pressure_pa": 50.0})  # not above 50
    assert ("off", "b") not in r.log
    s.tick(31.0, "EXTRACT_CAPTURE", {"chamber_pressure_pa": 50.1})
    assert r.log[2:] == [("off", "b"), ("on", "c")]
    s.tick(40.0, "SAFE", {"chamber_pressure_pa": 99.0})
    assert len(r.log) == 4  # each fault injected once
    assert [e for e, _ in r.events] == ["fault_injected"] * 2 + ["fault_cleared",
                                                                 "fault_injected"]
    assert s.records["b"].injected_at_s == 11.0 and s.records["b"].cleared_at_s == 31.0


def test_after_s_delays_a_trigger_from_when_it_first_held(tmp_path: Path) -> None:
    """``after_s`` counts from the first cycle the condition held, even if it no longer
    holds (120 s into CAPTURE fires even when CAPTURE ended at 100 s)."""
    r = Rig(tmp_path, """
faults:
  - {id: s, layer: plant, kind: heater_open_circuit,
     trigger: {on_state: EXTRACT_CAPTURE, after_s: 120}}
  - {id: t, layer: plant, kind: brownout, trigger: {at_s: 10, after_s: 5}}
""")
    r.s.tick(0.0, "IDLE", {})
    r.s.tick(10.0, "EXTRACT_CAPTURE", {})
    r.s.tick(14.9, "EXTRACT_CAPTURE", {})
    assert r.log == []
    r.s.tick(15.0, "EXTRACT_CAPTURE", {})
    assert r.log == [("on", "t")]
    r.s.tick(110.0, "IDLE", {})
    r.s.tick(129.9, "IDLE", {})
    assert r.log == [("on", "t")]
    r.s.tick(130.0, "IDLE", {})
    assert r.log == [("on", "t"), ("on", "s")]
    assert r.s.records["s"].injected_at_s == 130.0


def test_plan_data_is_validated_like_a_file(tmp_path: Path) -> None:
    """A campaign builds plans in memory: the same checks, naming where it came from."""
    with pytest.raises(ConfigError) as exc:
        parse_plan({"faults": [{"id": "a", "layer": "plant", "kind": "nope"}]},
                   "camp.yaml: faults[3]", TELEMETRY, STATES, ROLES, CATALOGUES)
    assert "camp.yaml: faults[3]: faults[0].kind" in str(exc.value)
    with pytest.raises(ConfigError, match="after_s"):
        parse_plan({"faults": [{"id": "a", "layer": "plant", "kind": "brownout",
                                "trigger": {"at_s": 1, "after_s": -2}}]},
                   "x", TELEMETRY, STATES, ROLES, CATALOGUES)


def test_records_detection_and_outcome(tmp_path: Path) -> None:
    r = Rig(tmp_path, "faults: [{id: a, layer: plant, kind: brownout, trigger: {at_s: 5}}, "
                      "{id: z, layer: plant, kind: brownout, trigger: {at_s: 1000}}]")
    s = r.s
    s.on_event("fdir_trip", {"monitor": "early"}, 1.0)  # before injection: not a detection
    s.tick(5.0, "IDLE", {})
    s.on_event("fdir_trip", {"monitor": "bus_brownout", "response": "abort_phase"}, 7.5)
    s.on_event("state_change", {"dest": "SAFE"}, 9.0)
    out = {f["id"]: f for f in s.finish("SAFE", complete=False)}
    assert out["a"]["detected_at_s"] == 7.5 and out["a"]["monitor"] == "bus_brownout"
    assert out["a"]["response"] == "abort_phase" and out["a"]["outcome"] == "safed"
    assert out["z"]["outcome"] == "not injected" and out["z"]["injected_at_s"] is None


def test_undetected_fault_is_reported_as_such(tmp_path: Path) -> None:
    r = Rig(tmp_path, "faults: [{id: a, layer: plant, kind: brownout, trigger: {at_s: 0}}]")
    r.s.tick(0.0, "IDLE", {})
    assert r.s.finish("IDLE", complete=True)[0]["outcome"] == "completed"
    r = Rig(tmp_path, "faults: [{id: a, layer: plant, kind: brownout, trigger: {at_s: 0}}]")
    r.s.tick(0.0, "IDLE", {})
    assert r.s.finish("EXTRACT_HEAT", complete=False)[0]["outcome"] == "undetected"


def test_ice_poor_sample_is_applied_to_the_scoop(tmp_path: Path) -> None:
    plan = load(tmp_path, "faults: [{id: poor, layer: plant, kind: ice_poor_sample, "
                          "params: {factor: 0.25}, trigger: {at_s: 0}}]")
    sample = {"mass_kg": 0.02, "ice_mass_fraction": 0.056}
    assert build_time_sample(plan, sample)["ice_mass_fraction"] == pytest.approx(0.014)
    assert sample["ice_mass_fraction"] == 0.056  # the mission's own dict is untouched


def test_oracles_record_first_violation_and_count() -> None:
    o = Oracles()
    ok = {"sample_max_temp_k": 400.0, "heater_temp_k": 400.0, "h2_tank_pressure_pa": 1e6,
          "o2_tank_pressure_pa": 1e6, "chamber_pressure_pa": 10.0, "stack_current_a": 0.0,
          "reservoir_kg": 0.0}
    o.check(1.0, ok)
    o.check(2.0, None)  # real hardware: nothing to check
    assert o.summary() == []
    o.check(3.0, ok | {"heater_temp_k": 530.0})
    o.check(4.0, ok | {"heater_temp_k": 540.0, "stack_current_a": 2.0})
    v = {x["invariant"]: x for x in o.summary()}
    assert v["heater_temp_k"] == {"invariant": "heater_temp_k", "at_s": 3.0, "value": 530.0,
                                  "limit": 520.0, "count": 2}
    assert v["no_dry_electrolysis"]["at_s"] == 4.0
    # the entries the invariants read (what FaultSession asks the platform for), and a
    # truth without some of them checks the rest
    assert set(o.keys) == set(ok)
    o2 = Oracles()
    o2.check(5.0, {"heater_temp_k": 530.0})
    assert [x["invariant"] for x in o2.summary()] == ["heater_temp_k"]

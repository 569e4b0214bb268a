"""Campaign YAML: validation errors that name the key, the matrix expansion, dispersions,
and the pass/fail judgement of a run's summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from common.errors import ConfigError
from ground.campaign.dispersions import Targets, apply
from ground.campaign.runner import judge
from ground.campaign.spec import NOMINAL, load_campaign
from ground.harness.injectors import catalogues
from ground.harness.run import load_inputs

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
SHIPPED = ROOT / "configs/campaigns/single-faults.yaml"


def write(tmp_path: Path, **body: Any) -> Path:
    data = {"name": "t", "mission": str(QUICK), "hardware": str(SIM), **body}
    p = tmp_path / "camp.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def test_shipped_campaign_covers_every_sil_fault_kind() -> None:
    """Every plant and device fault kind of the catalogue is flown (link faults need the
    serial backend: tests/test_link_faults_e2e.py), each at one or more trigger times,
    on every seed, with a fault-free run per seed."""
    c = load_campaign(SHIPPED)
    kinds = {(r.plan["faults"][0]["layer"], r.plan["faults"][0]["kind"])
             for r in c.runs if r.plan}
    cat = catalogues()
    expected = {("plant", k) for k in cat["plant"]} | {("plant", "ice_poor_sample")} | {
        ("device", k) for k in cat["device"]}
    assert expected <= kinds, expected - kinds
    seeds = c.config.seeds
    assert len(seeds) >= 2
    assert sum(r.fault == NOMINAL for r in c.runs) == len(seeds)
    ids = [r.run_id for r in c.runs]
    assert len(ids) == len(set(ids))
    assert [r.index for r in c.runs] == list(range(len(c.runs)))
    triggers = {r.trigger for r in c.runs if r.fault == "brownout"}
    assert len(triggers) >= 3


def test_matrix_is_cases_times_triggers_times_seeds(tmp_path: Path) -> None:
    p = write(tmp_path, seeds={"first": 3, "count": 2},
              triggers=[{"on_state": "EXTRACT_HEAT"}, {"at_s": 100, "after_s": 20}],
              faults=[{"name": "b", "layer": "plant", "kind": "brownout"},
                      {"name": "poor", "layer": "plant", "kind": "ice_poor_sample"}])
    c = load_campaign(p)
    assert [r.run_id for r in c.runs] == [
        "nominal--s3", "b--EXTRACT_HEAT+0s--s3", "b--t=120s--s3", "poor--t=0s--s3",
        "nominal--s4", "b--EXTRACT_HEAT+0s--s4", "b--t=120s--s4", "poor--t=0s--s4"]
    b = c.runs[2].plan["faults"][0]
    assert b["trigger"] == {"at_s": 100, "after_s": 20}
    assert c.runs[3].plan["faults"][0]["trigger"] == {"at_s": 0.0}  # a property of the scoop


@pytest.mark.parametrize("body, where, words", [
    ({"seeds": [1, 1]}, "seeds", "repeat"),
    ({"seeds": {"first": 1}}, "seeds", "first"),
    ({"worker": 3}, "worker", "unknown key"),
    ({"keep_telemetry": "some"}, "keep_telemetry", "failures"),
    ({"faults": [{"name": "a", "layer": "plant", "kind": "nope"}]},
     "faults[0] (trigger 0): faults[0].kind", "heater_open_circuit"),
    ({"faults": [{"name": "a", "layer": "device", "kind": "stuck", "target": "pump"}]},
     "faults[0] (trigger 0): faults[0].target", "heater_temp"),
    ({"faults": [{"name": "a", "layer": "plant", "kind": "brownout",
                  "triggers": [{"on_state": "NAP"}]}]}, "trigger.on_state", "NAP"),
    ({"faults": [{"name": "a", "layer": "plant", "kind": "brownout"},
                 {"name": "a", "layer": "plant", "kind": "brownout"}]}, "faults[1].name", "taken"),
    ({"faults": [{"name": "nominal", "layer": "plant", "kind": "brownout"}]},
     "faults[0].name", "fault-free"),
    ({"faults": [{"name": "a", "plan": "x.yaml", "kind": "brownout"}]}, "faults[0].plan",
     "either"),
    ({"faults": [{"name": "a"}]}, "faults[0]", "layer and kind"),
    ({"faults": [{"name": "a", "layer": "plant", "kind": "brownout",
                  "expect": {"detect_within": 3}}]}, "expect.detect_within", "detect_within_s"),
    ({"dispersions": [{"param": "trap.lift"}]}, "dispersions[0].param", "cryo_lift_w_at_ref"),
    ({"dispersions": [{"param": "power.bus_cap_w", "low": 2.0, "high": 1.0}]},
     "dispersions[0]", "low <= high"),
    ({"dispersions": [{"param": "power.bus_cap_w", "dist": "normal", "mean": 1.0}]},
     "dispersions[0]", "mean and sigma"),
    ({"dispersions": [{"param": "noise.*", "mode": "set", "low": 1, "high": 2}]},
     "dispersions[0].mode", "scale"),
    ({"dispersions": [{"param": "sample.ice_mass_fraction", "low": 10.0, "high": 12.0}]},
     "dispersions[0]", "outside its range"),
    ({"mission": "nowhere.yaml"}, "nowhere.yaml", "cannot read"),
])
def test_bad_campaigns_name_the_key(tmp_path: Path, body: dict[str, Any], where: str,
                                    words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_campaign(write(tmp_path, **body))
    assert where in str(exc.value) and words in str(exc.value), str(exc.value)


def test_serial_hardware_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="backend: sim"):
        load_campaign(write(tmp_path, hardware=str(ROOT / "configs/hardware/bench-emulator.yaml")))


def test_dispersions_are_drawn_per_seed_and_reproducible(tmp_path: Path) -> None:
    """A seed is one dispersed payload: every fault case of that seed flies the same
    values; another seed draws others; loading twice draws the same."""
    disp = [{"param": "sample.ice_mass_fraction", "low": 0.5, "high": 1.5},
            {"param": "trap.cryo_lift_w_at_ref", "dist": "normal", "mean": 1.0, "sigma": 0.1,
             "low": 0.9, "high": 1.1},
            {"param": "power.bus_cap_w", "low": 40.0, "high": 41.0, "mode": "set"},
            {"param": "noise.*", "low": 2.0, "high": 3.0}]
    p = write(tmp_path, seeds=[1, 2], dispersions=disp,
              faults=[{"name": "b", "layer": "plant", "kind": "brownout"}])
    c1, c2 = load_campaign(p), load_campaign(p)
    by_seed = {}
    for r in c1.runs:
        by_seed.setdefault(r.seed, []).append(r.dispersions)
    assert by_seed[1][0] == by_seed[1][1] and by_seed[2][0] == by_seed[2][1]
    assert by_seed[1][0] != by_seed[2][0]
    assert [r.dispersions for r in c1.runs] == [r.dispersions for r in c2.runs]
    v = by_seed[1][0]
    assert 0.5 * 0.056 <= v["sample.ice_mass_fraction"] <= 1.5 * 0.056
    assert 0.9 * 2.0 <= v["trap.cryo_lift_w_at_ref"] <= 1.1 * 2.0
    assert 40.0 <= v["power.bus_cap_w"] <= 41.0
    # noise.* scales every noisy sensor by the same draw
    assert v["noise.heater_temp"] / 0.1 == pytest.approx(v["noise.h2_tank"] / 20.0)
    assert 2.0 <= v["noise.heater_temp"] / 0.1 <= 3.0


def test_apply_puts_values_where_the_run_reads_them() -> None:
    inputs = load_inputs(QUICK, SIM)
    out = apply(inputs, {"sample.ice_mass_fraction": 0.04, "sample.conductivity_scale": 2.0,
                         "trap.cryo_lift_w_at_ref": 1.5, "power.bus_cap_w": 41.0,
                         "noise.trap_temp": 0.7})
    assert out.mission.sample["ice_mass_fraction"] == 0.04
    assert out.hardware.plant["sample"] == {"conductivity_scale": 2.0}
    assert out.hardware.plant["trap"] == {"cryo_lift_w_at_ref": 1.5}
    assert out.hardware.plant["power"] == {"bus_cap_w": 41.0}
    assert out.hardware.devices["trap_temp"].noise == 0.7
    # the original is untouched
    assert inputs.mission.sample.get("ice_mass_fraction", 0.056) == 0.056
    assert inputs.hardware.plant == {"power": {"bus_cap_w": 45.0}}
    assert inputs.hardware.devices["trap_temp"].noise == 0.1
    t = Targets.of(inputs)
    assert t.params["power.bus_cap_w"][0] == 45.0  # the hardware YAML's value, not the default


# --- judging a summary ---------------------------------------------------------------------

def spec_for(tmp_path: Path, fault: dict[str, Any] | None = None, **expect: Any):
    body: dict[str, Any] = {"nominal": fault is None}
    if fault is not None:
        body["faults"] = [{"name": "f", **fault, "expect": expect}]
    return load_campaign(write(tmp_path, **body)).runs[0]


def summary(**kw: Any) -> dict[str, Any]:
    s = {"final_state": "SAFE", "mission_complete": False, "end_reason": "safe",
         "violations": [], "fdir_records": [],
         "faults": [{"id": "f", "injected_at_s": 100.0, "detected_at_s": 105.0,
                     "monitor": "bus_brownout", "response": "SAFE"}]}
    s.update(kw)
    return s


def test_judge_a_fault_detected_in_bound_passes(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, {"layer": "plant", "kind": "brownout"},
                    detect_within_s=6, end_state="SAFE")
    outcome, reasons, det = judge(spec, summary())
    assert (outcome, reasons) == ("pass", [])
    assert det["detection_latency_s"] == 5.0 and det["monitor"] == "bus_brownout"


@pytest.mark.parametrize("kw, expect, words", [
    ({"faults": [{"id": "f", "injected_at_s": 100.0, "detected_at_s": None}]},
     {"detect_within_s": 6}, "not detected within 6 s"),
    ({}, {"detect_within_s": 2}, "detected 5.0 s after injection by bus_brownout, bound 2 s"),
    ({"final_state": "IDLE", "end_reason": "complete"}, {"end_state": "SAFE"},
     "ended in IDLE (complete), expected SAFE"),
    ({}, {"complete": True}, "expected to complete"),
    ({"faults": [{"id": "f", "injected_at_s": None}]}, {}, "not injected"),
    ({"violations": [{"invariant": "plate_overtemp", "at_s": 300.0, "value": 530.0,
                      "limit": 520.0, "count": 4}]}, {}, "1 safety violation(s): plate_overtemp"),
])
def test_judge_names_why_a_run_failed(tmp_path: Path, kw: dict[str, Any],
                                      expect: dict[str, Any], words: str) -> None:
    spec = spec_for(tmp_path, {"layer": "plant", "kind": "brownout"}, **expect)
    outcome, reasons, _ = judge(spec, summary(**kw))
    assert outcome == "fail"
    assert any(words in r for r in reasons), reasons


def test_judge_accepts_any_of_several_end_states(tmp_path: Path) -> None:
    spec = spec_for(tmp_path, {"layer": "plant", "kind": "brownout"},
                    end_state=["SAFE", "IDLE"])
    assert judge(spec, summary(final_state="IDLE"))[0] == "pass"
    assert judge(spec, summary(final_state="SAFE"))[0] == "pass"
    outcome, reasons, _ = judge(spec, summary(final_state="TRANSFER", end_reason="max"))
    assert outcome == "fail" and "expected SAFE or IDLE" in reasons[0]


def test_judge_nominal_false_alarm_and_incomplete(tmp_path: Path) -> None:
    spec = spec_for(tmp_path)
    assert spec.fault == NOMINAL
    ok = summary(final_state="IDLE", mission_complete=True, faults=[])
    assert judge(spec, ok)[0] == "pass"
    outcome, reasons, _ = judge(spec, summary(
        faults=[], fdir_records=[{"monitor": "trap_temp_noisy", "tripped_at_s": 42.0}]))
    assert outcome == "fail"
    assert any("did not complete" in r for r in reasons)
    assert any("false alarm: trap_temp_noisy tripped at 42.0 s" in r for r in reasons)

"""FDIR acts through the one command path: its power-cycles, sensor substitutions, SAFE
and abort are commands with source ``fdir``, logged like a ground command (as cFS LC
requests an RTS; issue #15)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flight.commands import Commander
from flight.fdir.responses import Responder
from flight.fdir.table import BUILTIN_RESPONSES, ResponseConfig
from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[2]


def fly(tmp_path: Path, plan: str, until_s: float | None = None
        ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    inputs = load_inputs(ROOT / "configs/missions/quick.yaml",
                         ROOT / "configs/hardware/sim.yaml",
                         faults_path=ROOT / "configs/faults" / plan)
    summary = Run(inputs, tmp_path / "run").fly(until_s=until_s)
    events = [json.loads(x) for x in (tmp_path / "run/events.jsonl").read_text().splitlines()]
    return summary, events


def test_fdir_power_cycles_then_safes_the_payload_by_logged_commands(tmp_path: Path) -> None:
    summary, events = fly(tmp_path, "heater-open-circuit.yaml")
    by_fdir = [e for e in events if e["event"] == "command" and e["source"] == "fdir"]
    # heater_power_cycle has a budget of 2, then escalates to SAFE
    assert [(e["name"], e["args"], e["accepted"]) for e in by_fdir] == [
        ("POWER_CYCLE", {"actuator": "heater_power_w"}, True),
        ("POWER_CYCLE", {"actuator": "heater_power_w"}, True),
        ("SAFE", {}, True)]
    responses = [e for e in events if e["event"] == "fdir_response"]
    assert [e["t_s"] for e in responses] == [e["t_s"] for e in by_fdir]
    (to_safe,) = [e for e in events if e["event"] == "state_change" and e["dest"] == "SAFE"]
    # the command carries the monitor's reason to the state change and the summary
    assert to_safe["reason"].startswith("heater_not_heating: ")
    assert summary["safe_reason"] == to_safe["reason"]
    assert to_safe["t_s"] == by_fdir[-1]["t_s"]


def test_a_sensor_substitution_is_a_logged_fdir_command(tmp_path: Path) -> None:
    # (the dropout comes on entering CAPTURE, ~150 s in; the substitution 3 s later)
    summary, events = fly(tmp_path, "heater-thermometer-dropout.yaml", until_s=600.0)
    subs = [e for e in events if e["event"] == "command" and e["name"] == "SUBSTITUTE_SENSOR"]
    assert subs and subs[0]["source"] == "fdir" and subs[0]["accepted"] is True
    assert subs[0]["args"] == {"sensor": "heater_temp_k", "substitute": "sample_temp_k"}


def test_the_ground_cannot_substitute_a_sensor_without_the_fdir_tables_cap() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    responder = Responder(dict(BUILTIN_RESPONSES), lambda why: None, lambda t, why: False,
                          lambda e, **f: None)
    cmd = Commander(lambda t, why: False, responder.handlers(),
                    lambda e, **f: events.append((e, f)), require_arm=True)
    cmd.submit("SUBSTITUTE_SENSOR", {"sensor": "heater_temp_k", "substitute": "sample_temp_k"})
    cmd.execute_due(0.0)
    (_, refused), = events
    assert refused["accepted"] is False and "not accepted from ground" in refused["detail"]
    assert responder.substitutions == {}
    # even from source fdir, outside a response there is no cap: refused
    assert not cmd.execute_now("SUBSTITUTE_SENSOR", "fdir", args={
        "sensor": "heater_temp_k", "substitute": "sample_temp_k"})
    assert "cap" in events[-1][1]["detail"] and responder.substitutions == {}


def test_the_ground_may_power_cycle_an_actuator() -> None:
    responder = Responder({"r": ResponseConfig(action="log")}, lambda why: None,
                          lambda t, why: False, lambda e, **f: None)
    cmd = Commander(lambda t, why: False, responder.handlers(), lambda e, **f: None)
    cmd.submit("POWER_CYCLE", {"actuator": "electrolyzer_current_a"})
    cmd.execute_due(0.0)
    out, force = responder.shape({"electrolyzer_current_a": 4.0, "valve_open": True})
    assert out == {"electrolyzer_current_a": 0.0, "valve_open": True} and force
    out, force = responder.shape({"electrolyzer_current_a": 4.0, "valve_open": True})
    assert out["electrolyzer_current_a"] == 4.0 and force  # its value again, forced
    with pytest.raises(Exception, match="not one of"):
        cmd.submit("POWER_CYCLE", {"actuator": "heater_temp_k"})  # a sensor, not an actuator

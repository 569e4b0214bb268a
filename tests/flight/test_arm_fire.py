"""Hazardous commands: ARM then FIRE within the arm window, or refused with a reason."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.errors import ConfigError
from flight.commands import (
    ARM_WINDOW_S,
    Commander,
    CommandError,
    check_dictionary,
    is_hazardous,
    load_dictionary,
    validate,
)
from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"
DICTIONARY = load_dictionary()


class Rig:
    def __init__(self) -> None:
        self.fired: list[str] = []
        self.setpoints: list[float] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.cmd = Commander(lambda t, why: self.fired.append(t) or True,
                             {"set_heater_setpoint": lambda setpoint_k: self.setpoints.append(
                                 setpoint_k)},
                             lambda e, **f: self.events.append((e, f)), require_arm=True)

    def at(self, t_s: float, name: str, **args: Any) -> None:
        self.cmd.submit(name, args, at_s=t_s)
        self.cmd.execute_due(t_s)

    def last(self, event: str = "command") -> dict[str, Any]:
        return [f for e, f in self.events if e == event][-1]


def test_the_dictionary_marks_hazardous_commands() -> None:
    assert DICTIONARY["START_EXTRACTION"]["hazardous"] is True
    assert DICTIONARY["SET_HEATER_SETPOINT"]["hazardous"] == {"arg": "setpoint_k",
                                                              "above": 400.0}
    assert not is_hazardous(DICTIONARY["SET_HEATER_SETPOINT"], {"setpoint_k": 400.0})
    assert is_hazardous(DICTIONARY["SET_HEATER_SETPOINT"], {"setpoint_k": 400.5})
    assert not is_hazardous(DICTIONARY["SAFE"], {})
    assert ARM_WINDOW_S == 30.0


def test_unarmed_hazardous_command_is_refused_naming_why() -> None:
    r = Rig()
    r.at(5.0, "START_EXTRACTION")
    assert r.fired == []
    ev = r.last()
    assert ev["name"] == "START_EXTRACTION" and ev["accepted"] is False
    assert "not armed" in ev["detail"] and "ARM" in ev["detail"]


def test_arm_then_fire_within_the_window_is_accepted_once() -> None:
    r = Rig()
    r.at(4.0, "ARM", command="START_EXTRACTION")
    arm = r.last("arm")
    assert arm["command"] == "START_EXTRACTION" and arm["expires_at_s"] == 34.0
    r.at(5.0, "START_EXTRACTION")
    assert r.fired == ["start_extraction"]
    assert r.last()["accepted"] is True and r.last()["detail"] == "armed at 4 s"
    r.at(6.0, "START_EXTRACTION")  # the arm was used up
    assert r.fired == ["start_extraction"]
    assert "not armed" in r.last()["detail"]


@pytest.mark.parametrize("dt_s, ok", [(0.0, True), (29.9, True), (30.0, True), (30.1, False),
                                      (300.0, False)])
def test_the_arm_window(dt_s: float, ok: bool) -> None:
    r = Rig()
    r.at(100.0, "ARM", command="START_EXTRACTION")
    r.at(100.0 + dt_s, "START_EXTRACTION")
    assert r.last()["accepted"] is ok
    if not ok:
        assert "arm expired" in r.last()["detail"] and "armed at 100 s" in r.last()["detail"]


def test_an_arm_covers_only_the_command_it_names() -> None:
    r = Rig()
    r.at(0.0, "ARM", command="SET_HEATER_SETPOINT")
    r.at(1.0, "START_EXTRACTION")
    assert r.fired == [] and "not armed" in r.last()["detail"]
    r.at(2.0, "SET_HEATER_SETPOINT", setpoint_k=410.0)
    assert r.setpoints == [410.0]


def test_setpoint_is_hazardous_only_above_its_threshold() -> None:
    r = Rig()
    r.at(0.0, "SET_HEATER_SETPOINT", setpoint_k=400.0)
    assert r.setpoints == [400.0] and r.last()["detail"] is None
    r.at(1.0, "SET_HEATER_SETPOINT", setpoint_k=450.0)
    assert r.setpoints == [400.0] and "not armed" in r.last()["detail"]
    # an unhazardous setpoint does not use an arm up
    r.at(2.0, "ARM", command="SET_HEATER_SETPOINT")
    r.at(3.0, "SET_HEATER_SETPOINT", setpoint_k=350.0)
    r.at(4.0, "SET_HEATER_SETPOINT", setpoint_k=450.0)
    assert r.setpoints == [400.0, 350.0, 450.0]


def test_a_refused_fire_still_uses_the_arm() -> None:
    r = Rig()
    r.cmd.fire = lambda t, why: False  # the state chart refuses (guard, state)
    r.at(0.0, "ARM", command="START_EXTRACTION")
    r.at(1.0, "START_EXTRACTION")
    assert r.last()["accepted"] is False and r.last()["detail"] == "guard or state refused it"
    r.cmd.fire = lambda t, why: True
    r.at(2.0, "START_EXTRACTION")
    assert "not armed" in r.last()["detail"]


def test_disarm_all_drops_every_arm() -> None:
    r = Rig()
    r.at(0.0, "ARM", command="START_EXTRACTION")
    r.cmd.disarm_all("entered SAFE")
    assert r.last("disarm") == {"commands": ["START_EXTRACTION"], "reason": "entered SAFE"}
    r.at(1.0, "START_EXTRACTION")
    assert "not armed" in r.last()["detail"]
    n = len(r.events)
    r.cmd.disarm_all("again")
    assert len(r.events) == n  # nothing armed: no event


@pytest.mark.parametrize("args, words", [
    ({"command": "SAFE"}, ["ARM", "command", "'SAFE'", "START_EXTRACTION"]),
    ({"command": "START"}, ["ARM", "'START'"]),
    ({}, ["ARM", "missing", "command"]),
    ({"command": 3}, ["ARM", "command", "str"]),
])
def test_arm_arguments_are_validated_at_submit(args: dict[str, Any], words: list[str]) -> None:
    r = Rig()
    with pytest.raises(CommandError) as exc:
        r.cmd.submit("ARM", args)
    for w in words:
        assert w in str(exc.value)
    assert r.cmd.due() is None


def test_without_require_arm_hazardous_commands_run_as_before() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    fired: list[str] = []
    cmd = Commander(lambda t, why: fired.append(t) or True, {},
                    lambda e, **f: events.append((e, f)))
    cmd.submit("START_EXTRACTION")
    cmd.execute_due(0.0)
    assert fired == ["start_extraction"]


def test_the_dictionary_is_checked() -> None:
    d = copy.deepcopy(DICTIONARY)
    d["ABORT"]["hazardous"] = True  # hazardous but ARM cannot name it
    with pytest.raises(ConfigError, match="ARM.args.command.choices"):
        check_dictionary(d, "commands.yaml")
    d = copy.deepcopy(DICTIONARY)
    d["SET_HEATER_SETPOINT"]["hazardous"] = {"arg": "setpoint", "above": 400.0}
    with pytest.raises(ConfigError, match="SET_HEATER_SETPOINT.hazardous"):
        check_dictionary(d, "commands.yaml")
    d = copy.deepcopy(DICTIONARY)
    d["START_EXTRACTION"]["arm_window_s"] = 0
    with pytest.raises(ConfigError, match="START_EXTRACTION.arm_window_s"):
        check_dictionary(d, "commands.yaml")
    d = copy.deepcopy(DICTIONARY)
    d["START_EXTRACTION"]["arm_window_s"] = 5.0
    cmd = Commander(lambda t, why: True, {}, lambda e, **f: None, dictionary=d,
                    require_arm=True)
    cmd.submit("ARM", {"command": "START_EXTRACTION"}, at_s=0.0)
    cmd.submit("START_EXTRACTION", at_s=6.0)
    cmd.execute_due(0.0)
    assert cmd.armed == {("START_EXTRACTION", "ground"): (0.0, 5.0)}


def test_an_arm_is_good_only_for_a_fire_from_the_same_source() -> None:
    """A ground TC cannot use up, or ride on, an arm the mission's commands made."""
    fired: list[str] = []
    events: list[dict[str, Any]] = []
    cmd = Commander(lambda t, why: fired.append(t) or True, {},
                    lambda e, **f: events.append(f), require_arm=True)
    cmd.submit("ARM", {"command": "START_EXTRACTION"}, at_s=1.0, source="mission")
    cmd.submit("START_EXTRACTION", at_s=2.0, source="ground")
    cmd.submit("START_EXTRACTION", at_s=3.0, source="mission")
    cmd.execute_due(3.0)
    assert fired == ["start_extraction"]
    refused = [f for f in events if f.get("accepted") is False]
    assert refused[0]["source"] == "ground" and "from ground" in refused[0]["detail"]


def test_a_mission_arm_in_its_timed_commands_is_valid() -> None:
    assert validate(DICTIONARY, "ARM", {"command": "START_EXTRACTION"}) == {
        "command": "START_EXTRACTION"}
    cmds = [(c.at_s, c.name) for c in load_inputs(QUICK, SIM).mission.commands]
    assert sorted(cmds) == [(4.0, "ARM"), (5.0, "START_EXTRACTION")]


# ---- in a run ----------------------------------------------------------------------
def fly_variant(tmp_path: Path, commands: list[dict[str, Any]], until_s: float) -> tuple[
        dict[str, Any], list[dict[str, Any]]]:
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission["commands"] = commands
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(mission), encoding="utf-8")
    out = tmp_path / "run"
    summary = Run(load_inputs(path, SIM), out).fly(until_s=until_s)
    events = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    return summary, events


def test_a_mission_that_does_not_arm_is_refused_before_it_flies(tmp_path: Path) -> None:
    """The mission's commands are a stored sequence, validated as a whole before anything
    runs: an unARMed hazardous command is an error naming it, and no run directory."""
    with pytest.raises(ConfigError, match=r"commands\[0\]\.name: not armed"):
        fly_variant(tmp_path, [{"at_s": 5.0, "name": "START_EXTRACTION"}], 20.0)
    assert not (tmp_path / "run").exists()


def test_entering_safe_drops_the_arms(tmp_path: Path) -> None:
    summary, events = fly_variant(tmp_path, [
        {"at_s": 2.0, "name": "ARM", "args": {"command": "START_EXTRACTION"}},
        {"at_s": 3.0, "name": "SAFE"}], 20.0)
    assert summary["final_state"] == "SAFE"
    assert [e["reason"] for e in events if e["event"] == "disarm"] == ["entered SAFE"]
    arm = [e for e in events if e["event"] == "arm"]
    assert arm and arm[0]["expires_at_s"] == pytest.approx(32.0)  # (a real time, not NaN)

"""The command dictionary: validation on submit, time-tagged execution, refusals as events."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flight.commands import Commander, CommandError, load_dictionary, validate
from flight.config import HeaterConfig, MissionConfig
from flight.sequencer import Sequencer
from flight.subsystems.heater import HeaterController

DICTIONARY = load_dictionary()


class Rig:
    def __init__(self, fire_result: bool = True) -> None:
        self.fired: list[tuple[str, str]] = []
        self.setpoints: list[float] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.fire_result = fire_result
        self.cmd = Commander(self._fire, {"set_heater_setpoint": self._set},
                             lambda e, **f: self.events.append((e, f)))

    def _fire(self, trigger: str, reason: str) -> bool:
        self.fired.append((trigger, reason))
        return self.fire_result

    def _set(self, setpoint_k: float) -> None:
        self.setpoints.append(setpoint_k)

    def commands(self) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == "command"]


def test_dictionary_contents() -> None:
    assert {"START_EXTRACTION", "ABORT", "SAFE", "RECOVER", "SET_HEATER_SETPOINT"} <= set(
        DICTIONARY)
    for name, spec in DICTIONARY.items():
        assert ("trigger" in spec) != ("handler" in spec), name
        assert spec.get("doc"), name


@pytest.mark.parametrize("name, args, words", [
    ("START_EXTRACTON", {}, ["START_EXTRACTON", "START_EXTRACTION"]),
    ("start_extraction", {}, ["start_extraction"]),
    ("START_EXTRACTION", {"now": True}, ["START_EXTRACTION", "now"]),
    ("SET_HEATER_SETPOINT", {}, ["SET_HEATER_SETPOINT", "setpoint_k", "missing"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": 300.0, "ramp": 1.0},
     ["SET_HEATER_SETPOINT", "ramp"]),
    ("SET_HEATER_SETPOINT", {"setpoint": 300.0}, ["SET_HEATER_SETPOINT", "setpoint"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": "300"}, ["SET_HEATER_SETPOINT", "setpoint_k", "float"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": True}, ["SET_HEATER_SETPOINT", "setpoint_k", "float"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": None}, ["SET_HEATER_SETPOINT", "setpoint_k"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": [300.0]}, ["SET_HEATER_SETPOINT", "setpoint_k"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": 99.9}, ["SET_HEATER_SETPOINT", "setpoint_k", "range"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": 600.1}, ["SET_HEATER_SETPOINT", "setpoint_k", "range"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": math.nan}, ["SET_HEATER_SETPOINT", "setpoint_k"]),
    ("SET_HEATER_SETPOINT", {"setpoint_k": math.inf}, ["SET_HEATER_SETPOINT", "setpoint_k"]),
])
def test_invalid_commands_refused_and_nothing_queued(name: str, args: dict[str, Any],
                                                     words: list[str]) -> None:
    r = Rig()
    with pytest.raises(CommandError) as exc:
        r.cmd.submit(name, args, at_s=5.0)
    for w in words:
        assert w in str(exc.value)
    assert r.cmd.due() is None
    r.cmd.execute_due(1e9)
    assert r.fired == [] and r.setpoints == [] and r.events == []


def test_command_error_is_a_value_error() -> None:
    assert issubclass(CommandError, ValueError)


@pytest.mark.parametrize("value", [100.0, 600.0, 300, 350.5])
def test_valid_setpoint_is_typed_and_executed(value: float) -> None:
    assert validate(DICTIONARY, "SET_HEATER_SETPOINT", {"setpoint_k": value}) == {
        "setpoint_k": float(value)}
    r = Rig()
    r.cmd.submit("SET_HEATER_SETPOINT", {"setpoint_k": value})
    r.cmd.execute_due(0.0)
    assert r.setpoints == [float(value)]
    assert isinstance(r.setpoints[0], float)
    assert r.commands() == [{"name": "SET_HEATER_SETPOINT", "args": {"setpoint_k": float(value)},
                             "source": "ground", "accepted": True, "detail": None}]


def test_args_none_is_no_arguments() -> None:
    r = Rig()
    r.cmd.submit("SAFE", None)
    r.cmd.execute_due(0.0)
    assert r.fired == [("safe", "SAFE command (ground)")]


def test_time_tagged_commands_run_in_time_order_when_due() -> None:
    r = Rig()
    r.cmd.submit("ABORT", at_s=30.0)
    r.cmd.submit("START_EXTRACTION", at_s=10.0, source="mission")
    r.cmd.submit("SET_HEATER_SETPOINT", {"setpoint_k": 310.0}, at_s=20.0)
    r.cmd.submit("RECOVER", at_s=10.0)  # same time: after the one submitted first
    assert r.cmd.due() == 10.0
    r.cmd.execute_due(9.99)
    assert r.fired == [] and r.events == []
    r.cmd.execute_due(10.0)
    assert r.fired == [("start_extraction", "START_EXTRACTION command (mission)"),
                       ("recover", "RECOVER command (ground)")]
    assert r.cmd.due() == 20.0
    r.cmd.execute_due(25.0)
    assert r.setpoints == [310.0]
    assert len(r.fired) == 2
    r.cmd.execute_due(1000.0)
    assert [t for t, _ in r.fired] == ["start_extraction", "recover", "abort"]
    assert [c["name"] for c in r.commands()] == [
        "START_EXTRACTION", "RECOVER", "SET_HEATER_SETPOINT", "ABORT"]
    assert r.cmd.due() is None


def test_refused_trigger_emits_accepted_false() -> None:
    r = Rig(fire_result=False)
    r.cmd.submit("RECOVER")
    r.cmd.execute_due(0.0)
    (ev,) = r.commands()
    assert ev["name"] == "RECOVER"
    assert ev["accepted"] is False
    assert ev["detail"]


def test_handler_value_error_emits_accepted_false() -> None:
    h = HeaterController(HeaterConfig(setpoint_k=330.0, rearm_k=420.0))
    events: list[tuple[str, dict[str, Any]]] = []
    cmd = Commander(lambda t, why: True, {"set_heater_setpoint": h.set_setpoint_k},
                    lambda e, **f: events.append((e, f)))
    cmd.submit("SET_HEATER_SETPOINT", {"setpoint_k": 500.0})  # in the dictionary's range
    cmd.execute_due(0.0)
    assert h.setpoint_k == 330.0
    ((name, ev),) = events
    assert name == "command" and ev["accepted"] is False
    assert "setpoint_k" in ev["detail"]


def test_commands_against_the_real_sequencer() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    seq = Sequencer(MissionConfig(name="t"), lambda m: None,
                    lambda e, **f: events.append((e, f)))
    cmd = Commander(seq.fire, {}, seq.emit)
    ok = {"heater_temp_k": 40.0, "bus_cap_w": 45.0, "bus_power_w": 0.0}
    seq.observe(0.0, ok)
    seq.step()
    seq.step()
    assert seq.state == "IDLE"
    cmd.submit("RECOVER", at_s=1.0)
    cmd.submit("ABORT", at_s=1.0)
    cmd.submit("START_EXTRACTION", at_s=2.0)
    cmd.submit("SAFE", at_s=3.0)
    for t in (1.0, 2.0, 3.0):
        seq.observe(t, ok)
        cmd.execute_due(t)
    accepted = [(f["name"], f["accepted"]) for e, f in events if e == "command"]
    assert accepted == [("RECOVER", False), ("ABORT", False), ("START_EXTRACTION", True),
                        ("SAFE", True)]
    assert seq.state == "SAFE"
    assert seq.safe_reason == "SAFE command (ground)"


# ---- a bytes argument (SEQ_UPLOAD's data) ----------------------------------------------------

def upload_args(data: Any) -> dict[str, Any]:
    return {"seq_id": 1, "offset": 0, "length": 3, "data": data}


@pytest.mark.parametrize("data", [b"", b"abc", b"\x00" * 200, bytearray(b"xyz")])
def test_a_bytes_argument_takes_bytes_up_to_its_size(data: Any) -> None:
    size = DICTIONARY["SEQ_UPLOAD"]["args"]["data"]["size"]
    assert size == 200
    typed = validate(DICTIONARY, "SEQ_UPLOAD", upload_args(data))
    assert typed["data"] == bytes(data) and type(typed["data"]) is bytes


@pytest.mark.parametrize(("data", "says"), [
    (b"x" * 201, "201 bytes, at most 200"),
    ("abc", "must be bytes"),
    (3, "must be bytes"),
    (True, "must be bytes"),
    (None, "must be bytes"),
    ([1, 2], "must be bytes"),
])
def test_anything_else_is_not_bytes(data: Any, says: str) -> None:
    with pytest.raises(CommandError, match=says):
        validate(DICTIONARY, "SEQ_UPLOAD", upload_args(data))


@pytest.mark.parametrize(("name", "args"), [
    ("ARM", {"command": b"START_EXTRACTION"}),
    ("SET_HEATER_SETPOINT", {"setpoint_k": b"\x01"}),
    ("SEQ_UPLOAD", {**upload_args(b""), "seq_id": b"\x01"}),
])
def test_bytes_pass_as_nothing_else(name: str, args: dict[str, Any]) -> None:
    with pytest.raises(CommandError, match="must be"):
        validate(DICTIONARY, name, args)

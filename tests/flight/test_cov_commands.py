"""The command checks beyond the shipped dictionary: a dictionary without ARM (nothing
hazardous) is valid and needs no arming; argument types are strict (no bool for a
number, no number for a bool, no string for either), choices and ranges hold for every
type."""

from __future__ import annotations

from typing import Any

import pytest

from flight.commands import Commander, CommandError, check_dictionary, validate

#: a small dictionary: no ARM, nothing hazardous, one argument of each type
PLAIN: dict[str, dict[str, Any]] = {
    "GO": {"doc": "go", "trigger": "go"},
    "TUNE": {"doc": "tune", "handler": "tune", "args": {
        "gain": {"type": "int", "min": 1, "max": 5, "units": "-"},
        "mode": {"type": "str", "choices": ["fast", "slow"]},
        "enable": {"type": "bool"},
        "level": {"type": "float", "choices": [0.5, 1.0]},
    }},
}
TUNE_OK = {"gain": 2, "mode": "fast", "enable": True, "level": 1.0}


def test_a_dictionary_without_arm_and_nothing_hazardous_needs_no_arming() -> None:
    check_dictionary(PLAIN, "plain.yaml")  # no ARM entry: nothing to cross-check
    fired: list[str] = []
    tuned: list[dict[str, Any]] = []
    events: list[tuple[str, dict[str, Any]]] = []
    cmd = Commander(lambda trigger, why: fired.append(trigger) or True,
                    {"tune": lambda **a: tuned.append(a)},
                    lambda e, **f: events.append((e, f)), dictionary=PLAIN, require_arm=True)
    cmd.submit("GO")
    cmd.submit("TUNE", TUNE_OK)
    cmd.execute_due(0.0)
    assert fired == ["go"] and tuned == [TUNE_OK]
    assert [(f["name"], f["accepted"], f["detail"]) for e, f in events] == [
        ("GO", True, None), ("TUNE", True, None)]


@pytest.mark.parametrize("arg, value, words", [
    ("gain", True, ["'gain'", "must be int", "True"]),
    ("gain", "2", ["'gain'", "must be int"]),
    ("gain", 0, ["'gain'=0", "out of range", "[1, 5]"]),
    ("gain", 6, ["'gain'=6", "out of range"]),
    ("mode", 1, ["'mode'", "must be str"]),
    ("mode", "medium", ["'mode'='medium'", "not one of fast, slow"]),
    ("enable", 1, ["'enable'", "must be bool"]),
    ("enable", "true", ["'enable'", "must be bool"]),
    ("level", 0.75, ["'level'=0.75", "not one of 0.5, 1.0"]),
])
def test_argument_types_choices_and_ranges_are_strict(arg: str, value: Any,
                                                      words: list[str]) -> None:
    with pytest.raises(CommandError) as exc:
        validate(PLAIN, "TUNE", {**TUNE_OK, arg: value})
    assert str(exc.value).startswith("TUNE: ")
    for w in words:
        assert w in str(exc.value)


def test_typed_arguments_are_converted() -> None:
    out = validate(PLAIN, "TUNE", {**TUNE_OK, "gain": 5, "level": 1})
    assert out == {**TUNE_OK, "gain": 5, "level": 1.0}
    assert type(out["gain"]) is int and type(out["level"]) is float
    assert out["enable"] is True

"""Stored sequence files: the format, and every way a file is rejected as a whole (naming
the step and key) before anything runs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from common.errors import ConfigError
from flight.sequences import (
    Condition,
    SequenceError,
    load_sequence_file,
    parse_sequence,
    parse_sequence_text,
    sequence_from_commands,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "sequences" / "three-scoops.yaml"
CYCLE_S = 0.1
ARM_START = {"command": "ARM", "args": {"command": "START_EXTRACTION"}}
START = {"command": "START_EXTRACTION"}
BACK_IN_IDLE = {"wait_until": {"state": "IDLE"}, "timeout_s": 43200}


def seq(*steps: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"name": "t", **top, "steps": list(steps)}


def parse(data: Any, **kw: Any) -> Any:
    kw.setdefault("cycle_s", CYCLE_S)
    return parse_sequence(data, "s.yaml", **kw)


def rejected(data: Any, step: int | None, key: str, *words: str, **kw: Any) -> SequenceError:
    with pytest.raises(SequenceError) as info:
        parse(data, **kw)
    err = info.value
    assert (err.step, err.key) == (step, key), str(err)
    path = key if step is None else f"steps[{step}]" + (f".{key}" if key else "")
    assert str(err).startswith(f"s.yaml: {path}: "), str(err)
    for w in words:
        assert w in str(err), str(err)
    return err


# ---- what is accepted, and what it becomes ----------------------------------------------
def test_the_example_three_scoops_parses() -> None:
    s = load_sequence_file(EXAMPLE, cycle_s=CYCLE_S)
    assert s.name == "three-scoops" and s.start_state == "IDLE" and s.on_refused == "cancel"
    assert [st.command for st in s.steps if st.command == "START_EXTRACTION"] == [
        "START_EXTRACTION"] * 3
    assert [st.command for st in s.steps].count("LOAD_SAMPLE") == 2
    waits = [st for st in s.steps if st.wait is not None and st.wait.state == "IDLE"]
    assert len(waits) == 3
    assert all(w.timeout_s == 36000.0 and w.on_timeout == "cancel" for w in waits)
    assert s.steps[0].comment  # comments are kept
    # worst case: 3 x 10 h of waits plus 1.5 + 0.1 + 1.5 + 0.1 + 1.5 s of tags
    assert s.duration_s == pytest.approx(3 * 36000 + 4.7)


def test_the_brief_example_is_typed_and_timed() -> None:
    s = parse(seq(
        {"after_s": 1.0, **ARM_START, "comment": "arm it"},
        {"after_s": 0.5, **START},
        {"wait_until": {"state": "IDLE"}, "timeout_s": 43200, "on_timeout": "cancel"},
        {"after_s": 0.1, "command": "LOAD_SAMPLE"},
        {"at_s": 7200.0, "command": "SET_POWER_CAP", "args": {"cap_w": 30}},
        {"wait_until": {"telemetry": "chamber_pressure_pa", "above": 2.0}, "timeout_s": 600,
         "on_timeout": "safe"}))
    assert s.steps[4].args == {"cap_w": 30.0} and isinstance(s.steps[4].args["cap_w"], float)
    assert s.steps[4].at_s == 7200.0 and s.steps[3].after_s == 0.1 and s.steps[2].after_s == 0
    assert s.steps[5].wait == Condition(telemetry="chamber_pressure_pa", above=2.0)
    assert s.steps[5].on_timeout == "safe" and s.steps[2].on_timeout == "cancel"
    assert [st.index for st in s.steps] == list(range(6))
    assert s.duration_s == pytest.approx(1.5 + 43200 + 0.1 + 600)


def test_a_parent_start_state_and_a_parent_wait() -> None:
    s = parse(seq({"wait_until": {"state": "EXTRACT"}, "timeout_s": 10},
                  {"command": "ABORT"}, start_state="EXTRACT"))
    assert s.steps[0].wait is not None
    assert s.steps[0].wait.states == {"EXTRACT_HEAT", "EXTRACT_CAPTURE", "EXTRACT_SECURE"}


def test_conditions_never_hold_on_a_missing_or_nan_reading() -> None:
    above = Condition(telemetry="trap_temp_k", above=100.0)
    below = Condition(telemetry="trap_temp_k", below=100.0)
    assert above.holds("IDLE", {"trap_temp_k": 101.0})
    assert not above.holds("IDLE", {"trap_temp_k": 100.0})
    assert below.holds("IDLE", {"trap_temp_k": 99.0})
    for readings in ({}, {"trap_temp_k": None}, {"trap_temp_k": math.nan}):
        assert not above.holds("IDLE", readings) and not below.holds("IDLE", readings)
    state = Condition(state="EXTRACT", states=frozenset({"EXTRACT_HEAT"}))
    assert state.holds("EXTRACT_HEAT", {}) and not state.holds("IDLE", {})


def test_a_hazardous_command_armed_in_time_is_accepted() -> None:
    parse(seq({"after_s": 5, **ARM_START}, {"after_s": 30, **START}))  # exactly the window
    parse(seq({"at_s": 10, **ARM_START}, {"at_s": 40, **START}))
    # absolute ARM, then a relative step that makes the next absolute one late: 25 s
    parse(seq({"at_s": 10, **ARM_START},
              {"after_s": 25, "command": "SET_POWER_CAP", "args": {"cap_w": 30}},
              {"at_s": 31, **START}))
    # SET_HEATER_SETPOINT is hazardous only above 400 K
    parse(seq({"command": "SET_HEATER_SETPOINT", "args": {"setpoint_k": 400}}))


# ---- rejected -------------------------------------------------------------------------
@pytest.mark.parametrize("step, key, words", [
    ({"command": "FROB"}, "command", ["unknown command 'FROB'"]),
    ({"command": "SET_POWER_CAP", "args": {"cap_w": -1}}, "args", ["cap_w", "out of range"]),
    ({"command": "SET_POWER_CAP", "args": {"cap_W": 3}}, "args", ["unknown argument", "cap_W"]),
    ({"command": "SET_POWER_CAP"}, "args", ["missing argument 'cap_w'"]),
    ({"command": "SEQ_START", "args": {"seq_id": 2}}, "command",
     ["not accepted from sequence"]),
    ({"command": "SUBSTITUTE_SENSOR",
      "args": {"sensor": "trap_temp_k", "substitute": "trap_temp_k"}}, "command",
     ["not accepted from sequence"]),
])
def test_unknown_commands_and_bad_arguments(step: dict[str, Any], key: str,
                                            words: list[str]) -> None:
    rejected(seq({"command": "SET_POWER_CAP", "args": {"cap_w": 30}}, step), 1, key, *words)


def test_load_sample_right_after_start_extraction_is_an_impossible_order() -> None:
    err = rejected(seq(ARM_START, START, {"command": "LOAD_SAMPLE"}), 2, "command",
                   "LOAD_SAMPLE is refused in EXTRACT_HEAT", "accepted only in IDLE",
                   "after steps[1] (START_EXTRACTION)", "wait_until {state: ...}")
    assert isinstance(err, ConfigError)


def test_a_trigger_from_a_state_without_its_transition() -> None:
    rejected(seq(ARM_START, START, ARM_START, START), 3, "command",
             "START_EXTRACTION is refused in EXTRACT_HEAT",
             "where the sequence is after steps[1] (START_EXTRACTION)",
             "the chart moves on by itself only through a wait_until {state: ...}")
    rejected(seq(START, start_state="EXTRACT"), 0, "command",
             "START_EXTRACTION is refused in EXTRACT", "start_state EXTRACT")


def test_recover_in_a_sequence_is_refused() -> None:
    rejected(seq({"command": "RECOVER"}), 0, "command", "RECOVER is refused in IDLE")
    rejected(seq({"command": "RECOVER"}, start_state="SAFE"), None, "start_state",
             "cannot run in SAFE")
    rejected(seq({"wait_until": {"state": "SAFE"}, "timeout_s": 5}, {"command": "RECOVER"}),
             0, "wait_until.state", "can never see SAFE")


def test_steps_after_entering_safe_would_never_run() -> None:
    rejected(seq({"command": "SAFE"}, {"command": "SET_POWER_CAP", "args": {"cap_w": 3}}),
             0, "command", "cancelled on entering SAFE", "steps[1:] would never run")
    parse(seq({"command": "SET_POWER_CAP", "args": {"cap_w": 3}}, {"command": "SAFE"}))


def test_a_wait_moves_the_prediction_and_the_states_are_known() -> None:
    parse(seq(ARM_START, START, BACK_IN_IDLE, {"command": "LOAD_SAMPLE"}))
    rejected(seq({"wait_until": {"state": "IDEL"}, "timeout_s": 5}), 0, "wait_until.state",
             "unknown state 'IDEL'")
    rejected(seq(START, start_state="NOWHERE"), None, "start_state", "unknown state")


def test_time_tags_in_the_past_off_cycle_or_going_back() -> None:
    rejected(seq({"at_s": 50.0, "command": "SAFE"}), 0, "at_s", "50 s is in the past",
             "now 100 s", now_s=100.0)
    parse(seq({"at_s": 100.0, "command": "SAFE"}), now_s=100.0)  # now is not the past
    rejected(seq(BACK_IN_IDLE, {"after_s": 0.05, "command": "LOAD_SAMPLE"}), 1, "after_s",
             "0.05 s is not a whole number of cycles (0.1 s)")
    rejected(seq({"at_s": 10.05, "command": "SAFE"}), 0, "at_s", "not a whole number")
    rejected(seq({"wait_until": {"state": "IDLE"}, "timeout_s": 1.25}), 0, "timeout_s",
             "not a whole number")
    parse(seq({"after_s": 0.05, "command": "SAFE"}), cycle_s=0.05)
    rejected(seq({"at_s": 20.0, "command": "SET_POWER_CAP", "args": {"cap_w": 3}},
                 {"after_s": 1.0, "command": "SET_POWER_CAP", "args": {"cap_w": 4}},
                 {"at_s": 10.0, "command": "SAFE"}), 2, "at_s",
             "goes back from steps[0].at_s 20 s")
    rejected(seq({"at_s": 1.0, "after_s": 1.0, "command": "SAFE"}), 0, "at_s",
             "at most one of at_s and after_s")
    rejected(seq({"after_s": -1.0, "command": "SAFE"}), 0, "after_s", "out of range")


def test_an_unarmed_hazardous_command() -> None:
    rejected(seq(START), 0, "command", "not armed", "START_EXTRACTION is hazardous",
             "ARM {command: START_EXTRACTION}")
    rejected(seq({"command": "SET_HEATER_SETPOINT", "args": {"setpoint_k": 450}}), 0,
             "command", "not armed: SET_HEATER_SETPOINT")
    # an ARM is used up by one command: the second START needs its own
    rejected(seq(ARM_START, START, BACK_IN_IDLE, START), 3, "command", "not armed")
    # an ARM of another command does not count
    rejected(seq({"command": "ARM", "args": {"command": "SET_HEATER_SETPOINT"}}, START), 1,
             "command", "not armed")


def test_arm_too_early_exceeds_the_window() -> None:
    rejected(seq(ARM_START, {"after_s": 20, "command": "SET_POWER_CAP", "args": {"cap_w": 30}},
                 {"after_s": 10.1, **START}), 2, "command",
             "30.1 s after its ARM at steps[0]", "arm window is 30 s")
    rejected(seq({"at_s": 10, **ARM_START}, {"at_s": 40.5, **START}), 1, "command",
             "30.5 s after its ARM")
    # absolute ARM, then relative steps that push the absolute command late: 31 s
    rejected(seq({"at_s": 10, **ARM_START},
                 {"after_s": 31, "command": "SET_POWER_CAP", "args": {"cap_w": 30}},
                 {"at_s": 20, **START}), 2, "command", "31 s after its ARM")


def test_arm_with_a_wait_or_mixed_tags_between_cannot_be_timed() -> None:
    rejected(seq(ARM_START, BACK_IN_IDLE, START), 2, "command",
             "the wait_until at steps[1] lies between the ARM at steps[0]", "ARM after the wait")
    rejected(seq(ARM_START, {"at_s": 10, **START}), 1, "command",
             "absolute tag", "cannot be known")


def test_unknown_keys_anywhere_name_the_key() -> None:
    rejected(seq({"commnd": "SAFE"}), 0, "commnd", "unknown key", "did you mean 'command'")
    rejected(seq({"command": "SAFE"}, stpes=[]), None, "stpes", "unknown key")
    rejected(seq({"wait_until": {"telemetry": "trap_temp_k", "abov": 3}, "timeout_s": 5}), 0,
             "wait_until.abov", "unknown key")
    rejected(seq({"command": "SAFE", "timeout_s": 5}), 0, "timeout_s",
             "only a wait_until step has it")
    rejected(seq({"wait_until": {"state": "IDLE"}, "timeout_s": 5, "args": {"a": 1}}), 0,
             "args", "only a command step")


def test_malformed_steps_and_waits() -> None:
    rejected(seq({"after_s": 1.0}), 0, "command", "exactly one of command and wait_until")
    rejected(seq({"command": "SAFE", "wait_until": {"state": "IDLE"}, "timeout_s": 5}), 0,
             "command", "exactly one of")
    rejected(seq({"wait_until": {"state": "IDLE"}}), 0, "timeout_s", "timeout_s > 0")
    rejected(seq({"wait_until": {"state": "IDLE"}, "timeout_s": 0}), 0, "timeout_s")
    rejected(seq({"wait_until": {"state": "IDLE"}, "timeout_s": 5, "on_timeout": "retry"}), 0,
             "on_timeout", "not one of")
    rejected(seq({"wait_until": {"telemetry": "trap_temp_k"}, "timeout_s": 5}), 0,
             "wait_until", "exactly one of above and below")
    rejected(seq({"wait_until": {"telemetry": "trap_tmp_k", "above": 1}, "timeout_s": 5}), 0,
             "wait_until.telemetry", "unknown telemetry 'trap_tmp_k'")
    rejected(seq({"wait_until": {"state": "IDLE", "above": 1}, "timeout_s": 5}), 0,
             "wait_until.above", "only a telemetry condition")
    rejected(seq({"command": "SAFE"}, on_refused="retry"), None, "on_refused", "not one of")
    rejected(seq(), None, "steps", "expected 1 to 250 steps, got 0")
    rejected(seq(*[{"command": "SET_POWER_CAP", "args": {"cap_w": 1}}] * 1001), None, "steps",
             "got 1001")
    rejected({"steps": [{"command": "SAFE"}]}, None, "name", "required key is missing")
    rejected(seq("SAFE"), 0, "", "expected a mapping")


def test_a_duration_too_long_names_the_step_that_passes_it() -> None:
    rejected(seq(BACK_IN_IDLE, {"after_s": 1.0, "command": "LOAD_SAMPLE"}, BACK_IN_IDLE),
             2, "timeout_s", "86401 s", "max_duration_s 86400 s", max_duration_s=86400.0)
    rejected(seq({"after_s": 100.1, "command": "SAFE"}), 0, "after_s", "over max_duration_s",
             max_duration_s=100.0)
    # absolute tags as they come, from now
    rejected(seq({"at_s": 1000.0, "command": "SAFE"}), 0, "at_s", "900 s",
             max_duration_s=800.0, now_s=100.0)
    assert parse(seq({"at_s": 1000.0, "command": "SAFE"}), now_s=100.0).duration_s == 900.0


# ---- text and files ---------------------------------------------------------------------
def test_a_yaml_syntax_error_names_the_line() -> None:
    text = "name: t\nsteps:\n  - {command: SAFE\n  - {command: ABORT}\n"
    with pytest.raises(SequenceError, match=r"^s\.yaml: line \d+: not valid YAML") as info:
        parse_sequence_text(text, "s.yaml", cycle_s=CYCLE_S)
    assert info.value.key.startswith("line ") and info.value.step is None


def test_a_key_given_twice_is_refused() -> None:
    text = "name: t\nsteps:\n  - {command: SAFE, command: ABORT}\n"
    with pytest.raises(SequenceError, match="line 3: .*duplicate key 'command'"):
        parse_sequence_text(text, "s.yaml", cycle_s=CYCLE_S)


def test_text_as_bytes_and_errors_from_text_name_the_step() -> None:
    s = parse_sequence_text(b"name: t\nsteps:\n  - {after_s: 0.2, command: SAFE}\n", "x",
                            cycle_s=CYCLE_S)
    assert s.steps[0].after_s == 0.2
    with pytest.raises(SequenceError, match=r"^x: steps\[0\]\.after_s: 0\.25 s"):
        parse_sequence_text("name: t\nsteps:\n  - {after_s: 0.25, command: SAFE}\n", "x",
                            cycle_s=CYCLE_S)
    with pytest.raises(SequenceError, match="not UTF-8"):
        parse_sequence_text(b"name: \xff\n", "x", cycle_s=CYCLE_S)
    with pytest.raises(SequenceError, match="expected a mapping at the top level"):
        parse_sequence_text("- 1\n", "x", cycle_s=CYCLE_S)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SequenceError, match="cannot read"):
        load_sequence_file(tmp_path / "none.yaml", cycle_s=CYCLE_S)


# ---- a mission's commands ---------------------------------------------------------------
def test_mission_commands_become_a_sorted_sequence() -> None:
    s = sequence_from_commands(
        [(5.0, "START_EXTRACTION", {}), (4.0, "ARM", {"command": "START_EXTRACTION"}),
         (5.0, "SET_POWER_CAP", {"cap_w": 25})], "quick.yaml", start_state="IDLE",
        cycle_s=CYCLE_S)
    assert (s.name, s.on_refused, s.start_state) == ("mission", "continue", "IDLE")
    assert [(st.at_s, st.command) for st in s.steps] == [
        (4.0, "ARM"), (5.0, "START_EXTRACTION"), (5.0, "SET_POWER_CAP")]  # stable
    assert s.duration_s == 5.0


def test_mission_command_errors_name_the_commands_index() -> None:
    with pytest.raises(SequenceError, match=r"^m\.yaml: commands\[0\]\.name: START_EXTRACTION "
                       r"may come 49 s after its ARM at commands\[1\]") as e:
        sequence_from_commands([(50.0, "START_EXTRACTION", {}),
                                (1.0, "ARM", {"command": "START_EXTRACTION"})],
                               "m.yaml", start_state="IDLE", cycle_s=CYCLE_S)
    assert e.value.step == 0 and e.value.key == "name"
    with pytest.raises(SequenceError, match=r"^m\.yaml: commands\[1\]\.name: .* 39 s after "
                       r"its ARM at commands\[0\]"):
        sequence_from_commands([(1.0, "ARM", {"command": "START_EXTRACTION"}),
                                (40.0, "START_EXTRACTION", {}),
                                (1.5, "SET_POWER_CAP", {"cap_w": 30})],
                               "m.yaml", start_state="IDLE", cycle_s=CYCLE_S)
    with pytest.raises(SequenceError, match=r"commands\[0\]\.name: .*the commands after it "
                       "would never run"):
        sequence_from_commands([(1.0, "SAFE", {}), (2.0, "SAFE", {})],
                               "m.yaml", start_state="IDLE", cycle_s=CYCLE_S)
    with pytest.raises(SequenceError, match=r"^m\.yaml: commands\[1\]\.args: .*cap_w"):
        sequence_from_commands([(9.0, "SAFE", {}), (2.0, "SET_POWER_CAP", {"cap_w": -2})],
                               "m.yaml", start_state="IDLE", cycle_s=CYCLE_S)


def test_odd_input_is_a_rejected_file_never_a_crash() -> None:
    """What the parser or the schema could raise on odd bytes (a number too big for a
    float, nesting too deep) is a SequenceError naming the file: an upload must never
    take the flight software down (review finding)."""
    from flight.sequences.model import SequenceError
    from flight.sequences.schema import parse_sequence_text

    huge = "name: x\nsteps:\n  - {after_s: 1" + "0" * 400 + ", command: SAFE}\n"
    deep = "name: x\nsteps: " + "[" * 300 + "]" * 300 + "\n"
    for text in (huge, deep, b"\xff\xfe"):
        with pytest.raises(SequenceError, match="^slot 1"):
            parse_sequence_text(text, "slot 1", cycle_s=0.1)

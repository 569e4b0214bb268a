"""The stored-sequence engine on a fake 10 Hz clock: commands in exactly the cycle their
tag names, waits and their timeouts, pause/resume/step/cancel, slots, SAFE, autostart."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from flight.commands import CommandError
from flight.sequences import SequenceEngine, parse_sequence_text, sequence_from_commands
from flight.sequences.engine import MAX_BYTES, NONE, PAUSED, RUNNING, WAITING

CYCLE_S = 0.1
ARM_START = {"command": "ARM", "args": {"command": "START_EXTRACTION"}}
START = {"command": "START_EXTRACTION"}


def cap(cap_w: float, **tag: float) -> dict[str, Any]:
    return {**tag, "command": "SET_POWER_CAP", "args": {"cap_w": cap_w}}


def text(*steps: dict[str, Any], **top: Any) -> str:
    return yaml.safe_dump({"name": "t", **top, "steps": list(steps)}, sort_keys=False)


class Rig:
    """The engine with recording fakes, driven cycle by cycle on a 0.1 s clock."""

    def __init__(self) -> None:
        self.k = 0  # cycles: now_s = k / 10, as the stepped clock counts ticks
        self.state = "IDLE"
        self.readings: dict[str, Any] = {}
        self.refuse: set[str] = set()
        #: command -> the state the (fake) chart is in once it ran
        self.moves = {"START_EXTRACTION": "EXTRACT_HEAT", "SAFE": "SAFE", "ABORT": "SAFE"}
        self.executed: list[tuple[float, str, dict[str, Any]]] = []
        self.safed: list[str] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.engine = SequenceEngine(self._execute, self.safed.append,
                                     lambda e, **f: self.events.append((e, f)), self._parse)

    @property
    def now(self) -> float:
        return self.k / 10

    def _parse(self, data: bytes, where: str, now_s: float) -> Any:
        return parse_sequence_text(data, where, cycle_s=CYCLE_S, now_s=now_s)

    def _execute(self, name: str, args: dict[str, Any]) -> bool:
        self.executed.append((self.now, name, args))
        if name in self.refuse:
            return False
        if name in self.moves:
            self.state = self.moves[name]
            if self.state == "SAFE":
                self.engine.on_safe()  # as the app does on entering SAFE
        return True

    def load(self, slot: int, yaml_text: str) -> None:
        self.engine.upload(slot, 0, yaml_text.encode(), self.now)
        self.engine.load(slot, self.now)

    def start(self, slot: int = 1) -> None:
        self.engine.start(slot, self.now, self.state)

    def cycle(self, n: int = 1) -> None:
        for _ in range(n):
            self.k += 1
            self.engine.tick(self.now, self.state, self.readings)

    def until(self, t_s: float) -> None:
        while self.now < t_s - 1e-9:
            self.cycle()

    def times(self) -> list[float]:
        return [t for t, _, _ in self.executed]

    def caps(self) -> list[float]:
        return [a["cap_w"] for _, n, a in self.executed if n == "SET_POWER_CAP"]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]

    def actions(self) -> list[str]:
        return [f["action"] for f in self.named("sequence")]


def at(*times: float) -> list[Any]:
    return [pytest.approx(t, abs=1e-9) for t in times]


# ---- timing -----------------------------------------------------------------------------
def test_sub_second_tags_run_in_exactly_the_cycle_they_name() -> None:
    r = Rig()
    r.k = 10  # 1.0 s
    r.load(1, text(cap(10, after_s=0.3), cap(20, after_s=0.2), cap(30), cap(40, at_s=2.7),
                   cap(50, after_s=0.1)))
    r.start()
    r.until(4.0)
    assert r.times() == at(1.3, 1.5, 1.5, 2.7, 2.8)  # 0 cycles late, after_s 0: same cycle
    assert r.caps() == [10, 20, 30, 40, 50]
    assert r.actions() == ["uploaded", "loaded", "started", "completed"]
    assert not r.engine.busy()


def test_a_wait_for_a_state_ends_in_the_cycle_it_holds_and_times_the_next_step() -> None:
    r = Rig()
    r.load(1, text(ARM_START, {"after_s": 0.1, **START},
                   {"wait_until": {"state": "IDLE"}, "timeout_s": 100},
                   {"after_s": 0.2, "command": "LOAD_SAMPLE"}))
    r.start()
    r.cycle(3)
    # START ran with the tick's state still IDLE: the wait did not take that stale IDLE
    assert [n for _, n, _ in r.executed] == ["ARM", "START_EXTRACTION"]
    p = r.engine.progress()
    assert (p["seq_id"], p["seq_status"], p["seq_step"]) == (1, WAITING, 2)
    assert math.isnan(p["seq_next_s"])
    r.until(4.9)
    r.state = "IDLE"  # the chart came back by itself: seen at 5.0 s
    r.until(6.0)
    assert r.executed[-1][1] == "LOAD_SAMPLE" and r.executed[-1][0] == pytest.approx(5.2)
    assert r.actions()[-1] == "completed"


def test_a_wait_on_telemetry_ignores_missing_and_nan_readings() -> None:
    r = Rig()
    r.load(1, text({"wait_until": {"telemetry": "chamber_pressure_pa", "above": 2.0},
                    "timeout_s": 60}, cap(5, after_s=0.3)))
    r.start()
    for value in (None, math.nan, 1.5, 2.0):
        r.readings = {} if value is None else {"chamber_pressure_pa": value}
        r.cycle()
    assert r.executed == [] and r.engine.progress()["seq_status"] == WAITING
    r.readings = {"chamber_pressure_pa": 2.5}
    r.cycle()  # 0.5 s: satisfied
    r.until(2.0)
    assert r.times() == at(0.8)


@pytest.mark.parametrize("on_timeout", ["cancel", "continue", "safe"])
def test_a_wait_that_times_out(on_timeout: str) -> None:
    r = Rig()
    r.load(1, text({"wait_until": {"telemetry": "trap_temp_k", "below": 130.0},
                    "timeout_s": 1.0, "on_timeout": on_timeout}, cap(5, after_s=0.5)))
    r.start()
    r.readings = {"trap_temp_k": 200.0}
    r.until(5.0)
    failed = r.named("sequence_failed")
    if on_timeout == "continue":
        assert r.times() == at(1.6)  # the wait began at 0.1 s, gave up at 1.1 s
        assert failed == [] and r.actions()[-1] == "completed"
    else:
        assert r.executed == []
        assert len(failed) == 1 and failed[0]["step"] == 0
        assert "wait_until trap_temp_k below 130 timed out after 1 s" in failed[0]["reason"]
        assert r.safed == ([failed[0]["reason"].removesuffix(": safed")]
                           if on_timeout == "safe" else [])
    assert not r.engine.busy()


@pytest.mark.parametrize("on_refused", ["cancel", "continue"])
def test_a_refused_step(on_refused: str) -> None:
    r = Rig()
    r.refuse = {"LOAD_SAMPLE"}
    r.load(1, text({"command": "LOAD_SAMPLE"}, cap(5, after_s=0.2), on_refused=on_refused))
    r.start()
    r.until(2.0)
    failed = r.named("sequence_failed")
    if on_refused == "cancel":
        assert r.caps() == [] and len(failed) == 1
        assert failed[0]["step"] == 0 and "LOAD_SAMPLE was refused" in failed[0]["reason"]
    else:
        assert r.caps() == [5] and failed == [] and r.actions()[-1] == "completed"


# ---- pause, resume, step, cancel --------------------------------------------------------
def test_pause_and_resume_keep_relative_time_left_and_absolute_tags() -> None:
    r = Rig()
    r.load(1, text(cap(1, after_s=1.0), cap(2, at_s=3.0), cap(3, at_s=5.0)))
    r.start()
    r.until(0.4)
    r.engine.pause(r.now)  # 0.6 s left of step 0
    p = r.engine.progress()
    assert p["seq_status"] == PAUSED and math.isnan(p["seq_next_s"])
    r.until(2.0)
    assert r.executed == []
    r.engine.resume(r.now)
    assert r.engine.progress()["seq_next_s"] == pytest.approx(2.6)
    r.until(4.0)
    assert r.times() == at(2.6, 3.0)  # the absolute tag stayed where it was
    r.engine.pause(r.now)
    assert r.engine.progress()["seq_next_s"] == 5.0  # paused on an absolute tag
    r.until(5.5)
    r.engine.resume(r.now)  # 5.0 passed while paused: it runs at the next tick
    r.cycle()
    assert r.times() == at(2.6, 3.0, 5.6)
    assert r.actions() == ["uploaded", "loaded", "started", "paused", "resumed", "paused",
                           "resumed", "completed"]


def test_step_runs_the_next_step_now_and_stays_paused() -> None:
    r = Rig()
    r.load(1, text(cap(1, after_s=5.0), {"wait_until": {"state": "EXTRACT"}, "timeout_s": 60},
                   cap(2, after_s=0.3)))
    r.start()
    r.cycle()
    with pytest.raises(CommandError, match="not paused"):
        r.engine.step(r.now, r.state, r.readings)
    r.engine.pause(r.now)
    r.engine.step(r.now, r.state, r.readings)  # the command, 4.9 s early
    assert r.times() == at(0.1)
    r.cycle(3)
    r.engine.step(r.now, r.state, r.readings)  # the wait ends as if satisfied
    p = r.engine.progress()
    assert (p["seq_status"], p["seq_step"]) == (PAUSED, 2) and len(r.executed) == 1
    r.until(1.0)
    r.engine.resume(r.now)
    r.until(2.0)
    assert r.times() == at(0.1, 1.3)  # its 0.3 s counted from the resume
    assert r.actions().count("stepped") == 2
    assert [f["step"] for f in r.named("sequence") if f["action"] == "stepped"] == [0, 1]


def test_cancel_and_commands_with_nothing_to_act_on() -> None:
    r = Rig()
    with pytest.raises(CommandError, match="no sequence is running"):
        r.engine.cancel("SEQ_CANCEL")
    for call in (lambda: r.engine.pause(0.0), lambda: r.engine.resume(0.0),
                 lambda: r.engine.step(0.0, "IDLE", {})):
        with pytest.raises(CommandError, match="no sequence is running"):
            call()
    r.load(1, text(cap(1, after_s=1.0), cap(2, after_s=1.0)))
    r.start()
    r.until(1.5)
    with pytest.raises(CommandError, match="not paused"):
        r.engine.resume(r.now)
    r.engine.cancel("SEQ_CANCEL from ground")
    r.until(5.0)
    assert r.caps() == [1]
    assert r.named("sequence_failed") == [{"id": 1, "step": 1, "reason": "SEQ_CANCEL from ground"}]
    assert not r.engine.busy()
    with pytest.raises(CommandError, match="no sequence is running"):
        r.engine.cancel("again")


def test_sequences_never_interleave_and_start_checks_its_state_and_tags() -> None:
    r = Rig()
    r.load(1, text(cap(1, after_s=10.0)))
    r.load(2, text(cap(2, at_s=5.0)))
    with pytest.raises(CommandError, match="no sequence loaded"):
        r.engine.start(3, r.now, "IDLE")
    r.start(1)
    with pytest.raises(CommandError, match="refused, never interleaved: sequence 1"):
        r.start(2)
    r.engine.pause(r.now)
    with pytest.raises(CommandError, match="never interleaved.*paused"):
        r.start(2)
    r.engine.cancel("x")
    with pytest.raises(CommandError, match="starts in IDLE; the payload is in EXTRACT_HEAT"):
        r.engine.start(2, r.now, "EXTRACT_HEAT")
    r.until(6.0)
    with pytest.raises(CommandError, match=r"steps\[0\]\.at_s 5 s is in the past"):
        r.start(2)
    r.load(3, text({"command": "ABORT"}, start_state="EXTRACT"))
    r.engine.start(3, r.now, "EXTRACT_CAPTURE")  # a parent covers its children
    assert r.engine.progress()["seq_id"] == 3


# ---- slots ------------------------------------------------------------------------------
def test_upload_in_chunks_then_load() -> None:
    r = Rig()
    data = text(cap(7, after_s=0.2)).encode()
    chunks = [data[i:i + 10] for i in range(0, len(data), 10)]
    offset = 0
    for chunk in chunks[:2]:
        r.engine.upload(4, offset, chunk, r.now)
        offset += len(chunk)
    with pytest.raises(CommandError, match=f"offset {offset + 10}, expected offset {offset}"):
        r.engine.upload(4, offset + 10, chunks[2], r.now)
    for chunk in chunks[2:]:
        r.engine.upload(4, offset, chunk, r.now)
        offset += len(chunk)
    r.engine.load(4, r.now)
    r.engine.start(4, r.now, "IDLE")
    r.until(1.0)
    assert r.caps() == [7]
    # offset 0 starts the slot again
    r.engine.upload(4, 0, b"name: x\n", r.now)
    r.engine.upload(4, 0, b"garbage: [", r.now)
    with pytest.raises(CommandError, match="slot 4: line 1: not valid YAML"):
        r.engine.load(4, r.now)
    with pytest.raises(CommandError, match=f"over the {MAX_BYTES}"):
        r.engine.upload(4, 10, b"x" * MAX_BYTES, r.now)
    for bad in (0, 256):
        with pytest.raises(CommandError, match=f"no slot {bad}"):
            r.engine.upload(bad, 0, b"x", r.now)
    with pytest.raises(CommandError, match="nothing uploaded"):
        r.engine.load(9, r.now)


def test_a_rejected_load_names_the_step_and_key_and_leaves_nothing_to_start() -> None:
    """A new upload, and a rejected load, leave the slot with nothing startable: the
    old sequence must not run in place of the one the ground meant (review finding)."""
    r = Rig()
    r.load(2, text(cap(1)))
    r.engine.upload(2, 0, text(cap(1), {"command": "FROB"}).encode(), r.now)
    with pytest.raises(CommandError, match="slot 2 has no sequence loaded"):
        r.start(2)  # (the upload began a new text: the old one is gone)
    with pytest.raises(CommandError, match=r"^slot 2: steps\[1\]\.command: unknown command"):
        r.engine.load(2, r.now)
    with pytest.raises(CommandError, match="slot 2 has no sequence loaded"):
        r.start(2)
    r.cycle()
    assert r.caps() == []


def test_the_running_slot_cannot_be_uploaded_or_loaded() -> None:
    r = Rig()
    r.load(1, text(cap(1, after_s=5.0)))
    r.start()
    with pytest.raises(CommandError, match="cannot upload into slot 1: its sequence is running"):
        r.engine.upload(1, 0, b"x", r.now)
    with pytest.raises(CommandError, match="cannot load slot 1"):
        r.engine.load(1, r.now)
    r.engine.upload(2, 0, b"x", r.now)  # another slot is fine


# ---- SAFE, autostart, progress ----------------------------------------------------------
def test_entering_safe_cancels_the_sequence() -> None:
    r = Rig()
    n = len(r.events)
    r.engine.on_safe()  # nothing running: nothing happens
    assert len(r.events) == n
    r.load(1, text(cap(1, after_s=5.0)))
    r.start()
    r.cycle()
    r.engine.on_safe()
    assert r.named("sequence_failed") == [{"id": 1, "step": 0, "reason": "entered SAFE"}]
    r.until(6.0)
    assert r.executed == [] and not r.engine.busy()


def test_a_step_that_enters_safe_ends_the_sequence_cleanly() -> None:
    r = Rig()
    r.load(1, text(cap(1), {"after_s": 0.1, "command": "SAFE"}))
    r.start()
    r.until(1.0)  # SAFE's on_safe ran inside execute
    assert [n for _, n, _ in r.executed] == ["SET_POWER_CAP", "SAFE"]
    assert r.named("sequence_failed")[-1]["reason"] == "entered SAFE"
    assert not r.engine.busy() and r.engine.progress()["seq_id"] == 0


def test_autostart_starts_the_first_cycle_in_the_state_and_runs_due_steps_then() -> None:
    r = Rig()
    mission = sequence_from_commands(
        [(1.0, "SET_POWER_CAP", {"cap_w": 30}), (1.4, "ARM", {"command": "START_EXTRACTION"}),
         (1.4, "START_EXTRACTION", {})], "mission.yaml", start_state="IDLE", cycle_s=CYCLE_S)
    r.engine.install(1, mission)
    r.engine.autostart(1, "IDLE")
    assert r.engine.busy() and r.engine.progress()["seq_id"] == 0
    with pytest.raises(CommandError, match="armed to autostart"):
        r.engine.upload(1, 0, b"x", r.now)
    r.state = "CHECKOUT"
    r.until(0.9)
    assert r.executed == []
    r.state = "IDLE"
    r.until(2.0)
    assert r.times() == at(1.0, 1.4, 1.4)  # started at 1.0, step 0 in that very cycle
    assert r.actions()[-2:] == ["started", "completed"]
    assert not r.engine.busy()


def test_autostart_with_a_tag_in_the_past_fails_and_safe_drops_an_armed_one() -> None:
    r = Rig()
    mission = sequence_from_commands([(1.0, "SET_POWER_CAP", {"cap_w": 30})], "m",
                                     start_state="IDLE", cycle_s=CYCLE_S)
    r.engine.install(1, mission)
    r.engine.autostart(1, "IDLE")
    r.state = "CHECKOUT"
    r.until(2.0)
    r.state = "IDLE"
    r.cycle()
    failed = r.named("sequence_failed")
    assert len(failed) == 1 and "autostart" in failed[0]["reason"] and "past" in failed[0][
        "reason"]
    assert r.executed == [] and not r.engine.busy()
    r.engine.autostart(1, "IDLE")
    r.engine.on_safe()
    assert r.named("sequence_failed")[-1]["reason"] == "entered SAFE"
    assert not r.engine.busy()


def test_progress_values() -> None:
    r = Rig()
    p = r.engine.progress()
    assert set(p) == {"seq_id", "seq_step", "seq_status", "seq_next_s"}
    assert (p["seq_id"], p["seq_status"], p["seq_step"]) == (0, NONE, 0)
    assert math.isnan(p["seq_next_s"])
    r.load(7, text(cap(1, after_s=0.5), cap(2, after_s=0.5)))
    r.start(7)
    r.cycle()
    assert r.engine.progress() == {"seq_id": 7, "seq_status": RUNNING, "seq_step": 0,
                                   "seq_next_s": pytest.approx(0.5)}
    r.until(0.5)
    assert r.engine.progress() == {"seq_id": 7, "seq_status": RUNNING, "seq_step": 1,
                                   "seq_next_s": pytest.approx(1.0)}
    r.until(1.0)
    assert r.engine.progress()["seq_id"] == 0


def test_an_idle_engine_does_nothing_and_only_two_event_names_exist() -> None:
    r = Rig()
    r.cycle(100)
    assert r.executed == [] and r.events == [] and not r.engine.busy()
    r.load(1, text(cap(1), {"wait_until": {"state": "IDLE"}, "timeout_s": 0.2,
                            "on_timeout": "cancel"}, cap(2)))
    r.state = "EXTRACT_HEAT"
    r.engine.start(1, r.now, "IDLE")
    r.cycle(20)
    assert r.caps() == [1]
    assert {e for e, _ in r.events} == {"sequence", "sequence_failed"}
    assert all(set(f) == {"id", "action", "step", "detail"} for f in r.named("sequence"))
    assert all(set(f) == {"id", "step", "reason"} for f in r.named("sequence_failed"))


def test_safe_cancels_the_running_sequence_and_the_one_waiting_to_autostart() -> None:
    """Both at once: after SAFE nothing is busy and nothing starts by itself after
    RECOVER (review finding); a ground start is refused while the mission's waits."""
    r = Rig()
    r.load(1, text(cap(1, after_s=5.0)))
    r.load(2, text(cap(2)))
    r.engine.autostart(2, "IDLE")
    with pytest.raises(CommandError, match="about to start"):
        r.engine.start(1, r.now, "CHECKOUT")
    r.engine.on_safe()
    assert not r.engine.busy()
    r.cycle()
    assert r.caps() == []

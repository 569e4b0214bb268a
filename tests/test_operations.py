"""Operations through the whole SIL stack (ground.harness.run.Run over configs/hardware/
sim.yaml, variants of configs/missions/quick.yaml): the rover's power cap (SET_POWER_CAP)
held on the plant's true bus power, sub-second time tags run in the cycle they name, a
stored sequence uploaded over the UDP uplink and its progress in the OPS telemetry,
LOAD_SAMPLE only in IDLE, a two-scoop mission's yield lines against the plant's truth,
and SAFE cancelling a running sequence.

A "ground" here sends telecommands at chosen mission times: it hooks the platform's
``advance`` (called once per cycle, before time moves on) and puts the datagrams in the
uplink socket there, so the next cycle's uplink poll takes them: deterministic, through
the real UDP socket and the real uplink."""

from __future__ import annotations

import json
import math
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.tmtc.uplink import encode_tc
from ground.harness.ground_link import Endpoint, UdpReceiver
from ground.harness.run import Run, load_inputs
from ground.tmtc.packets import Record, decode_stream

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
DT = 0.1
CHUNK = DICTIONARY.commands["SEQ_UPLOAD"].args["data"].size


# ---- helpers ------------------------------------------------------------------------------

def quick_variant(tmp_path: Path, name: str = "m", sequence: str | None = None,
                  **changes: Any) -> Path:
    """configs/missions/quick.yaml with ``changes`` (no commands unless given); with
    ``sequence``, that text as the mission's ``sequence:`` file beside it."""
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission["commands"] = []
    mission.update(changes)
    if sequence is not None:
        (tmp_path / f"{name}-seq.yaml").write_text(sequence, encoding="utf-8")
        mission.pop("commands")
        mission["sequence"] = f"{name}-seq.yaml"
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(mission), encoding="utf-8")
    return path


def free_port() -> int:
    probe = UdpReceiver(Endpoint("127.0.0.1", 0))
    port = int(probe.port)
    probe.close()
    return port


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def each_cycle(run: Run, after: Callable[[float], None]) -> None:
    """Call ``after(t)`` after the plant has stepped over the cycle at mission time ``t``
    (the commands of that cycle have acted over the step)."""
    platform = run.platform
    step = platform.advance

    def advance(dt_s: float) -> None:
        t = platform.clock.now_s()
        step(dt_s)
        after(t)

    platform.advance = advance  # type: ignore[method-assign]


class Ground:
    """Sends TCs so that the uplink takes each in the cycle at the mission time given
    (``at``); numbers them (``seq``) from 1 and remembers which number is which."""

    def __init__(self, run: Run, port: int) -> None:
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.plan: list[tuple[float, bytes]] = []
        self.names: dict[int, str] = {}
        self._n = 0
        platform = run.platform
        step = platform.advance

        def advance(dt_s: float) -> None:
            next_t = platform.clock.now_s() + dt_s
            due = [p for p in self.plan if p[0] <= next_t + 1e-6]
            for item in due:
                self.plan.remove(item)
                self.sock.sendto(item[1], ("127.0.0.1", self.port))
            step(dt_s)

        platform.advance = advance  # type: ignore[method-assign]

    def at(self, t_s: float, name: str, args: dict[str, Any] | None = None) -> int:
        self._n += 1
        self.names[self._n] = name
        self.plan.append((t_s, encode_tc(name, args, seq=self._n)))
        return self._n

    def upload(self, t_s: float, slot: int, text: str) -> list[int]:
        """The file's SEQ_UPLOAD chunks, in order, then SEQ_LOAD: all in one cycle."""
        data = text.encode("utf-8")
        seqs = []
        for offset in range(0, len(data), CHUNK):
            chunk = data[offset:offset + CHUNK]
            seqs.append(self.at(t_s, "SEQ_UPLOAD", {"seq_id": slot, "offset": offset,
                                                    "length": len(chunk), "data": chunk}))
        seqs.append(self.at(t_s, "SEQ_LOAD", {"seq_id": slot}))
        return seqs

    def close(self) -> None:
        self.sock.close()


def verifications(out: Path) -> dict[int, list[tuple[str, str]]]:
    """TC sequence count -> its (stage, reason)s, from downlink.bin."""
    got: dict[int, list[tuple[str, str]]] = {}
    for rec in decode_stream((out / "downlink.bin").read_bytes(), "downlink.bin"):
        if rec.kind == "VERIFY":
            got.setdefault(rec.data["tc_seq"], []).append((rec.data["stage"],
                                                           rec.data["reason"]))
    return got


def events_of(out: Path, name: str) -> list[dict[str, Any]]:
    return [e for e in read_jsonl(out / "events.jsonl") if e["event"] == name]


# ---- the power cap --------------------------------------------------------------------------

def fly_with_caps(tmp_path: Path, name: str, commands: list[dict[str, Any]], until_s: float
                  ) -> tuple[Run, dict[str, Any], list[tuple[float, float]]]:
    """Fly quick with ``commands``; returns the run, its summary and the plant's true
    bus power after each cycle's step, (cycle time, W)."""
    run = Run(load_inputs(quick_variant(tmp_path, name, commands=commands), SIM),
              tmp_path / name)
    plant = run.platform.plant  # type: ignore[attr-defined]
    bus: list[tuple[float, float]] = []
    each_cycle(run, lambda t: bus.append((round(t, 6), plant.bus_power_w)))
    summary = run.fly(until_s=until_s)
    return run, summary, bus


def cap_at(t: float, caps: list[tuple[float, float]], plant_cap_w: float = 45.0,
           this_cycle: bool = False) -> float:
    """The cap in force in the cycle at ``t``: the power monitor's, or the lower
    allocation given by a SET_POWER_CAP that ran in an earlier cycle (``this_cycle``:
    or in this one, as the dictionary says: "from the next actuator write (this
    cycle)"). In the cycle a command runs without ``this_cycle``, the higher of the old
    and the new cap (the change is under way)."""
    allocation = math.inf
    for at_s, cap_w in caps:
        if at_s < t - 1e-6 or (this_cycle and at_s < t + 1e-6):
            allocation = cap_w
        elif at_s < t + 1e-6:
            allocation = max(allocation, cap_w)
    return min(plant_cap_w, allocation)


ARM_START = [{"at_s": 4.0, "name": "ARM", "args": {"command": "START_EXTRACTION"}},
             {"at_s": 5.0, "name": "START_EXTRACTION"}]


def test_set_power_cap_mid_extract_holds_the_true_bus_and_sheds_the_cryocooler(
        tmp_path: Path) -> None:
    caps = [(50.0, 25.0), (150.0, 13.0), (250.0, 45.0)]
    commands = ARM_START + [{"at_s": t, "name": "SET_POWER_CAP", "args": {"cap_w": c}}
                            for t, c in caps]
    run, summary, bus = fly_with_caps(tmp_path, "caps", commands, until_s=350.0)
    out = tmp_path / "caps"
    assert summary["end_reason"] == "time_limit"
    states = {row["t_s"]: row["state"] for row in read_jsonl(out / "telemetry.jsonl")}
    assert all(states[t] == "EXTRACT_HEAT" for t in (50.0, 150.0, 250.0, 349.0))
    # every cycle's true draw within the cap in force from the cycle after the command
    # ran; and even in that cycle (a lowered cap holds from its own cycle's write)
    over = [(t, w, cap_at(t, caps)) for t, w in bus if t <= 350.0 and w > cap_at(t, caps)]
    assert over == []
    over_now = [(t, w) for t, w in bus if t <= 350.0 and w > cap_at(t, caps, this_cycle=True)]
    assert over_now == []
    # the heater uses what the cap leaves: within a few W of 25 W (less the margin)
    at_25 = [w for t, w in bus if 51.0 <= t < 150.0]
    assert 21.0 <= max(at_25) <= 25.0
    # 13 W cannot carry the cryocooler (12 W + 2 W margin): shed once
    (shed,) = events_of(out, "power_shed")
    assert shed["load"] == "cryocooler" and shed["cap_w"] == 13.0 and shed["need_w"] == 14.0
    assert shed["t_s"] == 150.0
    # the cryocooler shed, the plate heater waits with it (no cold trap to catch the
    # vapour): the bus drops to nothing
    at_13 = [w for t, w in bus if 151.0 <= t < 250.0]
    assert max(at_13) < 1.0
    rows = read_jsonl(out / "telemetry.jsonl")
    assert all(not r["cmd_cryocooler_on"] for r in rows if 150.0 <= r["t_s"] < 250.0)
    # raised back: the cryocooler on again and the heater at its full 25 W
    assert all(r["cmd_cryocooler_on"] for r in rows if 251.0 <= r["t_s"] <= 349.0)
    assert max(w for t, w in bus if 251.0 <= t < 350.0) == pytest.approx(37.0, abs=0.5)
    # the OPS telemetry says the cap in force
    for r in rows:
        if r["t_s"] >= 1.0:
            want = cap_at(r["t_s"], caps, this_cycle=True)
            assert r["power_cap_w"] == pytest.approx(want, abs=0.06)
    cmds = [e for e in events_of(out, "command") if e["name"] == "SET_POWER_CAP"]
    assert [(e["t_s"], e["args"]["cap_w"], e["accepted"]) for e in cmds] == \
        [(t, c, True) for t, c in caps]


def test_raising_the_cap_to_below_heater_plus_cryocooler_never_overdraws(
        tmp_path: Path) -> None:
    caps = [(150.0, 13.0), (250.0, 30.0)]
    commands = ARM_START + [{"at_s": t, "name": "SET_POWER_CAP", "args": {"cap_w": c}}
                            for t, c in caps]
    _, _, bus = fly_with_caps(tmp_path, "raise", commands, until_s=300.0)
    over = [(t, w) for t, w in bus if w > cap_at(t, caps)]
    assert over == []


def test_starting_an_extraction_under_a_cap_never_overdraws(tmp_path: Path) -> None:
    caps = [(2.0, 30.0)]
    commands = [{"at_s": 2.0, "name": "SET_POWER_CAP", "args": {"cap_w": 30.0}}, *ARM_START]
    _, _, bus = fly_with_caps(tmp_path, "start", commands, until_s=60.0)
    over = [(t, w) for t, w in bus if w > cap_at(t, caps)]
    assert over == []


# ---- sub-second time tags ------------------------------------------------------------------

SUB_SECOND = """\
name: sub-second
start_state: IDLE
steps:
  - {after_s: 0.3, command: SET_POWER_CAP, args: {cap_w: 40.0}}
  - {after_s: 0.2, command: SET_POWER_CAP, args: {cap_w: 41.0}}
  - {after_s: 0.1, command: SET_POWER_CAP, args: {cap_w: 42.0}}
  - {after_s: 0.1, command: SET_HEATER_SETPOINT, args: {setpoint_k: 350.0}}
  - {after_s: 0.7, command: SET_POWER_CAP, args: {cap_w: 43.0}}
  - {after_s: 1.3, command: SET_POWER_CAP, args: {cap_w: 44.0}}
  - {at_s: 4.2, command: SET_POWER_CAP, args: {cap_w: 39.0}}
  - {after_s: 0.1, command: SET_POWER_CAP, args: {cap_w: 38.0}}
"""


def test_sub_second_relative_tags_run_in_exactly_the_cycle_they_name(tmp_path: Path) -> None:
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path, sequence=SUB_SECOND), SIM), out)
    summary = run.fly(until_s=8.0)
    assert summary["final_state"] == "IDLE"
    (started,) = [e for e in events_of(out, "sequence") if e["action"] == "started"]
    t0 = started["t_s"]
    # (the chart enters IDLE in the cycle at 0.1 s, after the sequence's turn: the
    # sequence starts in the next cycle)
    assert started["id"] == 255 and t0 == pytest.approx(0.2)
    expected = []
    t = t0
    for after in (0.3, 0.2, 0.1, 0.1, 0.7, 1.3):
        t += after
        expected.append(t)
    expected += [4.2, 4.3]
    cmds = [e for e in events_of(out, "command") if e["source"] == "mission"]
    assert all(e["accepted"] for e in cmds) and len(cmds) == len(expected)
    late = [round((e["t_s"] - want) / DT) for e, want in zip(cmds, expected, strict=True)]
    assert late == [0] * len(expected)
    assert [e["t_s"] for e in cmds] == pytest.approx(expected, abs=1e-6)
    (done,) = [e for e in events_of(out, "sequence") if e["action"] == "completed"]
    assert done["t_s"] == pytest.approx(4.3)


# ---- a stored sequence over the UDP uplink ------------------------------------------------

GOOD = """\
# A stored sequence sent up in SEQ_UPLOAD chunks of 200 bytes: the comments make it
# longer than two chunks. It lowers the cap, waits on a condition that never holds
# (heater above 500 K: a 3 s timeout, then it goes on), and steps the cap down again.
name: caps-over-the-link
start_state: IDLE
steps:
  - {after_s: 1.0, command: SET_POWER_CAP, args: {cap_w: 40.0}, comment: first}
  - {wait_until: {telemetry: heater_temp_k, above: 500.0}, timeout_s: 3.0, on_timeout: continue}
  - {after_s: 4.0, command: SET_POWER_CAP, args: {cap_w: 35.0}}
  - {after_s: 4.0, command: SET_POWER_CAP, args: {cap_w: 30.0}}
  - {after_s: 2.0, command: SET_POWER_CAP, args: {cap_w: 44.0}, comment: last}
"""
BAD = GOOD.replace("command: SET_POWER_CAP, args: {cap_w: 35.0}", "command: LAUNCH")


def test_a_sequence_uploaded_over_the_uplink_runs_and_reports_its_progress(
        tmp_path: Path) -> None:
    assert len(GOOD.encode()) > 2 * CHUNK and "LAUNCH" in BAD
    port = free_port()
    tm = UdpReceiver(Endpoint("127.0.0.1", 0))  # the ground's TM socket (live downlink)
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path), SIM), out, uplink=f"udp://127.0.0.1:{port}",
              ground=f"udp://127.0.0.1:{tm.port}", speed=1000.0)
    ground = Ground(run, port)
    try:
        cancel_idle = ground.at(1.0, "SEQ_CANCEL")
        upload = ground.upload(2.0, 3, GOOD)
        start = ground.at(3.0, "SEQ_START", {"seq_id": 3})
        again = ground.at(6.0, "SEQ_START", {"seq_id": 3})
        bad = ground.upload(7.0, 4, BAD)
        summary = run.fly(until_s=30.0)
    finally:
        ground.close()
    try:
        live: list[Record] = []
        while (datagram := tm.receive()) is not None:
            live.extend(decode_stream(datagram, "udp"))
    finally:
        tm.close()
    assert summary["end_reason"] == "time_limit" and summary["final_state"] == "IDLE"
    verify = verifications(out)
    # SEQ_CANCEL with nothing running: rejected at once, reason refused
    assert verify[cancel_idle] == [("rejected", "refused")]
    (tc,) = [e for e in events_of(out, "telecommand") if e["seq"] == cancel_idle]
    assert tc["verdict"] == "rejected" and tc["detail"] == "no sequence is running"
    # every chunk and the load completed, then the start
    for seq in [*upload, start]:
        assert verify[seq] == [("accepted", "ok"), ("completed", "ok")], ground.names[seq]
    # a second start while it runs: refused by the command path
    assert verify[again] == [("accepted", "ok"), ("failed", "refused")]
    refusal = [e for e in events_of(out, "command")
               if e["name"] == "SEQ_START" and not e["accepted"]]
    assert len(refusal) == 1 and "never interleaved" in refusal[0]["detail"]
    # the bad file: its chunks go up, its SEQ_LOAD is refused naming the step and key
    assert all(verify[s] == [("accepted", "ok"), ("completed", "ok")] for s in bad[:-1])
    assert verify[bad[-1]] == [("accepted", "ok"), ("failed", "refused")]
    (load_refused,) = [e for e in events_of(out, "command")
                       if e["name"] == "SEQ_LOAD" and not e["accepted"]]
    assert "slot 4: steps[2].command" in load_refused["detail"]
    assert "LAUNCH" in load_refused["detail"]
    # the sequence ran: each cap in the cycle its tag names (started at 3.0 s)
    caps = [(e["t_s"], e["args"]["cap_w"]) for e in events_of(out, "command")
            if e["name"] == "SET_POWER_CAP"]
    assert caps == [(4.0, 40.0), (11.0, 35.0), (15.0, 30.0), (17.0, 44.0)]
    assert all(e["source"] == "sequence" for e in events_of(out, "command")
               if e["name"] == "SET_POWER_CAP")
    actions = [(e["id"], e["action"]) for e in events_of(out, "sequence")]
    assert (3, "started") in actions and (3, "completed") in actions
    assert (4, "loaded") not in actions and events_of(out, "sequence_failed") == []
    # its progress in the OPS telemetry (telemetry.jsonl) ...
    rows = read_jsonl(out / "telemetry.jsonl")
    progress = [(r["t_s"], r["seq_id"], r["seq_status"], r["seq_step"]) for r in rows]
    running = [p for p in progress if p[1] == 3]
    assert {p[2] for p in running} == {1, 2}  # running, and waiting on its condition
    assert [p[3] for p in running] == sorted(p[3] for p in running)  # steps only go on
    assert {p[3] for p in running} == {0, 1, 2, 3, 4}
    assert all(p[2] == 2 and p[3] == 1 for p in running if 5.0 <= p[0] < 7.0)
    assert all(p[1:] == (0, 0, 0) for p in progress if p[0] < 3.0 or p[0] >= 18.0)
    by_t = {r["t_s"]: r for r in rows}
    assert by_t[10.0]["seq_next_s"] == pytest.approx(11.0)
    assert by_t[5.0]["seq_next_s"] is None  # waiting on a condition: NaN
    assert by_t[12.0]["power_cap_w"] == 35.0 and by_t[20.0]["power_cap_w"] == 44.0
    # ... and in the OPS packets of downlink.bin and of the live link
    ops_file = [(round(r.t_s, 3), r.data["seq_id"], r.data["seq_status"], r.data["seq_step"])
                for r in decode_stream((out / "downlink.bin").read_bytes()) if r.kind == "OPS"]
    assert ops_file == progress
    ops_live = [(round(r.t_s, 3), r.data["seq_id"], r.data["seq_status"], r.data["seq_step"])
                for r in live if r.kind == "OPS"]
    assert ops_live == progress
    assert [r for r in live if r.kind == "VERIFY" and r.data["tc_seq"] == cancel_idle][0] \
        .data["reason"] == "refused"


def test_seq_cancel_of_a_running_sequence_completes_and_says_why(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path), SIM), out, uplink=f"udp://127.0.0.1:{port}",
              speed=1000.0)
    ground = Ground(run, port)
    try:
        ground.upload(1.0, 9, GOOD)
        ground.at(2.0, "SEQ_START", {"seq_id": 9})
        cancel = ground.at(8.0, "SEQ_CANCEL")
        summary = run.fly(until_s=12.0)
    finally:
        ground.close()
    assert summary["end_reason"] == "time_limit"
    assert verifications(out)[cancel] == [("accepted", "ok"), ("completed", "ok")]
    (failed,) = events_of(out, "sequence_failed")
    assert failed["id"] == 9 and failed["reason"] == "CANCEL command" and failed["t_s"] == 8.0
    rows = read_jsonl(out / "telemetry.jsonl")
    assert all(r["seq_id"] == 0 for r in rows if r["t_s"] >= 8.0)
    assert any(r["seq_id"] == 9 for r in rows if r["t_s"] < 8.0)


# ---- LOAD_SAMPLE ---------------------------------------------------------------------------

def test_load_sample_only_in_idle(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path, samples=[{"ice_mass_fraction": 0.03}]), SIM),
              out, uplink=f"udp://127.0.0.1:{port}", speed=1000.0)
    plant = run.platform.plant  # type: ignore[attr-defined]
    ground = Ground(run, port)
    try:
        in_idle = ground.at(1.0, "LOAD_SAMPLE")
        ground.at(2.0, "ARM", {"command": "START_EXTRACTION"})
        ground.at(3.0, "START_EXTRACTION")
        in_heat = ground.at(10.0, "LOAD_SAMPLE")  # alone in its cycle: refused at receipt
        ground.at(12.0, "SET_POWER_CAP", {"cap_w": 44.0})
        queued = ground.at(12.0, "LOAD_SAMPLE")  # behind another TC: refused when it runs
        summary = run.fly(until_s=20.0)
    finally:
        ground.close()
    verify = verifications(out)
    assert verify[in_idle] == [("accepted", "ok"), ("completed", "ok")]
    assert verify[in_heat] == [("rejected", "refused")]
    assert verify[queued] == [("accepted", "ok"), ("failed", "refused")]
    (loaded,) = events_of(out, "sample_loaded")
    assert loaded["scoop"] == 2 and loaded["t_s"] == 1.0
    assert plant.samples_loaded == 2  # the plant's truth: one exchange, not three
    assert plant.params.sample.ice_mass_fraction == 0.03
    (tc,) = [e for e in events_of(out, "telecommand") if e["seq"] == in_heat]
    assert tc["verdict"] == "rejected" and "accepted only in IDLE" in tc["detail"]
    assert "EXTRACT_HEAT" in tc["detail"]
    refused = [e for e in events_of(out, "command") if e["name"] == "LOAD_SAMPLE"
               and not e["accepted"]]
    assert len(refused) == 1 and "accepted only in IDLE" in refused[0]["detail"]
    assert summary["scoops_loaded"] == 2
    assert [s["scoop"] for s in summary["scoops"]] == [1, 2]
    rows = read_jsonl(out / "telemetry.jsonl")
    assert all(r["scoop"] == (1 if r["t_s"] < 1.0 else 2) for r in rows)


def test_a_mission_with_load_sample_outside_idle_is_refused_before_it_flies(
        tmp_path: Path) -> None:
    commands = [*ARM_START, {"at_s": 60.0, "name": "LOAD_SAMPLE"}]
    with pytest.raises(ConfigError, match=r"commands\[2\]\.name: LOAD_SAMPLE is refused in "
                       r"EXTRACT_HEAT \(accepted only in IDLE\)"):
        load_inputs(quick_variant(tmp_path, commands=commands), SIM)


# ---- two scoops ----------------------------------------------------------------------------

TWO_SCOOPS = """\
name: two-quick-scoops
start_state: IDLE
steps:
  - {after_s: 1.0, command: ARM, args: {command: START_EXTRACTION}, comment: scoop 1}
  - {after_s: 1.0, command: START_EXTRACTION}
  - {wait_until: {state: IDLE}, timeout_s: 5000, on_timeout: cancel}
  - {after_s: 1.0, command: LOAD_SAMPLE, comment: scoop 2}
  - {after_s: 1.0, command: ARM, args: {command: START_EXTRACTION}}
  - {after_s: 1.0, command: START_EXTRACTION}
"""
CHECKED = ("water_captured_kg", "water_electrolyzed_kg", "h2_produced_kg", "o2_produced_kg",
           "energy_heater_j", "energy_bus_j")


@pytest.mark.usefixtures("untraced")  # a 4 h two-scoop mission (conftest.py)
def test_a_two_scoop_quick_mission_has_two_yield_lines_within_two_percent(
        tmp_path: Path) -> None:
    # scoop 2 is icier: the trap is still warm (~278 K) from scoop 1's melt and cools
    # only once EXTRACT_HEAT runs the cryocooler (~3000 s), while the warm plate
    # sublimates the small quick scoop into the leaking chamber; an icy scoop 2 still
    # has a catch worth measuring once the trap is cold
    mission = quick_variant(tmp_path, sequence=TWO_SCOOPS, max_duration_s=14400,
                            samples=[{"ice_mass_fraction": 0.3}],
                            timeouts={"EXTRACT_HEAT": {"timeout_s": 6000},
                                      "EXTRACT_CAPTURE": {"timeout_s": 1500},
                                      "TRANSFER": {"timeout_s": 2400},
                                      "ELECTROLYZE": {"timeout_s": 2400}})
    out = tmp_path / "run"
    run = Run(load_inputs(mission, SIM), out)
    summary = run.fly()
    assert summary["end_reason"] == "complete" and summary["mission_complete"] is True
    assert summary["final_state"] == "IDLE" and summary["scoops_loaded"] == 2
    assert run.platform.plant.samples_loaded == 2  # type: ignore[attr-defined]
    saved = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    lines = saved["scoops"]
    assert [ln["scoop"] for ln in lines] == [1, 2]
    (done1, done2) = events_of(out, "scoop_complete")
    (loaded,) = events_of(out, "sample_loaded")
    assert lines[0]["completed_s"] == done1["t_s"] < loaded["t_s"] == lines[1]["loaded_s"]
    assert lines[1]["completed_s"] == done2["t_s"]
    for ln in lines:
        assert ln["truth"]["water_captured_kg"] > 1e-4  # a real catch in each
        for key in CHECKED:
            err = ln["error"][key]
            assert err is not None and abs(err) <= 0.02, (ln["scoop"], key, err)
            assert ln[key] == pytest.approx(ln["truth"][key], rel=0.02)
    # the lines add up to the run's totals
    for key in ("water_captured_kg", "water_electrolyzed_kg", "h2_produced_kg"):
        assert lines[0][key] + lines[1][key] == pytest.approx(saved[key], rel=1e-9)
    assert lines[0]["energy_bus_j"] + lines[1]["energy_bus_j"] == pytest.approx(
        saved["energy_j"]["energy_bus_j"], rel=1e-3)  # (the read-back cycle's draw)
    # the scoop event carries the line's figures
    assert done2["water_captured_kg"] == pytest.approx(lines[1]["water_captured_kg"])
    assert done2["scoop"] == 2


# ---- SAFE cancels a running sequence -------------------------------------------------------

ONE_SCOOP = """\
name: one-scoop
start_state: IDLE
steps:
  - {after_s: 1.0, command: ARM, args: {command: START_EXTRACTION}}
  - {after_s: 1.0, command: START_EXTRACTION}
  - {wait_until: {state: IDLE}, timeout_s: 5000, on_timeout: cancel}
  - {after_s: 1.0, command: LOAD_SAMPLE}
"""


def test_entering_safe_cancels_the_running_sequence(tmp_path: Path) -> None:
    port = free_port()
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path, sequence=ONE_SCOOP), SIM), out,
              uplink=f"udp://127.0.0.1:{port}", speed=1000.0)
    ground = Ground(run, port)
    try:
        safe = ground.at(30.0, "SAFE")
        summary = run.fly(until_s=45.0)
    finally:
        ground.close()
    assert summary["final_state"] == "SAFE"
    assert summary["end_reason"] == "time_limit"  # with an uplink, SAFE waits for the ground
    assert verifications(out)[safe] == [("accepted", "ok"), ("completed", "ok")]
    (failed,) = events_of(out, "sequence_failed")
    assert failed["id"] == 255 and failed["reason"] == "entered SAFE"
    assert failed["step"] == 2 and failed["t_s"] == 30.0
    rows = read_jsonl(out / "telemetry.jsonl")
    before = [r for r in rows if 3.0 <= r["t_s"] < 30.0]
    assert before and all((r["seq_id"], r["seq_status"], r["seq_step"]) == (255, 2, 2)
                          for r in before)
    after = [r for r in rows if r["t_s"] >= 30.0]
    assert after and all((r["seq_id"], r["seq_status"]) == (0, 0) for r in after)
    assert all(r["state"] == "SAFE" for r in after)
    assert events_of(out, "sample_loaded") == []  # the rest of the sequence never ran


# ---- review findings: SAFE stops a sequence at once; the mission's early tags run late ----
SAFE_RACE = """\
name: race
start_state: IDLE
steps:
  - {at_s: 10.0, command: SET_POWER_CAP, args: {cap_w: 20.0}}
  - {at_s: 10.0, command: ARM, args: {command: SET_HEATER_SETPOINT}}
  - {at_s: 10.0, command: SET_HEATER_SETPOINT, args: {setpoint_k: 410.0}}
  - {after_s: 100.0, command: SET_POWER_CAP, args: {cap_w: 30.0}}
"""


def test_a_ground_safe_stops_the_sequence_steps_due_in_the_same_cycle(tmp_path: Path) -> None:
    """A SAFE telecommand executed in the cycle where sequence steps are due: none of them
    runs after SAFE (the hazardous 410 K setpoint would otherwise outlive SAFE), and the
    sequence is cancelled at once."""
    port = free_port()
    out = tmp_path / "run"
    run = Run(load_inputs(quick_variant(tmp_path, sequence=SAFE_RACE), SIM), out,
              uplink=f"udp://127.0.0.1:{port}", speed=1000.0)
    ground = Ground(run, port)
    ground.at(10.0, "SAFE")
    run.fly(until_s=15.0)
    ground.close()
    late = [e for e in events_of(out, "command") if e["t_s"] >= 10.0 and e["name"] != "SAFE"]
    assert late == []
    (failed,) = events_of(out, "sequence_failed")
    assert failed["reason"] == "entered SAFE" and failed["t_s"] == 10.0
    assert run.flight.subsystems.heater.setpoint_k == 360.0
    assert run.flight.subsystems.allocation_w == float("inf")


def test_mission_commands_due_before_idle_run_late_not_never(tmp_path: Path) -> None:
    """A mission's command tagged before the payload reaches IDLE (at 0.0 s) runs as soon
    as its sequence starts, as time-tagged commands always did; the rest keep their tags."""
    mission = quick_variant(tmp_path, commands=[
        {"at_s": 0.0, "name": "SET_POWER_CAP", "args": {"cap_w": 40.0}},
        {"at_s": 4.0, "name": "ARM", "args": {"command": "START_EXTRACTION"}},
        {"at_s": 5.0, "name": "START_EXTRACTION"}])
    out = tmp_path / "run"
    Run(load_inputs(mission, SIM), out).fly(until_s=10.0)
    runs = [(e["name"], e["t_s"], e["accepted"]) for e in events_of(out, "command")]
    assert runs[0][0] == "SET_POWER_CAP" and runs[0][1] <= 0.3 and runs[0][2]
    assert runs[1:] == [("START_EXTRACTION", 5.0, True)]
    assert [e["t_s"] for e in events_of(out, "arm")] == [4.0]
    assert events_of(out, "sequence_failed") == []

"""The ground link's flight side (issue #16): telecommands decoded and validated against
the dictionary (every malformed one rejected with its reason, nothing executed, nothing
raised), bounded work per cycle, verification packets for every TC, and downlink.bin
holding the run's telemetry and events."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from spacepackets.ccsds.spacepacket import SpacePacketHeader

from common.dictionary import DICTIONARY
from flight.commands import Commander, CommandError
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import (
    APID_EVENT,
    APID_VERIFY,
    EVENT_HEAD,
    EVENT_IDS,
    HK,
    LINK,
    OPS,
    REASONS,
    STAGES,
    STATES,
    VERIFY_DATA,
    from_cuc,
)
from flight.tmtc.uplink import TcError, Uplink, crc16, decode_tc, encode_tc
from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[2]
STAGE_NAMES = {v: k for k, v in STAGES.items()}
REASON_NAMES = {v: k for k, v in REASONS.items()}


def valid_args(name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arg, a in DICTIONARY.commands[name].args.items():
        if a.type == "bytes":
            out[arg] = b"steps: []\n"  # shorter than its size: zero-padded on the wire
        else:
            out[arg] = a.choices[-1] if a.choices else (a.min if a.min is not None else 1)
    return out


def on_the_wire(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` as decode_tc gives them back: a bytes argument padded to its size."""
    spec = DICTIONARY.commands[name].args
    return {k: v.ljust(spec[k].size, b"\0") if spec[k].type == "bytes" else v
            for k, v in args.items()}


def resealed(packet: bytes) -> bytes:
    """``packet`` with a correct CRC (to reach the checks behind the CRC)."""
    return packet[:-2] + struct.pack(">H", crc16(packet[:-2]))


@pytest.mark.parametrize("name", list(DICTIONARY.commands))
def test_every_command_encodes_and_decodes_to_itself(name: str) -> None:
    args = valid_args(name)
    if "ground" not in DICTIONARY.commands[name].sources:  # (SUBSTITUTE_SENSOR: FDIR's)
        with pytest.raises(TcError, match="not accepted from ground") as exc:
            decode_tc(encode_tc(name, args, seq=77))
        assert exc.value.reason == "source"
        return
    tc = decode_tc(encode_tc(name, args, seq=77))
    assert (tc.name, tc.seq, tc.opcode) == (name, 77, DICTIONARY.commands[name].opcode)
    want = on_the_wire(name, args)
    numbers = {k: v for k, v in want.items() if not isinstance(v, bytes | str)}
    assert {k: v for k, v in tc.args.items() if k in numbers} == pytest.approx(numbers)
    assert {k: v for k, v in tc.args.items() if k not in numbers} == \
        {k: v for k, v in want.items() if k not in numbers}


def test_a_bytes_argument_is_exactly_its_size_on_the_wire() -> None:
    args = {"seq_id": 2, "offset": 400, "length": 5, "data": b"hello"}
    packet = encode_tc("SEQ_UPLOAD", args, seq=9)
    size = DICTIONARY.commands["SEQ_UPLOAD"].args["data"].size
    assert len(packet) == 6 + 2 + 1 + 2 + 1 + size + 2
    assert packet[8:12] == bytes([2]) + (400).to_bytes(2, "big") + bytes([5])
    assert packet[12:12 + size] == b"hello" + b"\0" * (size - 5)
    tc = decode_tc(packet)
    assert tc.args["data"] == b"hello" + b"\0" * (size - 5)
    assert tc.args["data"][:tc.args["length"]] == b"hello"
    full = encode_tc("SEQ_UPLOAD", {**args, "length": size, "data": bytes(range(size))})
    assert decode_tc(full).args["data"] == bytes(range(size))
    with pytest.raises(CommandError, match="at most 200"):
        encode_tc("SEQ_UPLOAD", {**args, "data": b"x" * (size + 1)})
    with pytest.raises(CommandError, match="must be bytes"):
        encode_tc("SEQ_UPLOAD", {**args, "data": "hello"})
    # a TC one data byte short (the length field agreeing) is the wrong length
    short = bytearray(packet[:-3])
    short[4:6] = (len(short) + 2 - 7).to_bytes(2, "big")
    with pytest.raises(TcError, match="argument bytes") as exc:
        decode_tc(resealed(bytes(short) + b"\0\0"))
    assert exc.value.reason == "bad_length"


def test_each_malformed_tc_is_rejected_with_its_reason() -> None:
    good = encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 380.0}, seq=5)
    cases = {
        "malformed": [good[:5], good[:-1], b"\x08" + good[1:]],  # short, length lies, TM type
        "crc": [good[:-2] + b"\x00\x00"],
        "wrong_apid": [resealed(good[:1] + b"\x01" + good[2:])],
        "unknown_opcode": [resealed(good[:6] + b"\x7f\x7f" + good[8:])],
        "bad_argument": [resealed(good[:8] + struct.pack(">f", 9999.0) + good[12:]),
                         resealed(good[:8] + struct.pack(">f", float("nan")) + good[12:])],
    }
    cases["malformed"].append(resealed(good[:0] + bytes([good[0] | 0x08]) + good[1:]))
    # (the secondary-header flag set: a TC has none)
    arm = encode_tc("ARM", {"command": "START_EXTRACTION"})
    cases["bad_argument"].append(resealed(arm[:8] + b"\x09" + arm[9:]))  # choice 9 of 2
    for reason, packets in cases.items():
        for p in packets:
            with pytest.raises(TcError) as exc:
                decode_tc(p)
            assert exc.value.reason == reason, (reason, str(exc.value))
    # the length field and the arguments must agree: one byte more than its argument
    longer = bytearray(good[:-2] + b"\x00")
    longer[4:6] = (len(longer) + 2 - 7).to_bytes(2, "big")
    with pytest.raises(TcError, match="argument bytes") as exc:
        decode_tc(resealed(bytes(longer) + b"\x00\x00"))
    assert exc.value.reason == "bad_length"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=64))
def test_no_byte_string_crashes_the_tc_decoder(data: bytes) -> None:
    try:
        decode_tc(data)
    except TcError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 13), st.integers(1, 255))
def test_a_flipped_byte_never_passes_as_another_command(at: int, xor: int) -> None:
    good = bytearray(encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 380.0}, seq=5))
    good[at] ^= xor
    try:
        tc = decode_tc(bytes(good))
    except TcError:
        return
    # only the header's sequence count or flags may change without the CRC noticing
    # nothing: the CRC covers them too, so a decode means the flip hit nothing it checks
    assert tc.name == "SET_HEATER_SETPOINT" and tc.args == {"setpoint_k": 380.0}


def test_encode_refuses_what_the_flight_side_would() -> None:
    with pytest.raises(CommandError, match="out of range"):
        encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 9999.0})
    with pytest.raises(CommandError, match="unknown command"):
        encode_tc("LAUNCH")


def verifications(packets: list[bytes]) -> list[tuple[int, str, str]]:
    out = []
    for p in packets:
        if SpacePacketHeader.unpack(p[:6]).apid == APID_VERIFY:
            _, seq, _, stage, reason = VERIFY_DATA.unpack(p[12:])
            out.append((seq, STAGE_NAMES[stage], REASON_NAMES[reason]))
    return out


def test_a_flood_is_bounded_per_cycle_and_every_tc_is_answered() -> None:
    waiting = [encode_tc("RECOVER", seq=i) if i % 2 else b"junk" for i in range(1000)]
    sent: list[bytes] = []
    events: list[str] = []
    commander = Commander(lambda t, why: True, {}, lambda e, **f: events.append(e))
    uplink = Uplink(lambda: waiting.pop(0) if waiting else None, commander,
                    Downlink([sent.append]), lambda e, **f: events.append(e), lambda: 0.0,
                    max_per_cycle=20, drain_per_cycle=500)
    uplink.poll()
    assert uplink.received == 520 and len(waiting) == 480  # the rest waits for next cycle
    assert uplink.dropped == 500 and uplink.rejected == 10
    commander.execute_due(0.0)
    v = verifications(sent)
    dropped = [s for s in v if s[2] == "dropped"]
    assert len(dropped) == 500 and {s[1] for s in dropped} == {"rejected"}
    # a dropped TC is answered with its own sequence count (junk: what its bytes say)
    assert {s[0] for s in dropped} >= set(range(21, 520, 2))
    # the 10 valid RECOVERs: accepted, then completed once the command path ran them
    assert sorted(s for s in v if s[2] == "ok") == sorted(
        [(i, "accepted", "ok") for i in range(1, 20, 2)]
        + [(i, "completed", "ok") for i in range(1, 20, 2)])
    assert events.count("telecommand") == 20
    while waiting:
        uplink.poll()
    # every TC answered once, and the first cycle's 10 executed ones again (completed)
    assert uplink.received == 1000 and len(verifications(sent)) == 1000 + 10


def copy_quick_without_commands(tmp_path: Path) -> Path:
    mission = yaml.safe_load((ROOT / "configs/missions/quick.yaml").read_text())
    mission["commands"] = []
    path = tmp_path / "quick-ground.yaml"
    path.write_text(yaml.safe_dump(mission), encoding="utf-8")
    return path


def test_ground_commands_fly_the_mission_and_downlink_bin_holds_the_run(tmp_path: Path) -> None:
    inputs = load_inputs(copy_quick_without_commands(tmp_path),
                         ROOT / "configs/hardware/sim.yaml")
    run = Run(inputs, tmp_path / "run")
    script = {20.0: encode_tc("ARM", {"command": "START_EXTRACTION"}, seq=1),
              20.5: encode_tc("START_EXTRACTION", seq=2),
              21.0: encode_tc("START_EXTRACTION", seq=3),  # its arm was used up
              21.5: encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 380.0}, seq=4)[:-1]}
    clock = run.platform.clock

    def receive() -> bytes | None:
        for t in sorted(script):
            if clock.now_s() >= t - 1e-9:
                return script.pop(t)
        return None

    run.flight.attach_ground(run.downlink, receive)
    summary = run.fly(until_s=120.0)
    assert summary["end_reason"] == "time_limit"
    data = (tmp_path / "run/downlink.bin").read_bytes()
    packets, i = [], 0
    while i < len(data):
        n = 7 + SpacePacketHeader.unpack(data[i:i + 6]).data_len
        packets.append(data[i:i + n])
        i += n
    assert i == len(data)
    assert verifications(packets) == [
        (1, "accepted", "ok"), (1, "completed", "ok"),
        (2, "accepted", "ok"), (2, "completed", "ok"),
        (3, "accepted", "ok"), (3, "failed", "refused"),
        (4, "rejected", "malformed")]
    # every housekeeping sample and every event is in downlink.bin, in order
    rows = [json.loads(x) for x in (tmp_path / "run/telemetry.jsonl").read_text().splitlines()]
    hk = [p for p in packets if SpacePacketHeader.unpack(p[:6]).apid == HK.apid]
    assert len(hk) == len(rows)
    for p, row in zip(hk, rows, strict=True):
        assert abs(from_cuc(p[6:12]) - row["t_s"]) <= 1 / 65536
        values = struct.unpack(HK.fmt, p[12:])
        assert STATES[values[0]] == row["state"]
        for f, v in zip(HK.fields[1:], values[1:], strict=True):
            want = row[f.name]
            assert v == pytest.approx(float(want), rel=1e-6, abs=1e-30), f.name
    events = [json.loads(x) for x in (tmp_path / "run/events.jsonl").read_text().splitlines()]
    ev = [p for p in packets if SpacePacketHeader.unpack(p[:6]).apid == APID_EVENT]
    assert len(ev) == len(events)
    ids = {v: k for k, v in EVENT_IDS.items()}
    for p, e in zip(ev, events, strict=True):
        event_id, _, n = EVENT_HEAD.unpack(p[12:17])
        assert ids[event_id] == e["event"] and len(p) == 17 + n
        fields = json.loads(p[17:])
        assert {k: v for k, v in e.items() if k not in ("event", "t_s", "level")} == fields
    assert any(e["event"] == "command" and e["source"] == "ground"
               and e["name"] == "START_EXTRACTION" and e["accepted"] for e in events)
    assert summary["downlink"]["packets_by_apid"]["0x100"] == len(rows)


def test_no_value_stops_the_downlink() -> None:
    """Telemetry never stops flight: a value its field cannot hold is sent as that type's
    "no value" or clamped, at any depth of an event's fields."""
    import math

    sent: list[bytes] = []
    d = Downlink([sent.append])
    d.housekeeping(1.0, "IDLE", {"chamber_pressure_pa": 1e39, "valve_open": math.nan},
                   {"valve_open": -1}, {"link_frames_sent": 2.0 ** 40, "board_time_s": 3.0})
    d.event(1.0, "safing", {"readback": {"x": math.nan}, "l": [math.inf]})
    hk = dict(zip([f.name for f in HK.fields], struct.unpack(HK.fmt, sent[0][12:]),
                  strict=True))
    assert hk["chamber_pressure_pa"] == math.inf and hk["valve_open"] == 0xFF
    assert hk["cmd_valve_open"] == 0 and math.isnan(hk["heater_temp_k"])
    assert struct.unpack(">I", sent[1][12:16]) == (0xFFFFFFFF,)  # clamped counter
    assert json.loads(sent[2][17:]) == {"l": [None], "readback": {"x": None}}


def test_a_refused_fdir_command_escalates_at_once() -> None:
    """If the command path refuses FDIR's command (a dictionary copy that lost a source,
    say), the action did not happen: the response escalates in the same cycle instead of
    waiting, believing it acted."""
    from flight.fdir.responses import Episode, Responder
    from flight.fdir.table import BUILTIN_RESPONSES, ResponseConfig

    safed: list[str] = []
    responses = {**BUILTIN_RESPONSES, "cycle": ResponseConfig(
        action="retry", power_cycle=["heater_power_w"], cooldown_s=60.0, budget=2,
        escalate_to="SAFE")}
    r = Responder(responses, safed.append, lambda t, why: False, lambda e, **f: None,
                  command=lambda name, args: False)
    r.start(Episode("heater_not_heating", "cold", "cycle", 0.0), 5.0, 300.0)
    assert safed == ["cold (escalated to SAFE)"]


def test_flight_refuses_a_dictionary_where_fdir_cannot_act() -> None:
    from common.errors import ConfigError
    from flight.app import check_command_path
    from flight.commands import load_dictionary

    table = load_dictionary()
    table["SAFE"]["sources"] = ["ground"]
    handlers = {c.handler: 1 for c in DICTIONARY.commands.values() if c.handler}
    with pytest.raises(ConfigError, match="SAFE: FDIR acts through this command"):
        check_command_path(table, handlers, {"abort"})
    table = load_dictionary()
    with pytest.raises(ConfigError, match="SET_HEATER_SETPOINT.handler"):
        check_command_path(table, {}, {"abort"})


def derived_values() -> dict[str, Any]:
    """One value per derived row, each exact in its type."""
    out: dict[str, Any] = {}
    for i, c in enumerate(DICTIONARY.channels.derived):
        out[c.name] = {"u8": 1 + i % 3, "u16": 1000 + i, "u32": 7 + i}.get(
            c.tm_type, 0.25 * (i + 1))
    return out


def test_an_ops_packet_follows_hk_when_flight_has_the_figures() -> None:
    assert OPS.apid == DICTIONARY.apids["OPS"] == 0x104
    assert [f.name for f in OPS.fields] == [c.name for c in DICTIONARY.channels.derived]
    assert [f.type for f in OPS.fields] == [c.tm_type for c in DICTIONARY.channels.derived]
    sent: list[bytes] = []
    d = Downlink([sent.append])
    d.housekeeping(2.5, "IDLE", {}, {}, {"link_frames_sent": 1}, derived_values())
    apids = [SpacePacketHeader.unpack(p[:6]).apid for p in sent]
    assert apids == [HK.apid, LINK.apid, OPS.apid]
    assert from_cuc(sent[2][6:12]) == 2.5 and len(sent[2]) == 12 + OPS.size
    values = dict(zip([f.name for f in OPS.fields], struct.unpack(OPS.fmt, sent[2][12:]),
                      strict=True))
    assert values == derived_values()


def test_missing_figures_are_sent_as_no_value_and_none_sends_no_ops() -> None:
    import math

    sent: list[bytes] = []
    d = Downlink([sent.append])
    d.housekeeping(1.0, "IDLE", {}, {}, None, {"scoop": 3, "seq_next_s": None})
    assert len(sent) == 2
    values = dict(zip([f.name for f in OPS.fields], struct.unpack(OPS.fmt, sent[1][12:]),
                      strict=True))
    assert values["scoop"] == 3 and math.isnan(values["seq_next_s"])
    assert values["seq_status"] == 0xFF and values["seq_id"] == 0xFF  # u8: 0xFF
    assert values["seq_step"] == 0  # a u16 counter: 0
    assert math.isnan(values["power_cap_w"]) and math.isnan(values["energy_bus_j"])
    # without derived figures: HK (and LINK) exactly as before, no OPS
    alone: list[bytes] = []
    Downlink([alone.append]).housekeeping(1.0, "IDLE", {}, {})
    assert alone == sent[:1]

"""The ground decoder (ground/tmtc/packets.py, decode.py): a real run's downlink.bin
decodes to its telemetry.jsonl and events.jsonl within each encoding's resolution;
every packet kind decodes; a malformed stream is a clear error naming the packet index
and byte offset (never a traceback), also under fuzzing."""

from __future__ import annotations

import csv
import json
import math
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import APID_EVENT, EVENT_HEAD, FINE_PER_S, HK, LINK, OPS
from ground.tmtc import decode
from ground.tmtc.packets import (
    PacketError,
    decode_file,
    decode_packet,
    decode_stream,
    split_packets,
)

F32_TYPES = {f.name: f.type for f in (*HK.fields, *OPS.fields)}
#: what an OPS integer flight did not have is sent as: 0 (u16, u32), 0xFF (u8)
_NO_VALUE = {f.name: 0xFF if f.type == "u8" else 0 for f in OPS.fields
             if f.type in ("u8", "u16", "u32")}


def assert_same_value(name: str, got: Any, want: Any) -> None:
    if want is None and name in _NO_VALUE:
        assert got == _NO_VALUE[name], name
    elif want is None or isinstance(want, bool) or isinstance(got, bool | str):
        assert got == want, name
    elif F32_TYPES.get(name) == "f32":
        assert got == pytest.approx(want, rel=1e-6, abs=1e-30), name
    else:
        assert got == pytest.approx(want), name


def hk_rows(records: list[Any]) -> list[dict[str, Any]]:
    """Each HK record with the OPS record of the same time merged in (as the CSV does)."""
    rows: list[dict[str, Any]] = []
    for r in records:
        if r.kind == "HK":
            rows.append(dict(r.data))
        elif r.kind == "OPS":
            assert rows and rows[-1]["t_s"] == r.data["t_s"], "OPS without its HK"
            rows[-1].update((k, v) for k, v in r.data.items() if k != "t_s")
    return rows


def test_hk_records_are_the_telemetry_rows(quick_run: Any) -> None:
    """HK (and the OPS of the same time, when flight sends it) is a telemetry.jsonl row."""
    records = list(decode_stream(quick_run.downlink))
    hk = hk_rows(records)
    assert len(hk) == len(quick_run.telemetry) > 500
    has_ops = any(r.kind == "OPS" for r in records)
    ops_names = {f.name for f in OPS.fields}
    for got, row in zip(hk, quick_run.telemetry, strict=True):
        want = row if has_ops else {k: v for k, v in row.items() if k not in ops_names}
        # the same fields; HK's in the same order (the OPS figures: by name)
        assert [k for k in got if k not in ops_names] == \
            [k for k in want if k not in ops_names]
        assert set(got) == set(want)
        assert abs(got["t_s"] - row["t_s"]) <= 1 / FINE_PER_S
        for key in want:
            if key != "t_s":
                assert_same_value(key, got[key], row[key])
    states = {r["state"] for r in hk}
    assert {"IDLE", "EXTRACT_HEAT"} <= states


def test_event_records_are_the_events(quick_run: Any) -> None:
    events = [r.data for r in decode_stream(quick_run.downlink) if r.kind == "EVENT"]
    assert len(events) == len(quick_run.events) > 3
    for got, want in zip(events, quick_run.events, strict=True):
        assert got["event"] == want["event"]
        assert got["severity"] == want["level"]
        assert abs(got["t_s"] - want["t_s"]) <= 1 / FINE_PER_S
        fields = {k: v for k, v in want.items() if k not in ("event", "level", "t_s")}
        assert {k: v for k, v in got.items() if k not in ("event", "severity", "t_s")} \
            == json.loads(json.dumps(fields, default=str))


def test_every_packet_kind_decodes(stream: list[bytes]) -> None:
    records = list(decode_stream(b"".join(stream)))
    assert [r.kind for r in records] == ["EVENT", "HK", "LINK", "VERIFY", "VERIFY", "EVENT",
                                         "HK", "LINK"]
    assert [r.index for r in records] == list(range(8))
    assert records[1].offset == len(stream[0])
    hk = records[1].data
    assert hk["t_s"] == 0.5 and hk["state"] == "IDLE"
    assert hk["sample_temp_k"] is None  # a failed reading (NaN)
    assert hk["valve_open"] is False and hk["cmd_heater_enabled"] is False
    assert records[6].data["valve_open"] is True and records[6].data["heater_temp_k"] == 500.0
    assert records[6].data["cmd_heater_power_w"] == 3.25
    link = records[2].data
    assert list(link) == ["t_s", *(f.name for f in LINK.fields)]
    assert link["board_time_s"] == 12.5 and link["link_frames_received"] == 1
    assert records[3].data == {"t_s": 1.0, "tc_seq": 7, "opcode": 4, "command": "SAFE",
                               "stage": "accepted", "reason": "ok"}
    assert records[4].data["stage"] == "completed"
    assert records[5].data == {"t_s": 1.0, "event": "state_change", "severity": "warning",
                               "dest": "SAFE", "reason": "x", "source": "IDLE",
                               "trigger": "safe"}


def test_a_cut_event_text_decodes_as_truncated() -> None:
    out: list[bytes] = []
    Downlink([out.append]).event(3.0, "fault_injected", {"detail": "é" * 5000})
    (r,) = decode_stream(out[0])
    assert r.data["event"] == "fault_injected" and r.data["truncated"] is True


def test_idle_packets_are_skipped(stream: list[bytes]) -> None:
    idle = struct.pack(">HHH", 0x07FF, 0xC000, 3) + b"\xff" * 4
    records = list(decode_stream(idle + stream[0]))
    assert [(r.kind, r.index, r.offset) for r in records] == [("EVENT", 1, 10)]


# ---- malformed streams ---------------------------------------------------------------------

def error_of(data: bytes) -> PacketError:
    with pytest.raises(PacketError) as info:
        list(decode_stream(data, "x.bin"))
    return info.value


def test_a_truncated_stream_names_the_last_packet(stream: list[bytes]) -> None:
    data = b"".join(stream)
    offset = sum(map(len, stream[:5]))
    e = error_of(data[:offset + 3])  # a piece of a primary header
    assert (e.index, e.offset) == (5, offset)
    assert str(e) == f"x.bin: packet 5 at byte {offset}: truncated: 3 byte(s) left, a " \
        "primary header takes 6"
    e = error_of(data[:offset + 20])  # the header, part of the packet
    assert (e.index, e.offset) == (5, offset) and "length field" in str(e)


def test_a_length_field_past_the_end_is_named(stream: list[bytes]) -> None:
    bad = bytearray(stream[1])
    bad[4:6] = (len(bad) + 100).to_bytes(2, "big")
    e = error_of(stream[0] + bytes(bad) + stream[2])
    assert (e.index, e.offset) == (1, len(stream[0]))
    assert "the length field (bytes 4-5) says" in str(e)


def with_body(packet: bytes, body: bytes) -> bytes:
    """``packet``'s headers (length fixed up) around another user data."""
    head = bytearray(packet[:12])
    head[4:6] = (6 + len(body) - 1).to_bytes(2, "big")
    return bytes(head) + body


@pytest.mark.parametrize(("mangle", "says"), [
    (lambda p: p[:2] + b"\x00\x00" + p[4:], None),  # sequence flags 0: still decoded
    (lambda p: bytes([p[0] & 0xF8 | 0x02]) + p[1:], "unknown APID 0x200"),
    (lambda p: with_body(p, p[12:-1]),
     f"HK: {HK.size - 1} bytes of user data, its layout takes {HK.size}"),
    (lambda p: bytes([p[0] | 0x20]) + p[1:], "CCSDS version 1"),
    (lambda p: bytes([p[0] | 0x10]) + p[1:], "a telecommand, not telemetry"),
    (lambda p: bytes([p[0] & ~0x08]) + p[1:], "without its 6-byte time"),
    (lambda p: p[:12] + b"\x63" + p[13:], "state index 99"),
])
def test_a_malformed_hk_is_named(stream: list[bytes], mangle: Any, says: str | None) -> None:
    data = stream[0] + mangle(stream[1])
    if says is None:
        assert len(list(decode_stream(data))) == 2
        return
    e = error_of(data)
    assert (e.index, e.offset) == (1, len(stream[0])) and says in str(e), str(e)


@pytest.mark.parametrize(("text", "says"), [
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b'{"a": ', "not UTF-8 JSON"),
    (b"[1, 2]", "JSON but not an object"),
    (b"[" * 5000, "not UTF-8 JSON"),
])
def test_a_bad_event_text_is_named(stream: list[bytes], text: bytes, says: str) -> None:
    body = EVENT_HEAD.pack(1, 0, len(text)) + text
    e = error_of(with_body(stream[0], body))
    assert (e.index, e.offset) == (0, 0) and says in str(e)
    assert e.detail.startswith("EVENT: run_start: ")


@pytest.mark.parametrize(("body", "says"), [
    (EVENT_HEAD.pack(1, 0, 5) + b"{}", "the text length says 5 bytes, the packet holds 2"),
    (EVENT_HEAD.pack(999, 0, 2) + b"{}", "event id 999"),
    (EVENT_HEAD.pack(1, 7, 2) + b"{}", "severity 7"),
    (b"\x00\x01", "shorter than its 5-byte head"),
])
def test_a_bad_event_head_is_named(stream: list[bytes], body: bytes, says: str) -> None:
    assert says in str(error_of(with_body(stream[0], body)))


@pytest.mark.parametrize(("body", "says"), [
    (struct.pack(">HHHBB", 0x180, 1, 4, 9, 0), "stage 9"),
    (struct.pack(">HHHBB", 0x180, 1, 4, 0, 99), "reason code 99"),
    (struct.pack(">HHHB", 0x180, 1, 4, 0), "7 bytes of user data, a verification takes 8"),
])
def test_a_bad_verification_is_named(stream: list[bytes], body: bytes, says: str) -> None:
    assert says in str(error_of(with_body(stream[3], body)))


def test_garbage_is_named() -> None:
    e = error_of(b"this is not a downlink file at all")
    assert (e.index, e.offset) == (0, 0) and "CCSDS version 3" in str(e)


# ---- fuzzing: only PacketError, ever -------------------------------------------------------

def decode_all(data: bytes) -> None:
    try:
        for raw in split_packets(data, "fuzz"):
            decode_packet(raw, "fuzz")
    except PacketError as e:
        assert e.offset <= len(data) and str(e).startswith("fuzz: packet ")


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_no_byte_string_raises_anything_but_packet_error(data: bytes) -> None:
    decode_all(data)


def _stream() -> bytes:
    out: list[bytes] = []
    dl = Downlink([out.append])
    dl.event(0.0, "run_start", {"mission": "t"})
    dl.housekeeping(0.5, "IDLE", {"heater_temp_k": 40.0}, {"heater_enabled": True},
                    {"link_frames_sent": 3})
    dl.verify(1.0, 0x180, 7, 4, "failed", 7)
    return b"".join(out)


STREAM = _stream()


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(STREAM) - 1), st.integers(1, 255), st.integers(0, len(STREAM)))
def test_a_mangled_real_stream_raises_only_packet_error(at: int, xor: int, cut: int) -> None:
    data = bytearray(STREAM)
    data[at] ^= xor
    decode_all(bytes(data))
    decode_all(bytes(data[:cut]))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.integers(0, 0xFF))
def test_any_event_text_raises_only_packet_error(text: bytes, severity: int) -> None:
    head = struct.pack(">HHH", 0x0800 | APID_EVENT, 0xC000, 6 + EVENT_HEAD.size + len(text) - 1)
    decode_all(head + b"\x00" * 6 + EVENT_HEAD.pack(2, severity & 1, len(text)) + text)


# ---- the command line ----------------------------------------------------------------------

def test_decode_writes_jsonl_and_csv(quick_run: Any, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    src = quick_run.out / "downlink.bin"
    assert decode.main([str(src), "--out", str(tmp_path / "all.jsonl")]) == 0
    lines = [json.loads(s) for s in (tmp_path / "all.jsonl").read_text().splitlines()]
    ops = sum(1 for d in lines if d["packet"] == "OPS")
    assert ops in (0, len(quick_run.telemetry))  # with every HK sample, or never
    assert len(lines) == len(quick_run.telemetry) + ops + len(quick_run.events)
    assert {d["packet"] for d in lines} == {"HK", "EVENT"} | ({"OPS"} if ops else set())
    assert decode.main([str(src), "--csv", "--out", str(tmp_path / "hk.csv")]) == 0
    with open(tmp_path / "hk.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t_s", *(f.name for f in HK.fields),
                       *(f.name for f in OPS.fields if ops)]
    assert len(rows) == 1 + len(quick_run.telemetry)
    assert rows[1][1] == quick_run.telemetry[0]["state"]
    assert float(rows[-1][2]) == pytest.approx(quick_run.telemetry[-1]["heater_temp_k"],
                                               rel=1e-6)
    assert decode.main([str(src), "--only", "event"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(s)["event"] for s in out] == [e["event"] for e in quick_run.events]


def test_decode_csv_merges_the_link_diagnostics(stream: list[bytes], tmp_path: Path) -> None:
    (tmp_path / "d.bin").write_bytes(b"".join(stream))
    assert decode.main([str(tmp_path / "d.bin"), "--csv", "--out", str(tmp_path / "d.csv")]) == 0
    with open(tmp_path / "d.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and rows[0]["board_time_s"] == "12.5"
    assert rows[0]["sample_temp_k"] == "" and rows[1]["state"] == "SAFE"


def test_decode_a_malformed_file_is_exit_2_after_the_good_records(
        stream: list[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"".join(stream)
    (tmp_path / "cut.bin").write_bytes(data[:-5])
    assert decode.main([str(tmp_path / "cut.bin")]) == 2
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 7  # every packet before the cut one
    offset = len(data) - len(stream[-1])
    assert err == (f"thermine: error: {tmp_path / 'cut.bin'}: packet 7 at byte {offset}: "
                   f"the length field (bytes 4-5) says {len(stream[-1])} bytes, only "
                   f"{len(stream[-1]) - 5} left\n")
    assert "Traceback" not in err


@pytest.mark.parametrize(("argv", "says"), [
    (["missing.bin"], "missing.bin: cannot read it"),
    (["{f}", "--only", "HK,NOPE"], "--only"),
    (["{f}", "--csv", "--only", "EVENT"], "--csv writes the housekeeping"),
])
def test_decode_bad_arguments_are_exit_2(tmp_path: Path, stream: list[bytes], argv: list[str],
                                         says: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "d.bin"
    f.write_bytes(b"".join(stream))
    assert decode.main([a.replace("{f}", str(f)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_decode_file_reads_a_recorded_file(stream: list[bytes], tmp_path: Path) -> None:
    (tmp_path / "d.bin").write_bytes(b"".join(stream))
    records = decode_file(tmp_path / "d.bin")
    assert len(records) == 8 and math.isclose(records[-1].t_s, 1.5)

"""The OPS packet on the ground (decoded, merged into the CSV, kept by the console's link
and shown in its OPS block, replayed) and ``upload FILE [SLOT]``: a sequence file checked
locally, then sent as SEQ_UPLOAD chunks of at most 200 bytes, one at a time, and a
SEQ_LOAD; a bad file, or a chunk the flight side does not complete, stops it."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.commands import CommandError
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import APID_TC, OPS, SEQ_STATUSES
from flight.tmtc.uplink import decode_tc
from ground.harness.ground_link import Endpoint
from ground.tmtc import console, decode, replay
from ground.tmtc.command_line import complete, help_lines, parse_command, parse_upload
from ground.tmtc.link import GroundLink, ops_lines
from ground.tmtc.packets import TM_APIDS, decode_stream

CHUNK = DICTIONARY.commands["SEQ_UPLOAD"].args["data"].size


def figures(**over: Any) -> dict[str, Any]:
    """Every OPS figure, each exact in its type (f32 included)."""
    out: dict[str, Any] = {}
    for i, f in enumerate(OPS.fields):
        out[f.name] = {"u8": 1, "u16": 3, "u32": 9}.get(f.type, 0.5 * (i + 1))
    out.update(seq_status=1, seq_step=4, seq_next_s=12.5, power_cap_w=80.0)
    out.update(over)
    return out


def ops_stream() -> list[bytes]:
    """HK, LINK, OPS (every figure); then HK, OPS with most figures missing."""
    out: list[bytes] = []
    dl = Downlink([out.append])
    dl.housekeeping(0.5, "IDLE", {}, {}, {"link_frames_sent": 4}, figures())
    dl.housekeeping(1.5, "IDLE", {}, {}, None, {"scoop": 2, "seq_id": 255})
    return out


# ---- the OPS packet ----------------------------------------------------------------------

def test_ops_decodes_with_every_figure_and_none_for_a_missing_float() -> None:
    assert TM_APIDS["OPS"] == OPS.apid == 0x104
    records = list(decode_stream(b"".join(ops_stream())))
    assert [r.kind for r in records] == ["HK", "LINK", "OPS", "HK", "OPS"]
    full, part = records[2].data, records[4].data
    assert list(full) == ["t_s", *(f.name for f in OPS.fields)]
    assert full == {"t_s": 0.5, **figures()}
    assert part["scoop"] == 2 and part["seq_id"] == 255  # an id, not a failed reading
    assert part["seq_status"] == 0xFF and part["seq_step"] == 0  # sent as no value / 0
    assert part["water_captured_kg"] is None and part["seq_next_s"] is None


def test_decode_merges_ops_into_the_csv_and_lists_it(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "d.bin"
    f.write_bytes(b"".join(ops_stream()))
    assert decode.main([str(f), "--csv", "--out", str(tmp_path / "d.csv")]) == 0
    with open(tmp_path / "d.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames is not None and reader.fieldnames[-len(OPS.fields):] == \
        [f.name for f in OPS.fields]
    assert len(rows) == 2 and rows[0]["link_frames_sent"] == "4"
    assert rows[0]["power_cap_w"] == "80.0" and rows[0]["seq_next_s"] == "12.5"
    assert rows[1]["scoop"] == "2" and rows[1]["water_captured_kg"] == ""
    assert decode.main([str(f), "--only", "ops"]) == 0
    lines = [json.loads(s) for s in capsys.readouterr().out.splitlines()]
    assert [d["packet"] for d in lines] == ["OPS", "OPS"]


def test_replay_sends_ops_packets_too(tmp_path: Path) -> None:
    f = tmp_path / "d.bin"
    f.write_bytes(b"".join(ops_stream()))
    packets = replay.load_packets(f)
    assert [p for _, p in packets] == ops_stream()


def test_the_link_keeps_the_latest_ops() -> None:
    link = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 9))
    try:
        assert link.ops is None and ops_lines(link.ops) == []
        notices = [n for p in ops_stream() for n in link.take(p)]
        assert [n.kind for n in notices] == ["STATE"]  # OPS is shown, not announced
        assert link.ops is not None and link.ops["t_s"] == 1.5 and link.ops["scoop"] == 2
        assert link.link is not None and link.link["link_frames_sent"] == 4
    finally:
        link.close()


def test_the_ops_block_says_accounting_energy_cap_and_sequence() -> None:
    lines = ops_lines({"t_s": 1.0, **figures(scoop=3, water_captured_kg=0.0125)})
    assert lines[0] == "scoop 3  water caught 0.0125 kg  split 2 kg  power cap 80 W"
    assert lines[1] == "H2 2.5 kg (tank 3.5 kg)  O2 3 kg (tank 4 kg)  bus energy 4.5 J"
    assert lines[2] == "sequence 1 running  step 4  next at t=12.5 s"
    waiting = ops_lines(figures(seq_id=2, seq_status=SEQ_STATUSES.index("waiting"),
                                seq_next_s=None))
    assert waiting[2] == "sequence 2 waiting  step 4  next on its condition"
    assert ops_lines({"seq_id": 0, "seq_status": 0})[2] == "sequence none"
    assert "scoop ---" in ops_lines({})[0]


# ---- upload: the local check and the chunks ----------------------------------------------

SEQUENCE = """\
# a stored sequence for the upload tests: the comments make it longer than two chunks,
# so that the last chunk is a short one and the one before it a whole one.
# ------------------------------------------------------------------------------------
name: caps
start_state: IDLE
steps:
  - {after_s: 1.0, command: SET_POWER_CAP, args: {cap_w: 30.0}, comment: lower the cap}
  - {after_s: 1.0, command: SET_POWER_CAP, args: {cap_w: 40.0}, comment: and raise it}
"""


@pytest.fixture
def sequence_file(tmp_path: Path) -> Path:
    pytest.importorskip("flight.sequences.schema")
    f = tmp_path / "caps.yaml"
    f.write_text(SEQUENCE, encoding="utf-8")
    return f


def test_upload_cuts_the_file_into_chunks_then_load(sequence_file: Path) -> None:
    data = sequence_file.read_bytes()
    assert 2 * CHUNK < len(data) < 3 * CHUNK
    up = parse_upload(f"upload {sequence_file}")
    assert up.slot == 1 and up.size == len(data) and up.chunks == 3
    names = [n for n, _ in up.commands]
    assert names == ["SEQ_UPLOAD"] * 3 + ["SEQ_LOAD"]
    assert [(a["seq_id"], a["offset"], a["length"]) for _, a in up.commands[:3]] == \
        [(1, 0, CHUNK), (1, CHUNK, CHUNK), (1, 2 * CHUNK, len(data) - 2 * CHUNK)]
    assert b"".join(a["data"] for _, a in up.commands[:3]) == data
    assert up.commands[3] == ("SEQ_LOAD", {"seq_id": 1})
    assert up.line() == (f"UPLOAD {sequence_file}: {len(data)} bytes in 3 SEQ_UPLOAD "
                         "chunk(s) to slot 1, then SEQ_LOAD 1")
    assert parse_upload(f"upload {sequence_file} 7").commands[-1] == ("SEQ_LOAD", {"seq_id": 7})


def test_a_file_that_fails_the_check_is_not_sent(sequence_file: Path) -> None:
    sequence_file.write_text(SEQUENCE.replace("command: SET_POWER_CAP, args: {cap_w: 40.0}",
                                              "command: LAUNCH"), encoding="utf-8")
    with pytest.raises(CommandError, match=r"steps\[1\]\.command: unknown command 'LAUNCH'"):
        parse_upload(f"upload {sequence_file}")


@pytest.mark.parametrize(("args", "says"), [
    ("", "usage: upload FILE [SLOT]"),
    ("{f} 1 2", "usage: upload FILE [SLOT]"),
    ("{f} 0", "slot 0 out of range [1, 254]"),
    ("{f} 256", "slot 256 out of range"),
    ("{f} one", "SLOT must be an integer"),
    ("{d}/missing.yaml", "cannot read"),
    ("{d}/empty.yaml", "is empty"),
    ("{d}/big.yaml", "an upload takes at most 16200"),
])
def test_upload_refuses_bad_usage(sequence_file: Path, args: str, says: str) -> None:
    (sequence_file.parent / "empty.yaml").write_bytes(b"")
    (sequence_file.parent / "big.yaml").write_bytes(b"#" * 65601)
    with pytest.raises(CommandError, match=says.replace("[", r"\[").replace("]", r"\]")):
        parse_upload("upload " + args.format(f=sequence_file, d=sequence_file.parent))


def test_seq_upload_is_not_typed_but_the_other_seq_commands_are() -> None:
    with pytest.raises(CommandError, match="'upload FILE \\[SLOT\\]' checks a sequence file"):
        parse_command("SEQ_UPLOAD seq_id=1 offset=0 length=1 data=41")
    assert parse_command("SEQ_START 1") == ("SEQ_START", {"seq_id": 1})
    assert parse_command("seq_cancel") == ("SEQ_CANCEL", {})
    assert parse_command("SET_POWER_CAP 25") == ("SET_POWER_CAP", {"cap_w": 25.0})
    assert complete("SEQ_U") == "SEQ_U" and complete("SEQ_L") == "SEQ_LOAD "
    lines = help_lines()
    assert "SEQ_START seq_id=INT" in lines[0] and "SEQ_UPLOAD" not in lines[0]
    assert lines[1].startswith("upload FILE [SLOT]: ")
    assert help_lines("upload")[0].startswith("upload FILE [SLOT]")
    assert any("upload FILE [SLOT]" in s for s in help_lines("SEQ_UPLOAD"))


# ---- upload from line mode -----------------------------------------------------------------

class FakeFlight(threading.Thread):
    """Answers every TC with accepted + completed (``reject``: the n-th TC, from 1,
    rejected instead), after one HK; keeps what it received."""

    def __init__(self, tm_port: int, reject: int = 0) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.to = ("127.0.0.1", tm_port)
        self.reject = reject
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        def send(packet: bytes) -> None:
            self.sock.sendto(packet, self.to)

        dl = Downlink([send])
        dl.housekeeping(0.0, "IDLE", {}, {})
        while not self.stop.is_set():
            try:
                tc = decode_tc(self.sock.recv(4096))
            except TimeoutError:
                continue
            self.received.append((tc.name, tc.args))
            if len(self.received) == self.reject:
                dl.verify(1.0, APID_TC, tc.seq, tc.opcode, "rejected", 6)
                continue
            dl.verify(1.0, APID_TC, tc.seq, tc.opcode, "accepted", 0)
            dl.verify(1.1, APID_TC, tc.seq, tc.opcode, "completed", 0)


def fly_script(script: str, reject: int = 0) -> tuple[int, list[str], FakeFlight]:
    link = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 9))
    flight = FakeFlight(link.tm_sock.getsockname()[1], reject)
    link.tc_endpoint = Endpoint("127.0.0.1", flight.port)
    flight.start()
    r, w = os.pipe()
    os.write(w, script.encode())
    os.close(w)
    out = io.StringIO()
    try:
        code = console.run_lines(link, r, out, 2.0, 0.0)
    finally:
        os.close(r)
        flight.stop.set()
        flight.join()
        link.close()
    return code, out.getvalue().splitlines(), flight


def test_line_mode_uploads_a_file_chunk_by_chunk(sequence_file: Path) -> None:
    data = sequence_file.read_bytes()
    code, lines, flight = fly_script(f"wait IDLE\nupload {sequence_file} 2\nSEQ_START 2\n")
    assert code == 0, lines
    assert f"UPLOAD {sequence_file}: {len(data)} bytes in 3 SEQ_UPLOAD chunk(s) to slot 2, " \
        "then SEQ_LOAD 2" in lines
    assert [n for n, _ in flight.received] == ["SEQ_UPLOAD"] * 3 + ["SEQ_LOAD", "SEQ_START"]
    got = bytearray()
    for _name, a in flight.received[:3]:
        assert a["seq_id"] == 2 and a["offset"] == len(got) and len(a["data"]) == CHUNK
        got += a["data"][:a["length"]]
    assert bytes(got) == data
    sent = [s for s in lines if s.startswith("SENT ")]
    assert sent[0] == f"SENT 1 SEQ_UPLOAD seq_id=2 offset=0 length={CHUNK} data=<{CHUNK} bytes>"
    assert sent[3:] == ["SENT 4 SEQ_LOAD seq_id=2", "SENT 5 SEQ_START seq_id=2"]
    # each chunk went once the one before had completed
    assert lines.index("t=1.1 s VERIFY 1 SEQ_UPLOAD completed") < lines.index(sent[1])


def test_a_chunk_not_completed_stops_the_upload(sequence_file: Path) -> None:
    code, lines, flight = fly_script(f"upload {sequence_file}\n", reject=2)
    assert [n for n, _ in flight.received] == ["SEQ_UPLOAD", "SEQ_UPLOAD"]
    assert "t=1.0 s VERIFY 2 SEQ_UPLOAD rejected bad_argument" in lines
    assert any(s.startswith(f"REFUSED upload {sequence_file}: 2 SEQ_UPLOAD was not completed;"
                            " the 2 telecommand(s) after it were not sent") for s in lines)
    assert code == 1


def test_line_mode_refuses_a_bad_file_and_sends_nothing(sequence_file: Path) -> None:
    sequence_file.write_text("name: x\nsteps: [{after_s: 1.0, command: LAUNCH}]\n")
    code, lines, flight = fly_script(f"upload {sequence_file}\nSEQ_UPLOAD 1\n")
    assert flight.received == []
    refused = [s for s in lines if s.startswith("REFUSED ")]
    assert refused[0].startswith(f"REFUSED upload {sequence_file}: {sequence_file}: steps[0]")
    assert refused[0].endswith("(not sent)")
    assert refused[1].startswith("REFUSED SEQ_UPLOAD 1: SEQ_UPLOAD is not typed by hand")
    assert code == 1


def test_one_batch_at_a_time() -> None:
    link = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 9))
    try:
        (first,) = link.send_batch("upload a", [("SEQ_LOAD", {"seq_id": 1}),
                                                ("SEQ_START", {"seq_id": 1})])
        assert first.line == "SENT 1 SEQ_LOAD seq_id=1"
        (second,) = link.send_batch("upload b", [("SEQ_LOAD", {"seq_id": 2})])
        assert second.kind == "REFUSED" and "upload a is still being sent" in second.line
        assert link.pump() == []  # the first one has no answer yet
        link.expire(0.0)
        (stop,) = link.pump()
        assert stop.kind == "REFUSED" and "1 SEQ_LOAD was not completed" in stop.line
        assert link.batch is None and [tc.name for tc in link.tcs.values()] == ["SEQ_LOAD"]
    finally:
        link.close()

"""``thermine ground`` (ground/tmtc/console.py and its helpers): commands typed by name
are validated before anything is sent, sent with increasing sequence counts and matched
to their verifications; telemetry updates the picture; line mode drives a real run
(ARM, START_EXTRACTION, a setpoint, SAFE, RECOVER) to completion; the full-screen view
starts, shows the limits and quits on a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from flight.commands import CommandError
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import APID_TC
from flight.tmtc.uplink import decode_tc
from ground.harness.ground_link import Endpoint
from ground.tmtc import console
from ground.tmtc.command_line import help_lines, parse_command
from ground.tmtc.limits import OK, RED, YELLOW, load_limits
from ground.tmtc.link import GroundLink
from ground.tmtc.packets import decode_file

ROOT = Path(__file__).resolve().parents[2]


# ---- typed commands ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "want"), [
    ("ARM START_EXTRACTION", ("ARM", {"command": "START_EXTRACTION"})),
    ("arm start_extraction", ("ARM", {"command": "START_EXTRACTION"})),
    ("ARM command=SET_HEATER_SETPOINT", ("ARM", {"command": "SET_HEATER_SETPOINT"})),
    ("SET_HEATER_SETPOINT setpoint_k=380", ("SET_HEATER_SETPOINT", {"setpoint_k": 380.0})),
    ("SET_HEATER_SETPOINT 380", ("SET_HEATER_SETPOINT", {"setpoint_k": 380.0})),
    ("  safe  ", ("SAFE", {})),
    ("POWER_CYCLE valve_open", ("POWER_CYCLE", {"actuator": "valve_open"})),
])
def test_a_typed_command_is_parsed(text: str, want: tuple[str, dict[str, Any]]) -> None:
    assert parse_command(text) == want


@pytest.mark.parametrize(("text", "says"), [
    ("SET_HEATER_SETPOINT setpoint_k=9999", "'setpoint_k'=9999.0 out of range [100.0, 600.0]"),
    ("SET_HEATER_SETPOINT setpoint_k=hot", "must be float, got 'hot'"),
    ("SET_HEATER_SETPOINT nan", "out of range"),
    ("SET_HEATER_SETPOINT", "missing argument 'setpoint_k'"),
    ("SET_HEATER_SETPOINT x=1", "unknown argument(s) x"),
    ("SET_HEATER_SETPOINT 380 setpoint_k=390", "ARG=VALUE"),
    ("SAFE now", "SAFE takes no arguments"),
    ("ARM FIRE", "'FIRE' is not one of START_EXTRACTION, SET_HEATER_SETPOINT"),
    ("SAFEE", "did you mean SAFE?"),
    ("SUBSTITUTE_SENSOR heater_temp_k sample_temp_k", "not accepted from the ground"),
    ('ARM "START', "cannot read"),
])
def test_a_bad_command_is_refused_with_the_reason(text: str, says: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_command(text)
    assert says in str(info.value)


def test_help_lists_what_the_ground_may_send() -> None:
    lines = help_lines()
    assert "SET_HEATER_SETPOINT setpoint_k=FLOAT" in lines[0]
    assert "SUBSTITUTE_SENSOR" not in lines[0]
    assert any("send 'ARM START_EXTRACTION' first" in s for s in help_lines("start_extraction"))
    with pytest.raises(CommandError):
        help_lines("NOPE")


def test_limit_colours() -> None:
    limits = load_limits()
    assert limits.check("heater_temp_k", 500.0, "IDLE") == (RED, ">480 heater_overtemp")
    assert limits.check("heater_temp_k", 410.0, "IDLE")[0] == YELLOW  # plausible: 20..400
    assert limits.check("heater_temp_k", 300.0, "IDLE") == (OK, "")
    assert limits.check("bus_cap_w", 10.0, "IDLE")[0] == OK  # brownout: in EXTRACT... only
    assert limits.check("bus_cap_w", 10.0, "EXTRACT_HEAT") == (RED, "<20 bus_brownout")
    assert limits.check("sample_temp_k", None, "IDLE")[0] == YELLOW
    assert limits.check("valve_open", True, "IDLE")[0] == OK  # a switch has no range
    mission = load_limits(ROOT / "configs/missions/quick.yaml")
    assert len(mission.limits["heater_temp_k"]) == 2  # the table's and the mission's


# ---- the link ------------------------------------------------------------------------------

@pytest.fixture
def flight_side() -> Iterator[socket.socket]:
    """A socket standing for the flight side's uplink port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    yield s
    s.close()


@pytest.fixture
def link(flight_side: socket.socket, tmp_path: Path) -> Iterator[GroundLink]:
    g = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", flight_side.getsockname()[1]),
                   record=tmp_path / "rec.bin")
    yield g
    g.close()


def test_commands_go_out_with_increasing_sequence_counts(link: GroundLink,
                                                         flight_side: socket.socket) -> None:
    assert link.send("ARM", {"command": "START_EXTRACTION"}).line == \
        "SENT 1 ARM command=START_EXTRACTION"
    assert link.send("SET_HEATER_SETPOINT", {"setpoint_k": 9999.0}).kind == "REFUSED"
    assert link.send("START_EXTRACTION", {}).line == "SENT 2 START_EXTRACTION"
    first, second = (decode_tc(flight_side.recv(100)) for _ in range(2))
    assert (first.seq, first.name, first.args) == (1, "ARM", {"command": "START_EXTRACTION"})
    assert (second.seq, second.name) == (2, "START_EXTRACTION")
    assert [tc.seq for tc in link.pending()] == [1, 2]


def test_verifications_are_matched_by_sequence_count(link: GroundLink, tmp_path: Path) -> None:
    link.send("SAFE", {})
    link.send("RECOVER", {})
    out: list[bytes] = []
    dl = Downlink([out.append])
    dl.housekeeping(1.0, "IDLE", {}, {})
    dl.verify(1.2, APID_TC, 1, 4, "accepted", 0)
    dl.event(1.2, "state_change", {"source": "IDLE", "dest": "SAFE"})
    dl.verify(1.2, APID_TC, 1, 4, "completed", 0)
    dl.verify(1.3, APID_TC, 2, 5, "rejected", 6)
    dl.verify(1.3, APID_TC, 77, 16, "failed", 7)
    dl.housekeeping(2.0, "SAFE", {}, {})
    dl.housekeeping(3.0, "SAFE", {}, {})
    lines = [n.line for p in out for n in link.take(p)]
    assert lines == [
        "t=1.0 s STATE IDLE",
        "t=1.2 s VERIFY 1 SAFE accepted",
        "t=1.2 s EVENT state_change (warning) dest=SAFE source=IDLE",
        "t=1.2 s VERIFY 1 SAFE completed",
        "t=1.3 s VERIFY 2 RECOVER rejected bad_argument",
        "t=1.3 s VERIFY 77 SET_HEATER_SETPOINT failed refused (not sent by this console)",
        "t=2.0 s STATE SAFE",
    ]
    assert link.pending() == [] and link.tcs[1].completed and not link.tcs[2].completed
    assert link.hk is not None and link.hk["t_s"] == 3.0 and link.packets == len(out)
    link.close()
    assert b"".join(out) == (tmp_path / "rec.bin").read_bytes()


def test_a_malformed_datagram_is_counted_not_recorded(link: GroundLink, tmp_path: Path) -> None:
    (notice,) = link.take(b"\x09\x00\xc0\x00\x00\x40junk", "datagram from here")
    assert notice.kind == "BAD" and "packet 0 at byte 0" in notice.line
    assert (link.bad, link.packets) == (1, 0)
    link.close()
    assert (tmp_path / "rec.bin").read_bytes() == b""


def test_an_unanswered_command_times_out(link: GroundLink) -> None:
    link.send("SAFE", {})
    assert link.expire(60.0) == []
    (n,) = link.expire(0.0)
    assert n.line == "VERIFY 1 SAFE no answer after 0 s" and link.pending() == []


def test_the_telemetry_port_in_use_is_a_config_error(link: GroundLink) -> None:
    port = link.tm_sock.getsockname()[1]
    with pytest.raises(Exception, match=f"--tm: cannot listen on udp://127.0.0.1:{port}"):
        GroundLink(Endpoint("127.0.0.1", port), Endpoint("127.0.0.1", 9))


# ---- line mode -----------------------------------------------------------------------------

class FakeFlight(threading.Thread):
    """Answers every TC on its port with accepted + completed, after one HK (IDLE)."""

    def __init__(self, tm_port: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.to = ("127.0.0.1", tm_port)
        self.received: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        def send(packet: bytes) -> None:
            self.sock.sendto(packet, self.to)

        dl = Downlink([send])
        dl.housekeeping(0.0, "IDLE", {}, {})
        while not self.stop.is_set():
            try:
                tc = decode_tc(self.sock.recv(100))
            except TimeoutError:
                continue
            self.received.append(tc.name)
            dl.verify(1.0, APID_TC, tc.seq, tc.opcode, "accepted", 0)
            dl.verify(1.1, APID_TC, tc.seq, tc.opcode, "completed", 0)


def run_script(link: GroundLink, script: str, timeout_s: float = 2.0) -> tuple[int, list[str]]:
    r, w = os.pipe()
    os.write(w, script.encode())
    os.close(w)
    out = io.StringIO()
    try:
        code = console.run_lines(link, r, out, timeout_s, 0.0)
    finally:
        os.close(r)
    return code, out.getvalue().splitlines()


def test_line_mode_sends_one_command_at_a_time() -> None:
    link = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 9))
    flight = FakeFlight(link.tm_sock.getsockname()[1])
    link.tc_endpoint = Endpoint("127.0.0.1", flight.port)
    flight.start()
    try:
        code, lines = run_script(link, "# a script\n\nhelp ARM\nwait IDLE\nARM START_EXTRACTION"
                                 "\nwait 0.1\nsafe\nBOGUS 1\nquit\nRECOVER\n")
    finally:
        flight.stop.set()
        flight.join()
        link.close()
    assert lines.index("t=0.0 s STATE IDLE") < lines.index("SENT 1 ARM command=START_EXTRACTION")
    lines.remove("t=0.0 s STATE IDLE")
    assert lines[0].startswith("ARM command=STR")  # help ARM: 3 lines
    assert lines[3:] == [
        "SENT 1 ARM command=START_EXTRACTION",
        "t=1.0 s VERIFY 1 ARM accepted",
        "t=1.1 s VERIFY 1 ARM completed",
        "SENT 2 SAFE",
        "t=1.0 s VERIFY 2 SAFE accepted",
        "t=1.1 s VERIFY 2 SAFE completed",
        "REFUSED BOGUS 1: unknown command 'BOGUS'; 'help' lists them (not sent)",
    ]
    assert flight.received == ["ARM", "SAFE"]  # nothing after quit
    assert code == 1  # BOGUS was refused


def test_line_mode_without_a_flight_side_reports_no_answer() -> None:
    link = GroundLink(Endpoint("127.0.0.1", 0), Endpoint("127.0.0.1", 9))
    try:
        code, lines = run_script(link, "SAFE", timeout_s=0.3)
    finally:
        link.close()
    assert lines == ["INFO no telemetry heard in 0.3 s; sending anyway", "SENT 1 SAFE",
                     "VERIFY 1 SAFE no answer after 0.3 s"]
    assert code == 1


def test_console_bad_arguments_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert console.main(["--tm", "udp://127.0.0.1", "--lines"]) == 2
    assert "--tm: 'udp://127.0.0.1': expected udp://HOST:PORT" in capsys.readouterr().err
    assert console.main(["--timeout", "0", "--lines"]) == 2
    assert console.main(["--mission", "nope.yaml", "--lines"]) == 2


# ---- end to end: a real run commanded from the console --------------------------------------

def test_the_console_flies_a_run(tmp_path: Path, port: Any) -> None:
    mission = yaml.safe_load((ROOT / "configs/missions/quick.yaml").read_text())
    mission["commands"] = []  # the ground must ARM and START_EXTRACTION
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mission))
    tm, tc, out = port(), port(), tmp_path / "run"
    run = subprocess.Popen([sys.executable, "-m", "ground.cli", "run", str(tmp_path / "m.yaml"),
                            "--out", str(out), "--ground", f"udp://127.0.0.1:{tm}", "--uplink",
                            f"udp://127.0.0.1:{tc}", "--speed", "20", "--quiet", "--until",
                            "900"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        script = ("wait IDLE\nARM START_EXTRACTION\nSTART_EXTRACTION\n"
                  "SET_HEATER_SETPOINT setpoint_k=9999\nSET_HEATER_SETPOINT setpoint_k=380\n"
                  "SAFE\nwait SAFE\nRECOVER\nwait IDLE\n")
        ground = subprocess.run([sys.executable, "-m", "ground.tmtc.console", "--tm",
                                 f"udp://127.0.0.1:{tm}", "--tc", f"udp://127.0.0.1:{tc}",
                                 "--record", str(tmp_path / "rec.bin"), "--timeout", "10"],
                                input=script, cwd=ROOT, capture_output=True, text=True,
                                timeout=60)
    finally:
        run.send_signal(signal.SIGINT)
        _, err = run.communicate(timeout=30)
    lines = ground.stdout.splitlines()
    verified = [s.split(" ", 2)[2] for s in lines if " VERIFY " in s]
    assert verified == [f"VERIFY {seq} {name} {stage}"
                        for seq, name in enumerate(["ARM", "START_EXTRACTION",
                                                    "SET_HEATER_SETPOINT", "SAFE", "RECOVER"], 1)
                        for stage in ("accepted", "completed")], ground.stdout
    assert any(s.startswith("REFUSED SET_HEATER_SETPOINT setpoint_k=9999: ") and
               s.endswith("out of range [100.0, 600.0] K (not sent)") for s in lines)
    states = [s.split(" STATE ")[1] for s in lines if " STATE " in s]
    assert states[-2:] == ["SAFE", "IDLE"]  # (HK at 1 Hz: EXTRACT_HEAT may fall between)
    assert any("EVENT state_change dest=EXTRACT_HEAT" in s for s in lines)
    assert ground.returncode == 1  # the refused command
    assert run.returncode == 130, err
    events = [json.loads(s) for s in (out / "events.jsonl").read_text().splitlines()]
    tcs = [e for e in events if e["event"] == "telecommand"]
    assert [(e["seq"], e["name"], e["verdict"]) for e in tcs] == [
        (1, "ARM", "accepted"), (2, "START_EXTRACTION", "accepted"),
        (3, "SET_HEATER_SETPOINT", "accepted"), (4, "SAFE", "accepted"),
        (5, "RECOVER", "accepted")]
    assert tcs[2]["args"] == {"setpoint_k": 380.0}
    ground_cmds = [(e["name"], e["accepted"]) for e in events
                   if e["event"] == "command" and e["source"] == "ground"]
    assert ground_cmds == [("START_EXTRACTION", True), ("SET_HEATER_SETPOINT", True),
                           ("SAFE", True), ("RECOVER", True)]
    assert any(e["event"] == "arm" and e["source"] == "ground" for e in events)
    recorded = decode_file(tmp_path / "rec.bin")
    assert [r.data["stage"] for r in recorded if r.kind == "VERIFY"] == \
        ["accepted", "completed"] * 5


# ---- the full-screen view ------------------------------------------------------------------

def read_until(fd: int, text: bytes, timeout_s: float = 10.0) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout_s
    while text not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_the_full_screen_view_on_a_terminal(port: Any, stream: list[bytes]) -> None:
    tm = port()
    master, slave = pty.openpty()
    termios.tcsetwinsize(slave, (45, 140))
    proc = subprocess.Popen([sys.executable, "-m", "ground.tmtc.console", "--tm",
                             f"udp://127.0.0.1:{tm}", "--tc", "udp://127.0.0.1:9"],
                            cwd=ROOT, stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "xterm-256color"}, start_new_session=True)
    os.close(slave)
    try:
        assert b"thermine ground" in read_until(master, b"thermine ground")
        ops: list[bytes] = []
        Downlink([ops.append]).housekeeping(2.0, "SAFE", {}, {}, None, {
            "scoop": 3, "power_cap_w": 80.0, "seq_id": 2, "seq_status": 3, "seq_step": 5})
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for p in stream:
                s.sendto(p, ("127.0.0.1", tm))
        assert b"heater_overtemp" in read_until(master, b"heater_overtemp")  # 500 K: red
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(ops[1], ("127.0.0.1", tm))  # the OPS block: accounting, sequence
        assert b"paused" in read_until(master, b"paused")
        os.write(master, b"SET_HEATER_SETPOINT 9999\r")
        assert b"out of range" in read_until(master, b"out of range")
        os.write(master, b"upload /nonexistent/seq.yaml\r")
        assert b"cannot read" in read_until(master, b"cannot read")
        os.write(master, b"quit\r")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


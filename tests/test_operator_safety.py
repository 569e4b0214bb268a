"""Operator safety: stopping a run, sharing a board, operator mistakes (issue #14).

The signal and kill -9 stories run real processes: ``thermine emulate`` over TCP and
``thermine run`` against it, as an operator would in two terminals.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ground.cli import main
from ground.dirlock import lock_directory
from ground.gse.board_server import load_board_platform
from ground.gse.emulator import BoardEmulator

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
NOMINAL = ROOT / "configs/missions/nominal.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
BENCH = ROOT / "configs/hardware/bench-emulator.yaml"
THERMINE = [sys.executable, "-m", "ground.cli"]
WAIT_S = 30.0


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a default runs/ never lands in the repo


def bench_yaml(tmp_path: Path, port: int, time_mode: str = "lockstep") -> Path:
    hw = yaml.safe_load(BENCH.read_text(encoding="utf-8"))
    hw["serial"].update(url=f"socket://127.0.0.1:{port}", time_mode=time_mode)
    path = tmp_path / f"bench-{port}-{time_mode}.yaml"
    path.write_text(yaml.safe_dump(hw), encoding="utf-8")
    return path


class EmulatorProcess:
    """``thermine emulate --tcp 0`` in its own process; its stdout lines are collected."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([*THERMINE, "emulate", "--tcp", "0", *args],
                                     cwd=ROOT, stdout=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        first = self.proc.stdout.readline()  # type: ignore[union-attr]
        m = re.search(r"socket://127\.0\.0\.1:(\d+)", first)
        assert m, first
        self.port = int(m.group(1))
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, timeout_s: float) -> str | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def emulator() -> Iterator[EmulatorProcess]:
    emu = EmulatorProcess("--lockstep")
    try:
        yield emu
    finally:
        emu.stop()


def start_flight(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*THERMINE, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_until_heating(run_dir: Path, proc: subprocess.Popen[str]) -> dict:
    """Block until the run's telemetry shows the plate heater commanded on."""
    deadline = time.monotonic() + WAIT_S
    path = run_dir / "telemetry.jsonl"
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                rec = json.loads(line)
                if rec["cmd_heater_power_w"] > 1.0 and rec["cmd_cryocooler_on"]:
                    return rec
        time.sleep(0.05)
    raise AssertionError("the run never started heating")


# ---- story 1: Ctrl-C and SIGTERM end safe, with a summary and a code of their own ------


def test_sigint_on_the_bench_safes_the_board_and_says_so(tmp_path: Path, emulator):
    run_dir = tmp_path / "run"
    proc = start_flight(["run", str(QUICK), "--hardware", str(bench_yaml(tmp_path,
                         emulator.port)), "--out", str(run_dir), "--quiet"])
    wait_until_heating(run_dir, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130, err
    assert re.search(r"interrupted by SIGINT at t=\d+\.\d s in EXTRACT_HEAT; every actuator "
                     r"off and confirmed", err), err
    assert "Traceback" not in err
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["end_reason"] == "interrupted" and summary["stop_signal"] == "SIGINT"
    safing = summary["safing"]
    assert safing["state"] == "safe" and not safing["failed_writes"]
    # the board's own housekeeping, one cycle after the SAFE commands (cryocooler 12 W
    # and the heater were on): nothing draws power
    assert safing["readback"]["bus_power_w"] < 1.0
    assert safing["readback"]["valve_open"] is False
    events = [json.loads(x) for x in (run_dir / "events.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events][-2:] == ["safing", "run_end"]
    # the board had nothing left on for its watchdog to turn off
    assert emulator.wait_for("watchdog", 2.5) is None, emulator.lines


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_sil_run_safe_with_its_exit_code(tmp_path: Path, sig, code):
    run_dir = tmp_path / "run"
    proc = start_flight(["run", str(NOMINAL), "--hardware", str(SIM), "--out", str(run_dir),
                         "--quiet"])
    wait_until_heating(run_dir, proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == code, err
    name = signal.Signals(sig).name
    assert f"interrupted by {name}" in err
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["end_reason"] == "interrupted" and summary["stop_signal"] == name
    assert not summary["mission_complete"]
    assert summary["safing"]["state"] == "safe"


# ---- the board's watchdog: the flight process dies while the board heats -----------------


def test_kill_9_of_the_flight_lets_the_board_watchdog_turn_everything_off(
        tmp_path: Path, emulator):
    run_dir = tmp_path / "run"
    proc = start_flight(["run", str(QUICK), "--hardware", str(bench_yaml(tmp_path,
                         emulator.port)), "--out", str(run_dir), "--quiet"])
    wait_until_heating(run_dir, proc)
    proc.kill()
    proc.wait()
    # no summary: the flight software died; the board acts on its own, 2 s later
    line = emulator.wait_for(r"watchdog: no TC for 2 s, every actuator off", 5.0)
    assert line is not None, emulator.lines
    assert "heater_power_w" in line and "cryocooler_on" in line


# ---- story 3: one run per directory ---------------------------------------------------------


def test_a_second_run_into_a_busy_directory_is_refused_naming_the_holder(
        tmp_path: Path, capsys):
    out = tmp_path / "busy"
    with lock_directory(out, "run"):
        rc = main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"run directory in use by pid {os.getpid()}" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == [".lock"]  # the holder's files untouched


def test_two_runs_at_once_into_one_out_keep_one_and_refuse_the_other(tmp_path: Path):
    out = tmp_path / "x"
    first = start_flight(["run", str(NOMINAL), "--hardware", str(SIM), "--out", str(out),
                          "--quiet"])
    wait_until_heating(out, first)
    second = start_flight(["run", str(NOMINAL), "--hardware", str(SIM), "--out", str(out),
                           "--quiet"])
    _, err = second.communicate(timeout=WAIT_S)
    assert second.returncode == 2 and "run directory in use by pid" in err
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=WAIT_S)
    assert json.loads((out / "summary.json").read_text())["end_reason"] == "interrupted"


# ---- story 5: operator mistakes are exit 2 with one line ------------------------------------


def test_out_naming_a_file_is_exit_2(tmp_path: Path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(f), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a file, not a directory" in err


def test_emulator_port_in_use_is_exit_2_with_the_fix(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        assert main(["emulate", "--tcp", str(port), "--lockstep", "--mission", str(QUICK),
                     "--hardware", str(SIM)]) == 2
    err = capsys.readouterr().err
    assert err == (f"thermine: error: --tcp: port {port} is in use; pick another with "
                   "--tcp PORT (or stop the emulator that holds it)\n")


@pytest.fixture
def realtime_board() -> Iterator[BoardEmulator]:
    """An emulator in this process, real time, 50x, with a fresh plant per session."""
    board = BoardEmulator(load_board_platform(QUICK, SIM, 7), "realtime", 50.0,
                          platform_factory=lambda: load_board_platform(QUICK, SIM, 7))
    board.serve_tcp(0)
    board.start()
    try:
        yield board
    finally:
        board.stop()


def port_of(board: BoardEmulator) -> int:
    return board.endpoint.port  # type: ignore[union-attr]


def test_a_lockstep_yaml_against_a_realtime_board_is_exit_2_before_flying(
        tmp_path: Path, realtime_board, capsys):
    out = tmp_path / "run"
    rc = main(["run", str(QUICK), "--hardware", str(bench_yaml(tmp_path,
               port_of(realtime_board))), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "serial.time_mode: lockstep, but the board runs realtime x50; start the emulator " \
           "with --lockstep" in err
    assert err.count("\n") == 1
    assert not out.exists()  # nothing flew, nothing left behind


# ---- story 6: --speed N: flight and board agree on time -----------------------------------


def test_a_board_at_50x_is_flown_at_50x_without_false_alarms(tmp_path: Path, realtime_board):
    out = tmp_path / "run"
    hw = bench_yaml(tmp_path, port_of(realtime_board), "realtime")
    rc = main(["run", str(QUICK), "--hardware", str(hw), "--out", str(out), "--quiet",
               "--until", "120"])
    assert rc == 4  # stopped at --until, not SAFE
    events = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    assert [e for e in events if e["event"].startswith("fdir")] == []
    samples = [json.loads(x) for x in (out / "telemetry.jsonl").read_text().splitlines()]
    # the plate heated in step with mission time (25 W into 45 J/K: tens of K in 2 min),
    # not 50x faster than the flight's clock
    assert samples[-1]["state"] == "EXTRACT_HEAT"
    assert 60.0 < samples[-1]["heater_temp_k"] < 360.5


# ---- story 4: every session on one emulator starts from the same payload ------------------


def test_two_runs_on_one_emulator_see_the_same_payload(tmp_path: Path, emulator, capsys):
    hw = bench_yaml(tmp_path, emulator.port)
    args = ["--hardware", str(hw), "--quiet", "--until", "60"]
    assert main(["run", str(QUICK), "--out", str(tmp_path / "a"), *args]) == 4
    assert main(["checkout", "--hardware", str(hw)]) == 0  # moves heaters, valve, stack
    assert main(["run", str(QUICK), "--out", str(tmp_path / "b"), *args]) == 4
    a = (tmp_path / "a/telemetry.jsonl").read_bytes()
    b = (tmp_path / "b/telemetry.jsonl").read_bytes()
    assert a == b
    assert len([x for x in emulator.lines if "session reset: a fresh plant" in x]) == 3

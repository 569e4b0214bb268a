"""``thermine fly``: the flight service, driven from the ground over UDP. It waits in
IDLE until SHUTDOWN (exit 0, safed, ``end_reason: shutdown``), rolls its files over
keeping ``--keep`` old ones per stream, refuses SHUTDOWN outside BOOT/CHECKOUT/IDLE/SAFE,
and does not end when a scoop completes.

``ground.cli.main`` runs in the test's (main) thread: it installs signal handlers, which
only the main thread may do. The ground station runs in a thread beside it: it reads the
TM datagrams on the ``--ground`` port and sends TCs to the ``--uplink`` port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_operations import free_port  # (tests/ is on the path: a sibling module)

from flight.tmtc.uplink import encode_tc
from ground.cli import main
from ground.tmtc.packets import Record, decode_stream

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
KEEP = 2
STREAMS = ("telemetry.jsonl", "events.jsonl", "downlink.bin")
WALL_LIMIT_S = 30.0  # a ground step that waits longer has failed


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # (nothing lands in the repository, whatever happens)


def service_mission(tmp_path: Path) -> Path:
    """A quick-based service mission: quick's scoop, no commands of its own (mission
    time is bounded by quick's max_duration_s, 7200 s: 7.2 s of wall time at 1000x)."""
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission["name"] = "quick-service"
    mission.pop("commands")
    path = tmp_path / "service.yaml"
    path.write_text(yaml.safe_dump(mission), encoding="utf-8")
    return path


class Station(threading.Thread):
    """The ground: decodes every TM datagram into :attr:`records` and runs ``script``
    (given the station) once; :attr:`error` keeps what the script raised."""

    def __init__(self, script: Callable[[Station], None]) -> None:
        super().__init__(daemon=True)
        self.tm = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.tm.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.tm.bind(("127.0.0.1", 0))
        self.tm.settimeout(0.05)
        self.tm_port = self.tm.getsockname()[1]
        self.tc_port = free_port()
        self.tc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.script = script
        self.records: list[Record] = []
        self.error: BaseException | None = None
        self.flight_ended = threading.Event()  # set by the test when main() returned
        self.notes: dict[str, Any] = {}
        self._seq = 0

    def run(self) -> None:
        try:
            self.script(self)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            while not self.flight_ended.is_set():  # drain to the end
                self._receive()

    def _receive(self) -> bool:
        """Take one datagram (waiting up to 50 ms); whether there was one."""
        try:
            datagram = self.tm.recv(65535)
        except (TimeoutError, OSError):
            return False
        self.records.extend(decode_stream(datagram, "udp"))
        return True

    def wait_for(self, what: str, pred: Callable[[Record], bool]) -> Record:
        """The first record (already received or to come) for which ``pred`` holds."""
        seen = 0
        deadline = time.monotonic() + WALL_LIMIT_S
        drained = False
        while True:
            for rec in self.records[seen:]:
                if pred(rec):
                    return rec
            seen = len(self.records)
            if drained:
                raise AssertionError(f"the flight ended before {what}")
            if self.flight_ended.is_set():  # what it sent last may still be queued
                while self._receive():
                    pass
                drained = True
                continue
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {WALL_LIMIT_S} s")
            self._receive()

    def send(self, name: str, args: dict[str, Any] | None = None) -> int:
        self._seq += 1
        self.tc.sendto(encode_tc(name, args, seq=self._seq), ("127.0.0.1", self.tc_port))
        return self._seq

    def verdict(self, seq: int, final: bool = True) -> tuple[str, str]:
        """The TC's last verification (waits for completed/failed/rejected)."""
        rec = self.wait_for(f"a verification of TC {seq}", lambda r: r.kind == "VERIFY"
                            and r.data["tc_seq"] == seq and r.data["stage"] != "accepted")
        return rec.data["stage"], rec.data["reason"]

    def close(self) -> None:
        self.tm.close()
        self.tc.close()


def fly(tmp_path: Path, station: Station, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "run"
    argv = ["fly", "--mission", str(service_mission(tmp_path)), "--hardware", str(SIM),
            "--out", str(out), "--ground", f"udp://127.0.0.1:{station.tm_port}",
            "--uplink", f"udp://127.0.0.1:{station.tc_port}", "--speed", "1000",
            "--rotate-mb", "0.001", "--keep", str(KEEP), "--quiet", *extra]
    station.start()
    try:
        code = main(argv)
    finally:
        station.flight_ended.set()
        station.join(timeout=10.0)
        station.close()
    if station.error is not None:
        raise station.error
    return code, json.loads((out / "summary.json").read_text(encoding="utf-8"))


def hk(pred: Callable[[dict[str, Any]], bool]) -> Callable[[Record], bool]:
    return lambda r: r.kind == "HK" and pred(r.data)


def stream_files(out: Path, name: str) -> list[Path]:
    """The stream's files, oldest first."""
    olds = sorted(out.glob(f"{name}.*"), key=lambda p: -int(p.suffix[1:]))
    return [*olds, out / name]


def idle_then_shutdown(g: Station) -> None:
    # idle for 300 s of mission time: several telemetry batches, many packets
    g.wait_for("IDLE at t >= 300 s", hk(lambda d: d["state"] == "IDLE" and d["t_s"] >= 300))
    g.notes["shutdown"] = g.send("SHUTDOWN")
    g.notes["verdict"] = g.verdict(g.notes["shutdown"])


def test_fly_exits_0_after_shutdown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    station = Station(idle_then_shutdown)
    code, summary = fly(tmp_path, station)
    captured = capsys.readouterr()
    assert summary["end_reason"] == "shutdown"  # (holds: the run itself ended well)
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    assert "ended by           SHUTDOWN command" in captured.out
    assert code == 0


def test_the_service_waits_in_idle_until_shutdown_and_rolls_its_files_over(
        tmp_path: Path) -> None:
    station = Station(idle_then_shutdown)
    _, summary = fly(tmp_path, station)  # (its exit code: test_fly_exits_0_after_shutdown)
    out = tmp_path / "run"
    assert station.notes["verdict"] == ("completed", "ok")
    assert summary["end_reason"] == "shutdown" and summary["final_state"] == "IDLE"
    assert summary["safing"]["confirmed"] is True and summary["safing"]["commanded"] is True
    assert 300.0 <= summary["mission_time_s"] < 7200.0  # not the mission's time limit
    assert summary["downlink"]["tc_received"] == 1 and summary["downlink"]["tc_rejected"] == 0
    # the files rolled over: at most KEEP old files per stream, path.1 the newest
    for name in STREAMS:
        assert (out / name).exists()
        assert (out / f"{name}.1").exists(), name
        assert not (out / f"{name}.{KEEP + 1}").exists(), name
        assert {p.name for p in out.glob(f"{name}.*")} <= {f"{name}.{i}"
                                                             for i in range(1, KEEP + 1)}
    assert (out / "downlink.bin.2").exists()  # it rolled over more than KEEP times
    # every file of the JSON streams holds whole lines, in time order across the files
    for name in ("telemetry.jsonl", "events.jsonl"):
        rows = [json.loads(line) for p in stream_files(out, name)
                for line in p.read_text(encoding="utf-8").splitlines()]
        times = [r["t_s"] for r in rows]
        assert rows and times == sorted(times)
    events = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    (end,) = [e for e in events if e["event"] == "run_end"]
    assert end["reason"] == "shutdown" and end["stop"] == "SHUTDOWN command"
    # the downlink files split on packet boundaries: each decodes on its own
    for p in stream_files(out, "downlink.bin"):
        assert list(decode_stream(p.read_bytes(), p.name))


def test_a_scoop_does_not_end_the_service_and_shutdown_is_refused_in_extract(
        tmp_path: Path) -> None:
    def script(g: Station) -> None:
        g.wait_for("IDLE", hk(lambda d: d["state"] == "IDLE"))
        g.send("ARM", {"command": "START_EXTRACTION"})
        g.send("START_EXTRACTION")
        g.wait_for("EXTRACT_HEAT", hk(lambda d: d["state"] == "EXTRACT_HEAT"))
        g.notes["in_extract"] = g.verdict(g.send("SHUTDOWN"))
        electrolyze = g.wait_for("ELECTROLYZE", hk(lambda d: d["state"] == "ELECTROLYZE"))
        done = g.wait_for("IDLE after the scoop", hk(
            lambda d: d["state"] == "IDLE" and d["t_s"] > electrolyze.t_s))
        g.notes["done_s"] = done.t_s
        # a minute of mission time on: still flying, still in IDLE
        later = g.wait_for("HK a minute after the scoop", hk(
            lambda d: d["t_s"] >= done.t_s + 60.0))
        g.notes["later"] = (later.data["state"], g.flight_ended.is_set())
        g.notes["shutdown"] = g.verdict(g.send("SHUTDOWN"))

    station = Station(script)
    _, summary = fly(tmp_path, station)  # (its exit code: test_fly_exits_0_after_shutdown)
    out = tmp_path / "run"
    assert station.notes["in_extract"] == ("rejected", "refused")
    assert station.notes["later"] == ("IDLE", False)
    assert station.notes["shutdown"] == ("completed", "ok")
    assert summary["end_reason"] == "shutdown" and summary["mission_complete"] is True
    assert summary["mission_time_s"] >= station.notes["done_s"] + 60.0
    assert summary["safing"]["confirmed"] is True
    (line,) = summary["scoops"]
    assert line["completed_s"] == pytest.approx(station.notes["done_s"], abs=1.0)
    events = [json.loads(line) for p in stream_files(out, "events.jsonl")
              for line in p.read_text(encoding="utf-8").splitlines()]
    refused = [e for e in events if e["event"] == "telecommand" and e["name"] == "SHUTDOWN"
               and e["verdict"] == "rejected"]
    assert len(refused) == 1 and "EXTRACT_HEAT" in refused[0]["detail"]
    assert "accepted only in BOOT, CHECKOUT, IDLE, SAFE" in refused[0]["detail"]


def test_rotate_mb_and_keep_are_checked(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    base = ["fly", "--mission", str(service_mission(tmp_path)), "--hardware", str(SIM),
            "--out", str(tmp_path / "run"), "--quiet"]
    assert main([*base, "--rotate-mb", "0"]) == 2
    assert "--rotate-mb" in capsys.readouterr().err
    assert main([*base, "--keep", "0"]) == 2
    assert "keep must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert main([*base, "--rotate-hours", "-1"]) == 2
    assert "--rotate-hours" in capsys.readouterr().err


def test_a_directory_with_another_session_s_rolled_over_files_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An aborted session's telemetry.jsonl.1 would mix with the new session's files:
    refused before anything is built, naming them."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "telemetry.jsonl.1").write_text("{}\n", encoding="utf-8")
    assert main(["fly", "--mission", str(service_mission(tmp_path)), "--hardware", str(SIM),
                 "--out", str(out), "--quiet"]) == 2
    assert "telemetry.jsonl.1" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["telemetry.jsonl.1"]

"""The ``thermine`` command line: exit codes, messages, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flight.sequencer import leaf_states, load_chart
from ground.cli import main

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from tmp_path so a default run directory (runs/...) never lands in the repo."""
    monkeypatch.chdir(tmp_path)


def run_args(mission: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(mission), "--hardware", str(SIM), "--out", str(out), "--quiet", *extra]


def quick_variant(tmp_path: Path, name: str, **changes: object) -> Path:
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(mission), encoding="utf-8")
    return path


def assert_clean_bad_input(err: str) -> None:
    assert "thermine: error:" in err
    assert "Traceback" not in err
    assert "internal error" not in err


def test_quick_mission_completes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(run_args(QUICK, out)) == 0
    stdout = capsys.readouterr().out
    assert "mission complete" in stdout
    assert str(out) in stdout
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["final_state"] == "IDLE" and summary["mission_complete"] is True
    for name in ("telemetry.jsonl", "events.jsonl"):
        assert (out / name).stat().st_size > 0
    # a finished run is never overwritten
    before = (out / "summary.json").read_bytes()
    assert main(run_args(QUICK, out)) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert str(out) in err and "finished run" in err
    assert (out / "summary.json").read_bytes() == before


def test_bad_mission_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = QUICK.read_text(encoding="utf-8").replace("  setpoint_k: 360.0", "  setpoint: 360.0")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    assert main(run_args(bad, out)) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert str(bad) in err and "heater.setpoint" in err and "setpoint_k" in err
    assert not out.exists()
    # nor with the default run directory
    assert main(["run", str(bad), "--hardware", str(SIM), "--quiet"]) == 2
    assert_clean_bad_input(capsys.readouterr().err)
    assert not (tmp_path / "runs").exists()


def test_missing_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(run_args(tmp_path / "nope.yaml", out)) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert "nope.yaml" in err
    args = ["run", str(QUICK), "--hardware", str(tmp_path / "nohw.yaml"), "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert "nohw.yaml" in err
    assert not out.exists()


def test_serial_backend_without_a_board_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nobody listening on the emulator's port: exit 2 naming the port, no run directory."""
    import socket

    with socket.socket() as s:  # a port that is free now: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hw = tmp_path / "serial.yaml"
    hw.write_text((ROOT / "configs/hardware/bench-emulator.yaml").read_text(encoding="utf-8")
                  .replace("5555", str(port)), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["run", str(QUICK), "--hardware", str(hw), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"127.0.0.1:{port}" in err and "refused" in err
    assert not out.exists()


def test_bad_command_argument_in_mission_is_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = quick_variant(tmp_path, "badarg", commands=[
        {"at_s": 5.0, "name": "SET_HEATER_SETPOINT", "args": {"setpoint_k": 9999.0}}])
    out = tmp_path / "run"
    code = main(run_args(path, out))
    err = capsys.readouterr().err
    assert not out.exists()
    assert_clean_bad_input(err)
    assert code == 2


@pytest.mark.parametrize("until", ["0", "-5"])
def test_until_must_be_positive(tmp_path: Path, until: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(run_args(QUICK, out, "--until", until)) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert "--until" in err
    assert not out.exists()


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly"]) == 2
    assert main(["run", "--until", "soon"]) == 2
    assert main([]) == 2
    capsys.readouterr()


def test_until_stops_early_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(run_args(QUICK, out, "--until", "60")) == 4
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["final_state"] == "EXTRACT_HEAT"
    assert summary["mission_complete"] is False
    assert summary["mission_time_s"] == pytest.approx(60.0)
    capsys.readouterr()
    # plot the run
    assert main(["plot", str(out)]) == 0
    png = out / "timeline.png"
    assert str(png) in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a directory without telemetry
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["plot", str(empty)]) == 2
    err = capsys.readouterr().err
    assert_clean_bad_input(err)
    assert "telemetry.jsonl" in err
    assert not (empty / "timeline.png").exists()


def test_time_tagged_safe_command_ends_in_safe(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = quick_variant(tmp_path, "safe", commands=[
        {"at_s": 4.0, "name": "ARM", "args": {"command": "START_EXTRACTION"}},
        {"at_s": 5.0, "name": "START_EXTRACTION"}, {"at_s": 30.0, "name": "SAFE"}])
    out = tmp_path / "run"
    assert main(run_args(path, out)) == 1
    assert "SAFE because" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["final_state"] == "SAFE"
    assert summary["safe_reason"] == "SAFE command (mission)"
    assert summary["phases"][-1]["entered_s"] == pytest.approx(30.0)
    assert summary["end_reason"] == "safe"


def test_states_prints_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["states"]) == 0
    text = capsys.readouterr().out
    assert "stateDiagram" in text
    chart = load_chart()
    names = set(leaf_states(chart)) | {s["name"] for s in chart["states"]}
    for name in names:
        assert name in text, name
    for t in chart["transitions"]:
        assert t["trigger"] in text, t["trigger"]


def test_bench_reports_the_best_and_median_of_its_flights(
        capsys: pytest.CaptureFixture[str], mocker) -> None:
    """``thermine bench`` flies the mission --flights times and its real-time factor is
    the mission time over the best flight's wall time, the median beside it (the serial
    and campaign parts are measured elsewhere: skipped here)."""
    import re

    mocker.patch("ground.perf.serial.bench_serial")
    assert main(["bench", "--mission", str(QUICK), "--hardware", str(SIM), "--steps", "50",
                 "--flights", "2", "--campaign-runs", "0", "--uplink-rate", "0",
                 "--scoop-flights", "0", "--no-downlink-cost"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"([\d.]+) h mission time in ([\d.]+) s wall -> real-time factor (\d+)x.*"
                  r"best of 2 flights; median ([\d.]+) s = (\d+)x, slowest ([\d.]+) s", out)
    assert m, out
    hours, best_s, factor, median_s, median_factor, slowest_s = (float(g) for g in m.groups())
    assert slowest_s >= median_s >= best_s > 0.0
    assert median_s == pytest.approx((best_s + slowest_s) / 2, abs=0.01)  # (of two)
    assert factor == pytest.approx(hours * 3600.0 / best_s, rel=0.02)
    assert median_factor == pytest.approx(hours * 3600.0 / median_s, rel=0.02)
    assert main(["bench", "--flights", "0", "--campaign-runs", "0"]) == 2
    assert_clean_bad_input(capsys.readouterr().err)

"""Link faults on the real serial stack against the board emulator (lockstep, pty):
a pulled cable is caught by the link-health monitor and safed; a noisy line is absorbed
by CRC and retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ground.gse.board_server import load_board_platform
from ground.gse.emulator import BoardEmulator
from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
BENCH = ROOT / "configs/hardware/bench-emulator.yaml"


def fly(tmp_path: Path, fault: dict[str, Any], until_s: float) -> dict[str, Any]:
    emulator = BoardEmulator(load_board_platform(QUICK, SIM, seed=7), "lockstep")
    pty = emulator.serve_pty()
    emulator.start()
    try:
        hw = yaml.safe_load(BENCH.read_text(encoding="utf-8"))
        hw["serial"].update(url=pty)
        hw_path = tmp_path / "bench-pty.yaml"
        hw_path.write_text(yaml.safe_dump(hw), encoding="utf-8")
        plan = tmp_path / "plan.yaml"
        plan.write_text(yaml.safe_dump({"faults": [fault]}), encoding="utf-8")
        return Run(load_inputs(QUICK, hw_path, faults_path=plan), tmp_path / "run").fly(
            until_s=until_s)
    finally:
        emulator.stop()


def test_disconnect_is_detected_by_link_health_and_safed(tmp_path: Path) -> None:
    s = fly(tmp_path, {"id": "cable", "layer": "link", "kind": "disconnect",
                       "trigger": {"at_s": 30.0}, "duration_s": 1.0}, until_s=32.0)
    (f,) = s["faults"]
    assert f["injected_at_s"] == 30.0
    assert f["monitor"] == "link_timeouts" and f["outcome"] == "safed"
    assert 0.0 < f["detected_at_s"] - f["injected_at_s"] <= 10.1  # docs/fdir.md bound
    assert "link_timeouts" in s["safe_reason"]


def test_corrupt_bytes_are_absorbed_by_crc_and_retries(tmp_path: Path) -> None:
    s = fly(tmp_path, {"id": "noise", "layer": "link", "kind": "corrupt",
                       "params": {"rate": 5e-4}, "trigger": {"at_s": 5.0}}, until_s=25.0)
    assert s["final_state"] != "SAFE" and s["faults"][0]["detected_at_s"] is None
    last = (tmp_path / "run" / "telemetry.jsonl").read_text().splitlines()[-1]
    tm = yaml.safe_load(last)
    assert tm["link_crc_errors"] > 0 and tm["link_retries"] > 0
    assert tm["link_timeouts"] == 0


def test_delay_beyond_the_reply_timeout_is_safed(tmp_path: Path) -> None:
    """Replies held 0.5 s on a link that waits 0.05 s per try: every request times out
    (late replies are ignored as stale), link_timeouts trips, SAFE."""
    s = fly(tmp_path, {"id": "slow", "layer": "link", "kind": "delay",
                       "params": {"delay_s": 0.5}, "trigger": {"at_s": 30.0},
                       "duration_s": 1.0}, until_s=32.0)
    (f,) = s["faults"]
    assert f["monitor"] == "link_timeouts" and f["outcome"] == "safed"
    assert 0.0 < f["detected_at_s"] - f["injected_at_s"] <= 10.1


def test_dropped_frames_are_absorbed_by_retries(tmp_path: Path) -> None:
    """One frame in ten lost each way: retries recover every request (seeded)."""
    s = fly(tmp_path, {"id": "lossy", "layer": "link", "kind": "drop",
                       "params": {"probability": 0.1}, "trigger": {"at_s": 5.0}}, until_s=25.0)
    assert s["final_state"] != "SAFE" and s["faults"][0]["detected_at_s"] is None
    tm = yaml.safe_load((tmp_path / "run" / "telemetry.jsonl").read_text().splitlines()[-1])
    assert tm["link_retries"] > 0 and tm["link_timeouts"] == 0

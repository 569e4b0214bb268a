"""The quick mission over a real pty against the board emulator, in lockstep, with the
real serial drivers: the flight code is the SIL code, only the hardware YAML differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ground.gse.board_server import load_board_platform
from ground.gse.emulator import BoardEmulator
from ground.harness.run import Run, load_inputs
from hal.serial import icd
from hal.serial.framing import FrameDecoder

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
BENCH = ROOT / "configs/hardware/bench-emulator.yaml"


@pytest.fixture(scope="module")
def flown(tmp_path_factory: pytest.TempPathFactory, untraced_module: None):
    """Fly the quick mission over a pty; return (summary, run dir, board platform). (Not
    traced by coverage: the SIL tests cover the same flight code, at a third of the
    cost.)"""
    tmp = tmp_path_factory.mktemp("serial")
    board_platform = load_board_platform(QUICK, SIM, seed=7)
    emulator = BoardEmulator(board_platform, "lockstep")
    pty = emulator.serve_pty()
    emulator.start()
    try:
        hw = yaml.safe_load(BENCH.read_text(encoding="utf-8"))
        # the emulator shares this process (and its GIL) with the flight loop: allow it
        # more than the 50 ms a real board gets before a retry
        hw["serial"].update(url=pty, capture=True, timeout_s=0.5)
        hw_path = tmp / "bench-pty.yaml"
        hw_path.write_text(yaml.safe_dump(hw), encoding="utf-8")
        run_dir = tmp / "run"
        summary = Run(load_inputs(QUICK, hw_path), run_dir).fly()
    finally:
        emulator.stop()
    return summary, run_dir, board_platform


def test_quick_mission_completes_over_the_wire(flown) -> None:
    summary, run_dir, board = flown
    assert summary["final_state"] == "IDLE" and summary["mission_complete"]
    states = [p["state"] for p in summary["phases"]]
    assert states[3:] == ["EXTRACT_HEAT", "EXTRACT_CAPTURE", "EXTRACT_SECURE", "TRANSFER",
                          "ELECTROLYZE", "IDLE"]
    # the flight side cannot see the plant: no truth in the summary ...
    assert summary["truth"] is None and summary["ice_initial_kg"] is None
    truth = board.truth()
    # ... but its own accounting, from its own sensors over the wire, says what it made:
    # within 1 % of what the board's plant did (the emulator's truth, read here)
    caught_truth = truth["trap_ice_kg"] + truth["reservoir_kg"] + truth["electrolyzed_kg"]
    assert summary["water_captured_kg"] == pytest.approx(caught_truth, rel=1e-2)
    assert summary["water_electrolyzed_kg"] == pytest.approx(truth["electrolyzed_kg"], rel=1e-2)
    assert summary["h2_produced_kg"] == pytest.approx(truth["h2_kg"], rel=1e-2)
    assert summary["h2_tank_kg"] == pytest.approx(truth["h2_kg"], rel=1e-2)
    (line,) = summary["scoops"]
    assert line["completed_s"] is not None and line["payload_j_per_kg"] > 0.0
    # ... and the board's plant did the work, stoichiometrically, with water conserved
    caught = truth["electrolyzed_kg"] + truth["reservoir_kg"]  # ELECTROLYZE leaves 0.2 g
    assert caught > 0.99 * truth["ice_initial_kg"] and truth["electrolyzed_kg"] > 0.0
    assert truth["o2_kg"] / truth["h2_kg"] == pytest.approx(31.9988 / 2 / 2.01588, rel=1e-9)
    assert abs(truth["mass_balance_error_kg"]) < 1e-9 * truth["ice_initial_kg"]
    # lockstep: the board's clock is the flight's mission time, plus the one cycle of
    # read-back after the end-of-run safing
    assert truth["time_s"] == pytest.approx(summary["mission_time_s"] + 0.1, abs=1e-6)
    assert summary["safing"]["state"] == "safe"


def test_link_statistics_reach_telemetry_and_the_link_was_clean(flown) -> None:
    _, run_dir, _ = flown
    lines = (run_dir / "telemetry.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    assert last["link_frames_sent"] > 2 * 28000  # TIME_SYNC + housekeeping per cycle
    assert last["link_frames_received"] >= last["link_frames_sent"] - last["link_retries"]
    for counter in ("link_crc_errors", "link_timeouts", "link_nacks"):
        assert last[counter] == 0, counter
    assert last["link_retries"] <= 1e-3 * last["link_frames_sent"]


def test_captured_bytes_decode_frame_by_frame(flown) -> None:
    """serial_tx.bin holds only TCs, serial_rx.bin only TMs, every frame with a valid CRC
    and space-packet header, each TM answering its TC (same APID and count)."""
    _, run_dir, _ = flown
    tx = FrameDecoder().feed((run_dir / "serial_tx.bin").read_bytes())
    rx_decoder = FrameDecoder()
    rx = rx_decoder.feed((run_dir / "serial_rx.bin").read_bytes())
    assert len(tx) == len(rx) > 50000
    assert all(p.is_tc for p in tx) and not any(p.is_tc for p in rx)
    assert rx_decoder.stats.crc_errors == rx_decoder.stats.cobs_errors == 0
    assert [(p.apid, p.seq, p.service) for p in tx] == [(p.apid, p.seq, p.service) for p in rx]
    assert all(p.status == icd.Status.OK for p in rx)
    services = {p.service for p in tx}
    assert {icd.Service.PING, icd.Service.HOUSEKEEPING, icd.Service.TIME_SYNC,
            icd.Service.SET_POWER, icd.Service.SET_OPEN, icd.Service.SET_ON,
            icd.Service.SET_CURRENT} <= services

"""``thermine bench`` serial part: command/response round trips over a pty, software only.

The board emulator serves a pseudo-terminal (no baud-rate delay: a pty moves bytes as
fast as the kernel does), and the real flight drivers ping it and poll housekeeping.
The software time per round trip is compared with the time the same frames would take
on a 115200-baud 8N1 wire (10 bit times per byte).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from flight.channels import REQUIRED_DEVICES
from ground.gse.board_server import load_board_platform
from ground.gse.emulator import BoardEmulator
from hal.registry import build_platform, load_hardware
from hal.serial import icd
from hal.serial.framing import encode_frame, tc, tm

BAUD = 115200
BITS_PER_BYTE = 10  # 8N1: start + 8 data + stop


def _wire_s(*frames: bytes) -> float:
    return sum(len(f) for f in frames) * BITS_PER_BYTE / BAUD


def bench_serial(mission: Path, sim_hardware: Path, bench_hardware: Path,
                 round_trips: int = 3000) -> dict[str, float]:
    """Measure PING and HOUSEKEEPING round trips; print and return the figures."""
    emulator = BoardEmulator(load_board_platform(mission, sim_hardware, seed=1), "lockstep")
    pty = emulator.serve_pty()
    emulator.start()
    figures: dict[str, Any] = {}
    tmp = tempfile.TemporaryDirectory()
    try:
        hw = yaml.safe_load(bench_hardware.read_text(encoding="utf-8"))
        hw["serial"].update(url=pty, capture=False)
        hw_path = Path(tmp.name) / "bench-pty.yaml"
        hw_path.write_text(yaml.safe_dump(hw), encoding="utf-8")
        platform = build_platform(hw_path, load_hardware(hw_path, REQUIRED_DEVICES), {}, 0)
        board = platform.board  # type: ignore[attr-defined]
        try:
            for name, call, frames in (
                ("ping", lambda: board.ping(icd.Apid.SYSTEM),
                 (encode_frame(tc(icd.Apid.SYSTEM, 1, icd.Service.PING).pack()),
                  encode_frame(tm(icd.Apid.SYSTEM, 1, icd.Service.PING, 0).pack()))),
                ("housekeeping", board.poll_housekeeping,
                 (encode_frame(tc(icd.Apid.SYSTEM, 1, icd.Service.HOUSEKEEPING).pack()),
                  encode_frame(tm(icd.Apid.SYSTEM, 1, icd.Service.HOUSEKEEPING, 0,
                                  bytes(icd.HK_LAYOUT.size)).pack()))),
            ):
                t0 = time.perf_counter()
                for _ in range(round_trips):
                    call()
                per_rt_s = (time.perf_counter() - t0) / round_trips
                wire_s = _wire_s(*frames)
                figures[name] = {"round_trips_per_s": 1.0 / per_rt_s,
                                 "software_us": per_rt_s * 1e6, "wire_us": wire_s * 1e6,
                                 "overhead": per_rt_s / wire_s}
            stats = platform.diagnostics()
        finally:
            platform.close()
    finally:
        emulator.stop()
        tmp.cleanup()
    print(f"  serial over a pty      ({round_trips} round trips each, flight drivers + "
          "board emulator, no baud delay)")
    for name in ("ping", "housekeeping"):
        f = figures[name]
        print(f"    {name:<12} {f['round_trips_per_s']:7.0f} round trips/s   "
              f"{f['software_us']:6.0f} us software vs {f['wire_us']:5.0f} us on the wire at "
              f"{BAUD} baud -> overhead {100 * f['overhead']:.0f} % of wire time")
    print(f"    link errors: crc {stats['link_crc_errors']:.0f}, timeouts "
          f"{stats['link_timeouts']:.0f}, retries {stats['link_retries']:.0f}")
    return figures

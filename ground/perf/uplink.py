"""``thermine bench``: a flood of telecommands into a paced SIL run.

The quick mission (its own commands removed) flies at ``--speed 1`` with ``--uplink``
in a child process, as an operator would run it; this process sends ``rate`` TCs per
second for ``seconds``, one in three valid (RECOVER, SET_HEATER_SETPOINT), the others
malformed (bad CRC, unknown opcode, out-of-range argument, short). Then it reads the
run's summary (TCs received, rejected, dropped; paced cycles that overran) and counts
the verification packets in its downlink.bin: every TC must be answered.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from common.clock import WallClock
from flight.tmtc.layout import APID_VERIFY, STAGES, VERIFY_DATA
from flight.tmtc.uplink import crc16, encode_tc

ROOT = Path(__file__).resolve().parents[2]


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mixed(seq: int) -> bytes:
    """TC number ``seq``: one in three valid, the others wrong in a rotating way."""
    kind = seq % 6
    if kind == 0:
        return encode_tc("RECOVER", seq=seq)
    if kind == 3:
        return encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 350.0}, seq=seq)
    good = bytearray(encode_tc("SET_HEATER_SETPOINT", {"setpoint_k": 350.0}, seq=seq))
    if kind == 1:
        good[-1] ^= 0xFF  # CRC
    elif kind == 2:
        good[6:8] = b"\x7f\x7f"  # unknown opcode
        good[-2:] = struct.pack(">H", crc16(bytes(good[:-2])))
    elif kind == 4:
        good[8:12] = struct.pack(">f", 9999.0)  # out of range
        good[-2:] = struct.pack(">H", crc16(bytes(good[:-2])))
    else:
        return bytes(good[:5])  # short
    return bytes(good)


def verifications(downlink_bin: Path) -> dict[str, int]:
    """Verification packets in a downlink.bin, by stage."""
    names = {v: k for k, v in STAGES.items()}
    data, i, out = downlink_bin.read_bytes(), 0, dict.fromkeys(STAGES, 0)
    while i + 6 <= len(data):
        apid = int.from_bytes(data[i:i + 2], "big") & 0x7FF
        n = 7 + int.from_bytes(data[i + 4:i + 6], "big")
        if apid == APID_VERIFY:
            out[names[VERIFY_DATA.unpack(data[i + 12:i + n])[3]]] += 1
        i += n
    return out


def bench_uplink(rate_hz: float = 1000.0, seconds: float = 10.0) -> dict[str, Any]:
    """Flood a paced run with TCs; print and return what it did with them."""
    port = _free_udp_port()
    with tempfile.TemporaryDirectory() as tmp:
        mission = yaml.safe_load((ROOT / "configs/missions/quick.yaml").read_text())
        mission["commands"] = []
        mission_path = Path(tmp) / "flood.yaml"
        mission_path.write_text(yaml.safe_dump(mission), encoding="utf-8")
        out = Path(tmp) / "run"
        proc = subprocess.Popen(
            [sys.executable, "-m", "ground.cli", "run", str(mission_path), "--out", str(out),
             "--uplink", f"udp://127.0.0.1:{port}", "--speed", "1", "--quiet",
             "--until", str(seconds + 30.0)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = WallClock()
        wall.sleep_until(2.0)  # the run is up and cycling
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent, start = 0, wall.now_s()
        while sent < rate_hz * seconds:
            wall.sleep_until(start + sent / rate_hz)
            sock.sendto(_mixed(sent), ("127.0.0.1", port))
            sent += 1
        sock.close()
        wall.sleep_until(wall.now_s() + 1.0)  # the last ones answered
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        summary = json.loads((out / "summary.json").read_text())
        stages = verifications(out / "downlink.bin")
    link, pacing = summary["downlink"], summary.get("pacing", {})
    answered = stages["accepted"] + stages["rejected"]
    figures = {"sent": sent, "received": link["tc_received"], "rejected": link["tc_rejected"],
               "dropped": link["tc_dropped"], "answered": answered, **stages,
               "overruns": pacing.get("overruns"), "max_late_ms": 1e3 * pacing.get(
                   "max_late_s", float("nan")), "exit": proc.returncode}
    print(f"  uplink flood          {sent} TCs at {rate_hz:g}/s into a run at --speed 1: "
          f"{figures['received']} received, {answered} answered ({stages['accepted']} "
          f"accepted, {stages['rejected']} rejected, of which {figures['dropped']} dropped); "
          f"{stages['completed']} completed, {stages['failed']} failed; paced cycles "
          f"overrun {figures['overruns']}, latest {figures['max_late_ms']:.1f} ms"
          + ("" if proc.returncode == 130 else f"; run exit {proc.returncode}: {err[-300:]!r}"))
    return figures

"""Shared fixtures of the ground TM/TC tests: one short SIL run (its downlink.bin,
telemetry.jsonl and events.jsonl), a small packet stream packed by the flight Downlink
(every packet kind), and free UDP ports."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.tmtc.downlink import Downlink

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs/missions/quick.yaml"


@dataclass
class QuickRun:
    out: Path
    downlink: bytes
    telemetry: list[dict[str, Any]]
    events: list[dict[str, Any]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """configs/missions/quick.yaml flown to t=600 s (ARM, START_EXTRACTION, HEAT, CAPTURE)."""
    out = tmp_path_factory.mktemp("tmtc") / "run"
    proc = subprocess.run([sys.executable, "-m", "ground.cli", "run", str(QUICK), "--until",
                           "600", "--quiet", "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stderr  # stopped at --until
    return QuickRun(out, (out / "downlink.bin").read_bytes(),
                    read_jsonl(out / "telemetry.jsonl"), read_jsonl(out / "events.jsonl"))


def readings(**over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {c.name: 100.0 for c in DICTIONARY.channels.sensors}
    r["valve_open"] = False
    r.update(over)
    return r


def commands(**over: Any) -> dict[str, Any]:
    c: dict[str, Any] = dict(DICTIONARY.safe_commands)
    c.update(over)
    return c


def diagnostics() -> dict[str, Any]:
    d: dict[str, Any] = {c.name: i for i, c in enumerate(DICTIONARY.channels.diagnostics)}
    d["board_time_s"] = 12.5
    d["link_hk_stale"] = 1
    return d


def packed(with_link: bool = True) -> list[bytes]:
    """Every kind of TM packet, packed by the flight side's Downlink, in order."""
    out: list[bytes] = []
    dl = Downlink([out.append])
    dl.event(0.0, "run_start", {"mission": "t", "seed": 1})
    dl.housekeeping(0.5, "IDLE", readings(sample_temp_k=None), commands(),
                    diagnostics() if with_link else None)
    dl.verify(1.0, 0x180, 7, 4, "accepted", 0)
    dl.verify(1.0, 0x180, 7, 4, "completed", 0)
    dl.event(1.0, "state_change", {"source": "IDLE", "dest": "SAFE", "reason": "x",
                                   "trigger": "safe"})
    dl.housekeeping(1.5, "SAFE", readings(heater_temp_k=500.0, valve_open=True),
                    commands(heater_enabled=True, heater_power_w=3.25),
                    diagnostics() if with_link else None)
    return out


def free_port() -> int:
    """A UDP port free now (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stream() -> list[bytes]:
    """The packets of :func:`packed` (HK, LINK, EVENT, VERIFY)."""
    return packed()


@pytest.fixture
def port() -> Any:
    """A function giving a free UDP port."""
    return free_port

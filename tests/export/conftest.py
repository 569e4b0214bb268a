"""Shared fixtures of the export tests: one short SIL mission (its downlink.bin, or, when
the run does not write one, HK packets packed from its telemetry.jsonl by the flight
Downlink), OPS packets packed in memory (every figure, and missing ones), and the three
exports written once."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import HK, OPS, SEQ_STATUSES

ROOT = Path(__file__).resolve().parents[2]
UNTIL_S = 300


@dataclass
class Mission:
    """What a short SIL run produced: telemetry rows, events, and its TM packets."""

    telemetry: list[dict[str, Any]]
    events: list[dict[str, Any]]
    packets: list[bytes]
    #: "downlink.bin" (the run wrote it) or "rebuilt" (packed here from telemetry.jsonl)
    source: str

    def of_apid(self, apid: int) -> list[bytes]:
        return [p for p in self.packets if int.from_bytes(p[:2], "big") & 0x7FF == apid]


def split_packets(data: bytes) -> list[bytes]:
    """CCSDS space packets, one after the other, by their length fields."""
    out, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i + 4:i + 6], "big") + 7
        out.append(data[i:i + n])
        i += n
    assert i == len(data), "downlink.bin ends inside a packet"
    return out


def rebuild(telemetry: list[dict[str, Any]]) -> list[bytes]:
    """HK packets packed by the flight Downlink from telemetry.jsonl rows."""
    packets: list[bytes] = []
    link = Downlink([packets.append])
    sensors = [f.name for f in HK.fields[1:] if not f.name.startswith("cmd_")]
    derived = [f.name for f in OPS.fields]
    for row in telemetry:
        commands = {k[4:]: v for k, v in row.items() if k.startswith("cmd_")}
        figures = {n: row[n] for n in derived if n in row}
        link.housekeeping(row["t_s"], row["state"], {n: row.get(n) for n in sensors}, commands,
                          None, figures or None)
    return packets


def ops_samples() -> list[tuple[float, dict[str, Any]]]:
    """OPS figures at three times: every figure (each sequence status), then some missing."""
    full: dict[str, Any] = {}
    for i, f in enumerate(OPS.fields):
        full[f.name] = {"u8": 200 + i, "u16": 60000 + i, "u32": 70000 + i}.get(
            f.type, 1.5 * 10.0 ** (i % 7 - 3) * (i + 1))
    out = [(10.0 + s, {**full, "seq_id": s + 1, "seq_status": s, "scoop": 65535 - s,
                       "seq_next_s": 1e9 + 0.125 * s}) for s in range(len(SEQ_STATUSES))]
    out.append((20.5, {"scoop": 2, "seq_id": 255, "water_captured_kg": 0.001234567890123}))
    return out


def ops_packets() -> list[bytes]:
    """:func:`ops_samples` packed by the flight Downlink: HK then OPS at each time."""
    packets: list[bytes] = []
    link = Downlink([packets.append])
    for t_s, figures in ops_samples():
        link.housekeeping(t_s, "IDLE", {}, {}, None, figures)
    return [p for p in packets if int.from_bytes(p[:2], "big") & 0x7FF == OPS.apid]


@pytest.fixture
def ops_stream() -> list[tuple[bytes, dict[str, Any]]]:
    """OPS packets packed in memory, each with the figures it was packed from."""
    return list(zip(ops_packets(), (f for _, f in ops_samples()), strict=True))


def check_ops(consumer: str, t_s: float, decoded: dict[str, tuple[Any, Any]],
              want: dict[str, Any], want_t_s: float) -> None:
    """Assert one decoded OPS packet equals the figures flight packed: ``decoded`` maps
    each field to (engineering value, raw value); an integer's raw value exact (a missing
    one: 0xFF for a u8, 0 for a u16/u32), seq_status's label from SEQ_STATUSES, an f64
    exact, an f32 within its resolution (a missing float: NaN)."""
    assert abs(t_s - want_t_s) <= CUC_S + 1e-12, (consumer, t_s, want_t_s)
    for f in OPS.fields:
        eng, raw = decoded[f.name]
        value = want.get(f.name)
        where = f"{consumer}: t={want_t_s} {f.name}"
        if f.type in ("u8", "u16", "u32"):
            none = 0xFF if f.type == "u8" else 0
            assert raw == (none if value is None else int(value)), (where, raw, value)
            if f.name == "seq_status" and raw < len(SEQ_STATUSES):
                assert str(eng).lower() == SEQ_STATUSES[raw], (where, eng)
        elif value is None:
            assert math.isnan(eng), where
        elif f.type == "f64":
            assert eng == value, (where, eng, value)
        else:
            assert abs(eng - value) <= abs(value) * F32_REL + 1e-45, (where, eng, value)


@pytest.fixture
def ops_check() -> Any:
    """:func:`check_ops`, for the test modules."""
    return check_ops


@pytest.fixture
def packer() -> Any:
    """:func:`rebuild`, for the test modules."""
    return rebuild


@pytest.fixture(scope="session")
def mission(tmp_path_factory: pytest.TempPathFactory) -> Mission:
    out = tmp_path_factory.mktemp("mission") / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "ground.cli", "run", "configs/missions/quick.yaml",
         "--until", str(UNTIL_S), "--quiet", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stderr  # stopped at --until, not SAFE
    telemetry = [json.loads(line) for line in (out / "telemetry.jsonl").open()]
    events = [json.loads(line) for line in (out / "events.jsonl").open()]
    downlink = out / "downlink.bin"
    if downlink.exists():
        return Mission(telemetry, events, split_packets(downlink.read_bytes()), "downlink.bin")
    return Mission(telemetry, events, rebuild(telemetry), "rebuilt")


@dataclass
class Exports:
    xtce: Path
    cosmos: Path
    json: Path


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    from ground.export.cosmos import write_cosmos
    from ground.export.json_dict import write_json
    from ground.export.xtce import write_xtce

    d = tmp_path_factory.mktemp("exports")
    return Exports(write_xtce(d / "thermine.xtce.xml"), write_cosmos(d / "cosmos"),
                   write_json(d / "thermine.json"))


#: an f32 rounds to nearest: relative error at most 2**-24 (plus the smallest subnormal)
F32_REL = 2.0 ** -24
#: CUC 4+2 rounds mission time to the nearest 1/65536 s
CUC_S = 0.5 / 65536
_LARGEST: dict[str, tuple[float, str]] = {}


def check_hk(consumer: str, t_s: float, decoded: dict[str, tuple[Any, Any]],
             row: dict[str, Any]) -> None:
    """Assert one decoded HK packet equals its telemetry.jsonl row within the encoding's
    resolution: ``decoded`` maps each field to (engineering value, raw value); the state
    as its label, a bool field's raw value 0/1 (0xFF: failed), an f32 as a float (NaN:
    failed). Records the largest differences per consumer for the summary."""
    assert abs(t_s - row["t_s"]) <= CUC_S + 1e-12, (consumer, t_s, row["t_s"])
    _note(f"{consumer}: time", abs(t_s - row["t_s"]), "s")
    for f in HK.fields:
        eng, raw = decoded[f.name]
        want = row.get(f.name)
        where = f"{consumer}: t={row['t_s']} {f.name}"
        if f.name == "state":
            assert eng == want, where
        elif f.type == "u8":
            assert raw == (0xFF if want is None else int(want)), where
        elif want is None:
            assert math.isnan(eng), where
        else:
            err = abs(eng - want)
            assert err <= abs(want) * F32_REL + 1e-45, (where, eng, want)
            _note(f"{consumer}: f32", err / abs(want) if want else err, "relative")


@pytest.fixture
def hk_check() -> Any:
    """:func:`check_hk`, for the test modules."""
    return check_hk


def _note(key: str, value: float, unit: str) -> None:
    if value >= _LARGEST.get(key, (-1.0, ""))[0]:
        _LARGEST[key] = (value, unit)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _LARGEST:
        terminalreporter.write_sep("-", "largest decode differences (export tests)")
        for key, (value, unit) in sorted(_LARGEST.items()):
            terminalreporter.write_line(f"{key:28s} {value:.3e} {unit}")


def example_args(name: str) -> dict[str, Any]:
    """Valid arguments for a command: mid-range numbers, the last choice, true."""
    out: dict[str, Any] = {}
    for arg, a in DICTIONARY.commands[name].args.items():
        if a.type == "bytes":
            out[arg] = b"name: x\nsteps: []\n\xff"  # shorter than its size: zero-padded
        elif a.type == "str":
            out[arg] = a.choices[-1]
        elif a.type == "bool":
            out[arg] = True
        elif a.type == "float":
            out[arg] = ((a.min or 0.0) + (a.max if a.max is not None else 2.0)) / 2
        else:
            out[arg] = int(a.min or 0)
    return out


@pytest.fixture
def args_for() -> Any:
    """:func:`example_args`, for the test modules."""
    return example_args

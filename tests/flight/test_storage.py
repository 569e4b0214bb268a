"""Files that roll over by size (flight/storage.py): a write is never split, exactly
``keep`` old files stay (``path.1`` the newest, ``path.keep`` the oldest; the one beyond
is deleted), text and binary modes, bad arguments refused; the telemetry and event logs
over a tiny rotation write whole JSON lines in every file and lose only what rotation
drops beyond ``keep``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flight.storage import MIB, RotatingFile, Rotation
from flight.telemetry import EventLog, TelemetryWriter


def olds(path: Path) -> list[Path]:
    """``path.1``, ``path.2``, ... that exist, newest first (stopping at the first gap)."""
    out = []
    i = 1
    while path.with_name(f"{path.name}.{i}").exists():
        out.append(path.with_name(f"{path.name}.{i}"))
        i += 1
    return out


def every_file(path: Path) -> list[Path]:
    """The stream's files, oldest first (``path.N`` .. ``path.1``, then ``path``)."""
    return [*reversed(olds(path)), path]


# ---- Rotation: its arguments ------------------------------------------------------------

def test_rotation_defaults_and_floor() -> None:
    assert Rotation() == Rotation(64 * MIB, 8)
    assert Rotation(1024, 1).max_bytes == 1024  # the floor itself is allowed


@pytest.mark.parametrize(("max_bytes", "keep", "says"), [
    (1023, 2, "max_bytes must be >= 1024, got 1023"),
    (0, 2, "max_bytes must be >= 1024"),
    (-5, 2, "max_bytes must be >= 1024"),
    (4096, 0, "keep must be >= 1, got 0"),
    (4096, -1, "keep must be >= 1"),
])
def test_bad_rotation_arguments_raise_value_error(max_bytes: int, keep: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        Rotation(max_bytes, keep)


@pytest.mark.parametrize("mode", ["a", "r", "w+", "ab", "", "x"])
def test_a_bad_mode_raises_value_error_and_creates_nothing(tmp_path: Path, mode: str) -> None:
    with pytest.raises(ValueError, match="mode must be 'w' or 'wb'"):
        RotatingFile(tmp_path / "f", mode, Rotation(1024, 1))
    assert not (tmp_path / "f").exists()


# ---- rolling over -----------------------------------------------------------------------

def test_rolls_over_at_max_bytes_without_splitting_a_write(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    f = RotatingFile(path, "wb", Rotation(1024, 3))
    f.write(b"a" * 1000)
    f.write(b"b" * 24)  # exactly 1024: fits, no rollover
    assert f.rotations == 0 and f.size == 1024
    f.write(b"c")  # 1025 would be over: the file rolls over first, then takes it whole
    assert f.rotations == 1 and f.size == 1
    f.write(b"d" * 600)
    f.write(b"e" * 600)  # 1201 > 1024: rolls over before, never splits the 600 bytes
    f.close()
    assert f.closed
    assert path.with_name("t.bin.2").read_bytes() == b"a" * 1000 + b"b" * 24
    assert path.with_name("t.bin.1").read_bytes() == b"c" + b"d" * 600
    assert path.read_bytes() == b"e" * 600
    assert f.rotations == 2 and olds(path) == [path.with_name("t.bin.1"),
                                               path.with_name("t.bin.2")]


def test_a_write_larger_than_max_bytes_is_kept_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    f = RotatingFile(path, "wb", Rotation(1024, 2))
    f.write(b"x" * 3000)  # an empty file takes it whole (never split)
    assert f.rotations == 0
    f.write(b"y" * 10)  # then the next write rolls the big one over
    f.close()
    assert path.with_name("big.bin.1").read_bytes() == b"x" * 3000
    assert path.read_bytes() == b"y" * 10


@pytest.mark.parametrize("keep", [1, 2, 5])
def test_keeps_exactly_keep_old_files_newest_first_and_drops_the_oldest(
        tmp_path: Path, keep: int) -> None:
    path = tmp_path / "log.txt"
    f = RotatingFile(path, "w", Rotation(1024, keep))
    records = [f"{i:04d}".ljust(511, ".") + "\n" for i in range(40)]  # 512 chars each
    for rec in records:
        f.write(rec)
    f.close()
    # two records per file: 20 files written in all, 19 rotations
    assert f.rotations == 19
    assert olds(path) == [path.with_name(f"log.txt.{i}") for i in range(1, keep + 1)]
    assert not path.with_name(f"log.txt.{keep + 1}").exists()
    texts = [p.read_text(encoding="utf-8") for p in every_file(path)]
    for text in texts:
        assert len(text.encode()) == 1024  # whole records, two per file
    # the newest (keep + 1) files, oldest first, are exactly the last records written:
    # nothing lost but what the rotation dropped beyond keep
    assert "".join(texts) == "".join(records[-2 * (keep + 1):])
    # path.1 is newer than path.2, ..., path.keep the oldest kept
    firsts = [int(t[:4]) for t in texts]
    assert firsts == sorted(firsts)


def test_text_and_binary_modes(tmp_path: Path) -> None:
    text = RotatingFile(tmp_path / "a.txt", "w", Rotation(1024, 1))
    assert text.write('{"k":1}\n') == 8  # the file's own write: characters written
    with pytest.raises(TypeError):
        text.write(b"bytes")
    text.close()
    binary = RotatingFile(tmp_path / "a.bin", "wb", Rotation(1024, 1))
    assert binary.write(b"\x00\xff\x10") == 3
    with pytest.raises(TypeError):
        binary.write("text")
    binary.close()
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == '{"k":1}\n'
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\xff\x10"


def test_no_rotation_never_rolls_over(tmp_path: Path) -> None:
    path = tmp_path / "plain.bin"
    f = RotatingFile(path, "wb", None)
    for _ in range(10):
        f.write(b"z" * 1000)
    f.flush()
    assert path.stat().st_size == 10_000  # flushed to disk
    f.close()
    assert f.rotations == 0 and olds(path) == []


def test_an_old_file_from_before_is_shifted_and_dropped_in_order(tmp_path: Path) -> None:
    """Old files already there (a run directory reused) take part in the shift."""
    path = tmp_path / "s.bin"
    path.with_name("s.bin.1").write_bytes(b"old1")
    path.with_name("s.bin.2").write_bytes(b"old2")
    f = RotatingFile(path, "wb", Rotation(1024, 2))
    f.write(b"n" * 1024)
    f.write(b"m")  # rolls over: s.bin -> .1, .1 -> .2, the old .2 dropped
    f.close()
    assert path.with_name("s.bin.1").read_bytes() == b"n" * 1024
    assert path.with_name("s.bin.2").read_bytes() == b"old1"
    assert not path.with_name("s.bin.3").exists()
    assert path.read_bytes() == b"m"


# ---- the telemetry and event logs over a tiny rotation -----------------------------------

def jsonl(path: Path) -> list[dict[str, Any]]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")  # the last line is whole
    return [json.loads(line) for line in text.splitlines()]  # each line parses


READINGS = {"heater_temp_k": 300.0, "bus_power_w": float("nan"), "valve_open": False}
COMMANDS = {"heater_enabled": True, "heater_power_w": 12.5}


@pytest.mark.parametrize("batch", [1, 7])
def test_telemetry_writer_rotates_whole_json_lines(tmp_path: Path, batch: int) -> None:
    path = tmp_path / "telemetry.jsonl"
    keep = 2
    w = TelemetryWriter(path, batch=batch, rotation=Rotation(1024, keep))
    n = 300
    for i in range(n):
        w.write(i * 0.1, "IDLE", READINGS, COMMANDS, None, {"scoop": i})
    w.close()
    files = every_file(path)
    assert len(files) == keep + 1 and not path.with_name(f"telemetry.jsonl.{keep + 1}").exists()
    rows = [row for p in files for row in jsonl(p)]
    for p in files:
        assert jsonl(p)  # no empty file
    # the rows kept are the last ones written, in order, none missing in between
    scoops = [r["scoop"] for r in rows]
    assert scoops == list(range(n - len(rows), n))
    assert rows[-1] == {"t_s": round((n - 1) * 0.1, 6), "state": "IDLE", "heater_temp_k": 300.0,
                        "bus_power_w": None, "valve_open": False, "cmd_heater_enabled": True,
                        "cmd_heater_power_w": 12.5, "scoop": n - 1}


def test_event_log_rotates_whole_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    now = [0.0]
    log = EventLog(path, lambda: now[0], Rotation(1024, 3))
    n = 200
    for i in range(n):
        now[0] = i * 0.5
        log.emit("command", name="SET_POWER_CAP", args={"cap_w": float(i)}, source="ground",
                 accepted=True, detail=None)
    log.close()
    files = every_file(path)
    assert len(files) == 4
    events = [e for p in files for e in jsonl(p)]
    caps = [e["args"]["cap_w"] for e in events]
    assert caps == [float(i) for i in range(n - len(events), n)]  # the newest, none lost
    assert all(e["event"] == "command" and e["level"] == "info" for e in events)
    assert events[-1]["t_s"] == (n - 1) * 0.5
    for p in files:
        assert p.stat().st_size <= 1024  # one event per write: each file within max_bytes
    assert log.counts == {"command": n}


def test_telemetry_files_stay_within_max_bytes_with_the_default_batch(tmp_path: Path) -> None:
    path = tmp_path / "telemetry.jsonl"
    w = TelemetryWriter(path, rotation=Rotation(1024, 2))  # the batch Run uses (default)
    for i in range(300):
        w.write(i * 0.1, "IDLE", READINGS, COMMANDS, None, {"scoop": i})
    w.close()
    files = every_file(path)
    assert len(files) == 3
    rows = [row for p in files for row in jsonl(p)]
    assert [r["scoop"] for r in rows] == list(range(300 - len(rows), 300))  # (holds)
    assert sum(p.stat().st_size for p in files) <= 3 * 1024


def test_a_file_rolls_over_once_it_spans_max_age_s_of_mission_time(tmp_path) -> None:
    """By age too (thermine fly --rotate-hours): the mission clock, never the wall's; a
    record is never split, and an empty file does not roll."""
    now = [0.0]
    f = RotatingFile(tmp_path / "t.jsonl", "w", Rotation(1 << 20, 3, max_age_s=10.0),
                     lambda: now[0])
    for t in range(35):  # one line a second
        now[0] = float(t)
        f.write(f'{{"t_s":{t}}}\n')
    f.close()
    assert f.rotations == 3
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["t.jsonl", "t.jsonl.1", "t.jsonl.2", "t.jsonl.3"]
    first = (tmp_path / "t.jsonl.3").read_text().splitlines()
    assert first == [f'{{"t_s":{t}}}' for t in range(0, 10)]  # each file: 10 s of it
    assert (tmp_path / "t.jsonl").read_text().splitlines()[0] == '{"t_s":30}'
    with pytest.raises(ValueError, match="max_age_s"):
        Rotation(1 << 20, 3, max_age_s=0.0)

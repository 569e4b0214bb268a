"""Reading a run directory for its timeline: ``telemetry.jsonl`` as columns,
``events.jsonl`` and ``summary.json``.

Bad input (no telemetry, an empty file, a line cut short by a killed run, a line that is
not a JSON object) is a :class:`~common.errors.ConfigError` naming the file and line,
never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import ConfigError


@dataclass(frozen=True)
class RunData:
    """What a run directory says, in SI units as written.

    ``columns``: every numeric telemetry field as a float array, one value per sample
    (booleans 0/1, a missing or failed reading NaN); ``t_s`` mission time [s];
    ``states``: the state of each sample; ``events``: events.jsonl's records (empty when
    the file is absent); ``summary``: summary.json (None when absent: a run still going,
    or killed before it wrote one).
    """

    run_dir: Path
    t_s: np.ndarray
    columns: dict[str, np.ndarray]
    states: list[str]
    events: list[dict[str, Any]]
    summary: dict[str, Any] | None

    def column(self, key: str) -> np.ndarray | None:
        """The samples of ``key`` (None when the telemetry has no such field)."""
        return self.columns.get(key)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file (blank lines skipped).

    Raises:
        ConfigError: ``path`` cannot be read, or a line is not a JSON object (the last
            line cut short says so: the run may be writing it, or was killed).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), f"cannot read it: {exc}") from None
    lines = text.split("\n")
    out: list[dict[str, Any]] = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            if i == len(lines):  # the last line, with no newline after it
                raise ConfigError(f"{path}:{i}", "the last line is cut short (the run may "
                                  "still be writing it, or was killed mid-line); copy the "
                                  "file without that line to plot the rest") from None
            raise ConfigError(f"{path}:{i}", f"not JSON: {exc.msg} at column {exc.colno}"
                              ) from None
        if not isinstance(rec, dict):
            raise ConfigError(f"{path}:{i}", f"not a JSON object: {line[:60]!r}")
        out.append(rec)
    return out


def _as_float(v: Any) -> float:
    if v is None or isinstance(v, str):
        return float("nan")
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    return float("nan")


def _column(values: list[Any]) -> np.ndarray:
    """A field's samples as floats (None -> NaN, booleans 0/1; text -> NaN)."""
    try:
        return np.array(values, dtype=float)  # (the fast path: numbers, None, booleans)
    except (TypeError, ValueError):
        return np.array([_as_float(v) for v in values], dtype=float)


def read_run(run_dir: Path) -> RunData:
    """Read ``run_dir``'s telemetry, events and summary.

    Raises:
        ConfigError: no directory or no ``telemetry.jsonl`` in it, an empty telemetry
            file, a sample without ``t_s``, or a bad line in any of the files (named
            with its line number).
    """
    if not run_dir.is_dir():
        raise ConfigError(str(run_dir), "no such run directory")
    tm_path = run_dir / "telemetry.jsonl"
    if not tm_path.exists():
        raise ConfigError(str(run_dir), "no telemetry.jsonl here: is it a run directory?")
    rows = read_jsonl(tm_path)
    if not rows:
        raise ConfigError(str(tm_path), "empty: the run wrote no telemetry sample")
    keys: list[str] = []
    seen: set[str] = set()
    for r in rows[:1] + rows[-1:]:  # (dictionary order; a field a later sample adds)
        for k in r:
            if k not in seen:
                seen.add(k)
                keys.append(k)
    for i, r in enumerate(rows, 1):
        if not isinstance(r.get("t_s"), int | float):
            raise ConfigError(f"{tm_path}:{i}", "a sample without a numeric t_s")
    columns = {k: _column([r.get(k) for r in rows]) for k in keys if k != "state"}
    states = [str(r.get("state", "?")) for r in rows]
    ev_path = run_dir / "events.jsonl"
    events = read_jsonl(ev_path) if ev_path.exists() else []
    summary = None
    sum_path = run_dir / "summary.json"
    if sum_path.exists():
        try:
            summary = json.loads(sum_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(str(sum_path), f"not readable JSON: {exc}") from None
        if not isinstance(summary, dict):
            raise ConfigError(str(sum_path), "not a JSON object")
    return RunData(run_dir, columns["t_s"], columns, states, events, summary)

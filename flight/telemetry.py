"""Run outputs: housekeeping telemetry (JSON lines) and events (structlog JSON lines).

Both are stamped with mission time (``t_s``), never wall time, so two runs with the
same seed write byte-identical files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import structlog
from structlog.typing import EventDict

from common.dictionary import DICTIONARY
from flight.storage import RotatingFile, Rotation

#: event -> severity (common/dictionary/events.yaml)
_SEVERITY = DICTIONARY.severity
#: ``json.dumps(..., separators=(",", ":"), allow_nan=False)``, built once (dumps builds
#: one per call); a NaN or infinity raises ValueError (JSON has neither)
_ENCODE = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def severity_of(event: str, fields: Mapping[str, Any]) -> str:
    """``info`` or ``warning``: the dictionary's severity (an event it does not list is a
    warning), and a state change to SAFE is a warning."""
    if event == "state_change" and fields.get("dest") == "SAFE":
        return "warning"
    return _SEVERITY.get(event, "warning")


def jsonable(value: Any) -> Any:
    """``value`` with every NaN or infinite float, at any depth, as None (JSON null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def _finite(rec: dict[str, Any]) -> dict[str, Any]:
    """``rec`` with every NaN or infinite float as None (JSON null)."""
    return {k: jsonable(v) for k, v in rec.items()}


def brief_value(value: Any) -> str:
    """How an event writes a value JSON has no form for: bytes (a sequence chunk) as
    their length, anything else as ``str``."""
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    return str(value)


class _CommandNames(dict[str, str]):
    """command -> ``cmd_<command>``, made on first use."""

    def __missing__(self, command: str) -> str:
        name = self[command] = f"cmd_{command}"
        return name


class TelemetryWriter:
    """One JSON object per housekeeping sample: time, state, every reading and command.

    Samples are encoded and written ``batch`` at a time (and at :meth:`flush` and
    :meth:`close`): encoding a run of them back to back, with the encoder warm in the
    caches, costs a run much less than one sample between every ten flight cycles.
    """

    def __init__(self, path: Path, batch: int = 64, rotation: Rotation | None = None,
                 now_s: Callable[[], float] | None = None) -> None:
        self._f: IO[str] | RotatingFile = (
            RotatingFile(path, "w", rotation, now_s) if rotation is not None
            else open(path, "w", encoding="utf-8"))  # noqa: SIM115 closed in close()
        self.samples = 0
        self._cmd_name = _CommandNames().__getitem__
        self._batch = max(1, batch)
        self._pending: list[dict[str, Any]] = []
        #: the CCSDS downlink (flight.tmtc.downlink.Downlink) each sample also goes to
        self.downlink: Any = None

    def write(self, t_s: float, state: str, readings: Mapping[str, Any],
              commands: Mapping[str, Any], diagnostics: Mapping[str, Any] | None = None,
              derived: Mapping[str, Any] | None = None) -> None:
        """One sample: readings as they are, commands as ``cmd_*``, platform diagnostics
        (e.g. serial link statistics, ``link_*``) and flight's derived figures (the OPS
        channels: accounting, power cap, sequence progress) as they are; NaN and
        infinities are written as null (JSON has neither)."""
        if self.downlink is not None:
            self.downlink.housekeeping(t_s, state, readings, commands, diagnostics, derived)
        rec: dict[str, Any] = {"t_s": round(t_s, 6), "state": state, **readings}
        rec.update(zip(map(self._cmd_name, commands), commands.values(), strict=True))
        if diagnostics:
            rec.update(diagnostics)
        if derived:
            rec.update(derived)
        self._pending.append(rec)  # (its values are immutable: encoding can wait)
        self.samples += 1
        if len(self._pending) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Encode and write the samples not yet written."""
        if self._pending:
            try:
                text = "\n".join(map(_ENCODE, self._pending))
            except ValueError:  # a NaN or infinity in the batch (rare): null
                text = "\n".join(_ENCODE(_finite(rec)) for rec in self._pending)
            if isinstance(self._f, RotatingFile):  # line by line: rolled over by size
                for line in text.split("\n"):
                    self._f.write(line + "\n")
                self._f.flush()  # (a service's telemetry is on disk as it goes)
            else:
                self._f.write(text + "\n")
            self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._f.close()


class EventLog:
    """structlog logger writing JSON lines to ``events.jsonl``, stamped with mission time.

    ``listeners`` are called with ``(event, fields)`` too (e.g. the console progress).
    ``rotation`` rolls the file over by size (:mod:`flight.storage`; None: never).
    """

    def __init__(self, path: Path, now_s: Callable[[], float],
                 rotation: Rotation | None = None) -> None:
        self._f: IO[str] | RotatingFile = (
            RotatingFile(path, "w", rotation, now_s) if rotation is not None
            else open(path, "w", encoding="utf-8"))  # noqa: SIM115 closed in close()
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self.counts: dict[str, int] = {}

        def stamp(_logger: Any, _name: str, event_dict: EventDict) -> EventDict:
            event_dict["t_s"] = round(now_s(), 6)
            return event_dict

        self._log = structlog.wrap_logger(
            structlog.WriteLogger(self._f),  # type: ignore[arg-type]  # (write, flush)
            processors=[stamp, structlog.processors.add_log_level,
                        structlog.processors.JSONRenderer(sort_keys=True, default=brief_value)],
        )

    def emit(self, event: str, **fields: Any) -> None:
        """Record ``event`` with ``fields``; warnings for trips, failures and SAFE."""
        self.counts[event] = self.counts.get(event, 0) + 1
        warn = severity_of(event, fields) == "warning"
        (self._log.warning if warn else self._log.info)(event, **fields)
        for listener in self.listeners:
            listener(event, fields)

    def close(self) -> None:
        self._f.flush()
        self._f.close()

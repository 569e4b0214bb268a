"""Run outputs: housekeeping telemetry (JSON lines) and events (structlog JSON lines).

Both are stamped with mission time (``t_s``), never wall time, so two runs with the
same seed write byte-identical files. Housekeeping writes each float channel at its
resolution from the dictionary (:attr:`common.dictionary.Dictionary.precision`; the rule
is in channels.yaml's header and docs/tmtc.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import structlog
from structlog.typing import EventDict

from common.dictionary import DICTIONARY, Dictionary
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


#: 10**k for |k| <= 22, every one exact in a float64
_POW10 = {k: 10.0 ** k for k in range(-22, 23)}
#: (key, 10**n, n): a float rounded to n decimals, x * 10**n to a whole number k, then
#: k / 10**n: the float64 nearest the n-decimal value, which JSON (the shortest repr)
#: writes with at most n decimals: 247.10000000000002 K at 2 decimals is 247.1
_Decimals = tuple[tuple[str, float, int], ...]
#: (key, n): a float rounded to n significant digits
_Digits = tuple[tuple[str, int], ...]


def rounding_plan(precision: Mapping[str, tuple[str, int]]) -> tuple[_Decimals, _Digits]:
    """The per-key rounding of :meth:`TelemetryWriter.write`, computed once from the
    dictionary's ``precision`` (key -> ("decimals", n) or ("digits", n))."""
    decimals = tuple((k, 10.0 ** n, n) for k, (kind, n) in precision.items()
                     if kind == "decimals")
    digits = tuple((k, n) for k, (kind, n) in precision.items() if kind == "digits")
    return decimals, digits


#: x + _MAGIC - _MAGIC is x rounded to a whole number (half to even, as ``round``) for
#: |x| < _BIG, in float arithmetic alone: no int made, no exception for a NaN
_MAGIC = 1.5 * 2.0 ** 52
_BIG = 2.0 ** 51


def round_digits(x: float, n: int) -> float:
    """``x`` (finite, not 0) to ``n`` significant digits."""
    k = n - 1 - math.floor(math.log10(abs(x)))  # decimals (negative: tens, hundreds ...)
    if n <= 15:  # (x * 10**k is below 10**15 < _BIG)
        if 0 <= k <= 22:
            s = _POW10[k]
            return (x * s + _MAGIC - _MAGIC) / s
        if -22 <= k < 0:
            s = _POW10[-k]
            return (x / s + _MAGIC - _MAGIC) * s
    return round(x, k)  # (16 or 17 digits, beyond 1e22 or below 1e-22: the general way)


def round_in_place(rec: dict[str, Any], decimals: _Decimals, digits: _Digits) -> None:
    """Round ``rec``'s floats in place, each at its channel's resolution; a NaN or an
    infinity becomes None (JSON null, as :meth:`TelemetryWriter.flush` would write it).
    Only a plain ``float`` is rounded (a bool, an int or None is left as it is)."""
    get = rec.get
    for key, scale, n in decimals:
        v = get(key)
        if v.__class__ is float:
            x = v * scale
            if -_BIG < x < _BIG:  # (the usual value)
                rec[key] = (x + _MAGIC - _MAGIC) / scale
            elif x - x == 0.0:  # finite, beyond 2**51 quanta: the general way
                rec[key] = round(v, n)
            else:
                rec[key] = None
    for key, n in digits:
        v = get(key)
        if v.__class__ is float:
            if v - v != 0.0:  # NaN or infinite
                rec[key] = None
            elif v:
                rec[key] = round_digits(v, n)


class TelemetryWriter:
    """One JSON object per housekeeping sample: time, state, every reading and command.

    Every float channel is written at its resolution from the dictionary (``dictionary``,
    default the one in force): ``heater_temp_k`` to 0.01 K, the chamber pressure to 7
    significant digits (:attr:`common.dictionary.Dictionary.precision`); the downlink gets
    the same rounded values, so downlink.bin stays telemetry.jsonl packed. A key the
    dictionary does not list is written as it is.

    Samples are encoded and written ``batch`` at a time (and at :meth:`flush` and
    :meth:`close`): encoding a run of them back to back, with the encoder warm in the
    caches, costs a run much less than one sample between every ten flight cycles.
    """

    def __init__(self, path: Path, batch: int = 64, rotation: Rotation | None = None,
                 now_s: Callable[[], float] | None = None,
                 dictionary: Dictionary | None = None) -> None:
        self._f: IO[str] | RotatingFile = (
            RotatingFile(path, "w", rotation, now_s) if rotation is not None
            else open(path, "w", encoding="utf-8"))  # noqa: SIM115 closed in close()
        self.samples = 0
        self._cmd_name = _CommandNames().__getitem__
        self._batch = max(1, batch)
        self._pending: list[dict[str, Any]] = []
        #: the CCSDS downlink (flight.tmtc.downlink.Downlink) each sample also goes to
        self.downlink: Any = None
        precision = (dictionary or DICTIONARY).precision
        # commands are rounded before they become cmd_* (the downlink takes them bare)
        self._cmd_round = rounding_plan({k[4:]: p for k, p in precision.items()
                                         if k.startswith("cmd_")})
        self._round = rounding_plan({k: p for k, p in precision.items()
                                     if not k.startswith("cmd_")})

    def write(self, t_s: float, state: str, readings: Mapping[str, Any],
              commands: Mapping[str, Any], diagnostics: Mapping[str, Any] | None = None,
              derived: Mapping[str, Any] | None = None) -> None:
        """One sample: readings, commands as ``cmd_*``, platform diagnostics (e.g. serial
        link statistics, ``link_*``) and flight's derived figures (the OPS channels:
        accounting, power cap, sequence progress), each float at its channel's resolution
        (the caller's mappings are not changed); NaN and infinities are written as null
        (JSON has neither). The downlink gets the same values."""
        cmds = dict(commands)
        round_in_place(cmds, *self._cmd_round)
        rec: dict[str, Any] = {"t_s": round(t_s, 6), "state": state, **readings}
        rec.update(zip(map(self._cmd_name, cmds), cmds.values(), strict=True))
        if diagnostics:
            rec.update(diagnostics)
        if derived:
            rec.update(derived)
        round_in_place(rec, *self._round)
        if self.downlink is not None:  # (rec holds the readings, diagnostics and derived
            # figures by their own names, unique in the dictionary, rounded)
            self.downlink.housekeeping(t_s, state, rec, cmds, rec if diagnostics else None,
                                       None if derived is None else rec)
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

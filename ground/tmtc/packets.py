"""Split a byte stream (downlink.bin, or one UDP datagram) into CCSDS space packets and
decode the telemetry ones into records (layouts: :mod:`flight.tmtc.layout`).

A record's ``data`` is, by packet:

- HK: exactly a telemetry.jsonl row (with the OPS record of the same time, when flight
  sends one: its derived figures): ``t_s`` (from the CUC time, rounded to 1 us, so
  within 1/65536 s of the time flight stamped), ``state``, then every sensor and every
  ``cmd_*`` command in dictionary order; the u8 channels that telemetry.jsonl writes as
  booleans (unit ``-``: valve_open, cmd_heater_enabled, ...) are booleans; a failed
  reading (NaN, or 0xFF for a u8) is None; an f32 is the shortest decimal that is the
  same f32 (``359.87``, not ``359.8699951171875``).
- LINK: ``t_s`` and the platform's diagnostics (link_* counters, board time, overruns).
- OPS: ``t_s`` and what flight computes itself (the dictionary's derived rows: scoop,
  power_cap_w, water_captured_kg, ..., energy_*_j, seq_id, seq_status, seq_step,
  seq_next_s); a float flight did not have (NaN) is None; the integers are plain
  numbers (``seq_id`` 255 is a sequence id, not a failed reading; ``seq_status`` is the
  index of :data:`flight.tmtc.layout.SEQ_STATUSES`, 255 when flight had none).
- EVENT: ``{t_s, event, severity, **fields}``.
- VERIFY: ``{t_s, tc_seq, opcode, command, stage, reason}`` (``command`` None when the
  opcode is 0 or unknown; ``stage`` and ``reason`` by name).

Packets are numbered from 0 in the order they come; byte offsets count from the start of
the stream. The idle packet (APID 0x7FF, CCSDS fill) is skipped.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.tmtc.downlink import MAX_EVENT_TEXT
from flight.tmtc.layout import (
    APID_EVENT,
    APID_VERIFY,
    EVENT_HEAD,
    EVENT_IDS,
    HK,
    LINK,
    OPCODES,
    OPS,
    PRIMARY_HEADER_LEN,
    REASONS,
    SECONDARY_HEADER_LEN,
    SEVERITIES,
    STAGES,
    STATES,
    VERIFY_DATA,
    TmLayout,
    from_cuc,
)

#: the CCSDS idle packet's APID (fill, skipped)
APID_IDLE = 0x7FF
_PRIMARY = struct.Struct(">HHH")
_U8_NONE = 0xFF
EVENT_NAMES = {i: name for name, i in EVENT_IDS.items()}
STAGE_NAMES = {i: name for name, i in STAGES.items()}
REASON_NAMES = {i: name for name, i in REASONS.items()}
SEVERITY_NAMES = {i: name for name, i in SEVERITIES.items()}
#: packet name -> APID of the telemetry packets this module decodes
TM_APIDS = {"HK": HK.apid, "LINK": LINK.apid, "OPS": OPS.apid, "EVENT": APID_EVENT,
            "VERIFY": APID_VERIFY}
_KINDS = {apid: name for name, apid in TM_APIDS.items()}


class PacketError(ConfigError):
    """A malformed packet: ``where`` names the stream; the message names the packet's
    index (from 0), its byte offset in the stream and what is wrong."""

    def __init__(self, source: str, index: int, offset: int, message: str) -> None:
        super().__init__(source, f"packet {index} at byte {offset}: {message}")
        self.index = index
        self.offset = offset
        self.detail = message


@dataclass(frozen=True)
class RawPacket:
    """One space packet of a stream: where it was, its header's APID and sequence
    count, and its bytes (header included)."""

    index: int
    offset: int
    apid: int
    seq: int
    tm: bool
    sec_header: bool
    data: bytes


@dataclass(frozen=True)
class Record:
    """A decoded telemetry packet: ``kind`` (HK, LINK, OPS, EVENT, VERIFY), its place in the
    stream, its APID sequence count and the decoded values (``data``, with ``t_s``)."""

    kind: str
    index: int
    offset: int
    seq: int
    data: dict[str, Any]

    @property
    def t_s(self) -> float:
        return float(self.data["t_s"])


def split_packets(data: bytes, source: str = "stream", first_index: int = 0) -> Iterator[RawPacket]:
    """The space packets of ``data`` in order (packets numbered from ``first_index``).

    Raises:
        PacketError: a truncated primary header, a length field past the end of the
            data, or a packet that is not version 0.
    """
    view = memoryview(data)
    offset, index, end = 0, first_index, len(data)
    while offset < end:
        left = end - offset
        if left < PRIMARY_HEADER_LEN:
            raise PacketError(source, index, offset, f"truncated: {left} byte(s) left, a "
                              f"primary header takes {PRIMARY_HEADER_LEN}")
        word0, word1, data_len = _PRIMARY.unpack_from(view, offset)
        if word0 >> 13 != 0:
            raise PacketError(source, index, offset, f"CCSDS version {word0 >> 13}, "
                              "expected 0 (not a space packet: garbage, or a lost byte?)")
        size = PRIMARY_HEADER_LEN + data_len + 1
        if size > left:
            raise PacketError(source, index, offset, f"the length field (bytes 4-5) says "
                              f"{size} bytes, only {left} left")
        yield RawPacket(index, offset, word0 & 0x7FF, word1 & 0x3FFF,
                        not word0 & 0x1000, bool(word0 & 0x0800),
                        bytes(view[offset:offset + size]))
        offset += size
        index += 1


def decode_packet(raw: RawPacket, source: str = "stream") -> Record | None:
    """Decode one telemetry packet (None for an idle packet).

    Raises:
        PacketError: not a telemetry packet, no secondary header, an unknown APID, user
            data of the wrong size, or a value that is not in its table (state, event,
            severity, stage, reason), an EVENT whose text is not UTF-8 JSON.
    """
    if raw.apid == APID_IDLE:
        return None
    kind = _KINDS.get(raw.apid)
    if kind is None:
        known = ", ".join(f"{n} {a:#05x}" for n, a in TM_APIDS.items())
        raise PacketError(source, raw.index, raw.offset, f"unknown APID {raw.apid:#05x} "
                          f"(telemetry: {known})")
    if not raw.tm:
        raise PacketError(source, raw.index, raw.offset, "a telecommand, not telemetry")
    if not raw.sec_header or len(raw.data) < PRIMARY_HEADER_LEN + SECONDARY_HEADER_LEN:
        raise PacketError(source, raw.index, raw.offset, f"{kind} without its "
                          f"{SECONDARY_HEADER_LEN}-byte time (secondary header)")
    t_s = round(from_cuc(raw.data[PRIMARY_HEADER_LEN:]), 6)
    body = raw.data[PRIMARY_HEADER_LEN + SECONDARY_HEADER_LEN:]
    try:
        values = _DECODERS[kind](body, t_s)
    except _Bad as exc:
        raise PacketError(source, raw.index, raw.offset, f"{kind}: {exc}") from None
    return Record(kind, raw.index, raw.offset, raw.seq, values)


def decode_stream(data: bytes, source: str = "stream",
                  first_index: int = 0) -> Iterator[Record]:
    """Every telemetry record of ``data`` in order (idle packets skipped).

    Raises:
        PacketError: the first malformed packet (see :func:`split_packets`,
            :func:`decode_packet`); the records before it have been yielded.
    """
    for raw in split_packets(data, source, first_index):
        record = decode_packet(raw, source)
        if record is not None:
            yield record


def read_stream(path: str | Path) -> bytes:
    """The bytes of a downlink file.

    Raises:
        ConfigError: the file cannot be read (missing, a directory, no permission).
    """
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read it: {exc.strerror or exc}") from None


def decode_file(path: str | Path) -> list[Record]:
    """Every telemetry record of a downlink.bin-format file.

    Raises:
        ConfigError: the file cannot be read; PacketError (a ConfigError) for the first
            malformed packet.
    """
    return list(decode_stream(read_stream(path), str(path)))


# ---- the decoders ------------------------------------------------------------------------

class _Bad(ValueError):
    """A packet's user data is wrong (the caller adds where)."""


def _f32(v: float) -> float | None:
    return float(str(np.float32(v))) if math.isfinite(v) else None


def _f64(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _u8(v: int) -> int | None:
    return None if v == _U8_NONE else v


def _bool(v: int) -> bool | int | None:
    if v == _U8_NONE:
        return None
    return bool(v) if v <= 1 else v


def _state(v: int) -> str | None:
    if v == _U8_NONE:
        return None
    if v >= len(STATES):
        raise _Bad(f"state index {v}: the chart has {len(STATES)} states")
    return STATES[v]


def _boolean_channels() -> set[str]:
    """The telemetry names that telemetry.jsonl carries as booleans: a u8 with unit
    '-' whose sensor reads 0..1, or whose actuator's SAFE value is a boolean."""
    out = {c.name for c in DICTIONARY.channels.sensors if c.unit == "-"
           and c.tm_type == "u8" and (c.hk is None or c.hk.max <= 1)}
    out |= {f"cmd_{c.name}" for c in DICTIONARY.channels.actuators if c.unit == "-"
            and c.tm_type == "u8" and isinstance(c.safe, bool)}
    return out


BOOLEANS = frozenset(_boolean_channels())


def _converters(layout: TmLayout) -> list[Callable[[Any], Any]]:
    out: list[Callable[[Any], Any]] = []
    for f in layout.fields:
        if f.name == "state" and layout is HK:
            out.append(_state)
        elif f.type == "u8" and layout is OPS:  # flight's own figures: never "failed"
            out.append(int)
        elif f.type == "u8":
            out.append(_bool if f.name in BOOLEANS else _u8)
        elif f.type == "f32":
            out.append(_f32)
        elif f.type == "f64":
            out.append(_f64)
        else:
            out.append(int)
    return out


def _fixed(layout: TmLayout) -> Callable[[bytes, float], dict[str, Any]]:
    st = struct.Struct(layout.fmt)
    names = [f.name for f in layout.fields]
    convert = _converters(layout)

    def decode(body: bytes, t_s: float) -> dict[str, Any]:
        if len(body) != st.size:
            raise _Bad(f"{len(body)} bytes of user data, its layout takes {st.size}")
        rec: dict[str, Any] = {"t_s": t_s}
        for name, c, v in zip(names, convert, st.unpack(body), strict=True):
            rec[name] = c(v)
        return rec

    return decode


def _event(body: bytes, t_s: float) -> dict[str, Any]:
    if len(body) < EVENT_HEAD.size:
        raise _Bad(f"{len(body)} bytes of user data, shorter than its {EVENT_HEAD.size}-byte "
                   "head (id, severity, length)")
    event_id, severity, n = EVENT_HEAD.unpack_from(body)
    if len(body) != EVENT_HEAD.size + n:
        raise _Bad(f"the text length says {n} bytes, the packet holds "
                   f"{len(body) - EVENT_HEAD.size}")
    if event_id == 0:
        name = "unknown"  # flight sends 0 for an event the dictionary does not list
    elif event_id in EVENT_NAMES:
        name = EVENT_NAMES[event_id]
    else:
        raise _Bad(f"event id {event_id}: the dictionary has {len(EVENT_NAMES)} events")
    if severity not in SEVERITY_NAMES:
        raise _Bad(f"severity {severity}: expected 0 (info) or 1 (warning)")
    raw = body[EVENT_HEAD.size:]
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        if n != MAX_EVENT_TEXT:
            raise _Bad(f"{name}: its text is not UTF-8 JSON ({exc})") from None
        # flight cut a long text at MAX_EVENT_TEXT bytes: keep what is there
        fields = {"truncated": True, "text": raw.decode("utf-8", errors="replace")}
    if not isinstance(fields, dict):
        raise _Bad(f"{name}: its text is JSON but not an object")
    rec: dict[str, Any] = {"t_s": t_s, "event": name, "severity": SEVERITY_NAMES[severity]}
    for k, v in fields.items():
        rec.setdefault(k, v)
    return rec


def _verify(body: bytes, t_s: float) -> dict[str, Any]:
    if len(body) != VERIFY_DATA.size:
        raise _Bad(f"{len(body)} bytes of user data, a verification takes {VERIFY_DATA.size}")
    _apid, seq, opcode, stage, reason = VERIFY_DATA.unpack(body)
    if stage not in STAGE_NAMES:
        raise _Bad(f"stage {stage}: expected one of {sorted(STAGE_NAMES)}")
    if reason not in REASON_NAMES:
        raise _Bad(f"reason code {reason}: expected one of {sorted(REASON_NAMES)}")
    return {"t_s": t_s, "tc_seq": seq, "opcode": opcode, "command": OPCODES.get(opcode),
            "stage": STAGE_NAMES[stage], "reason": REASON_NAMES[reason]}


_DECODERS: dict[str, Callable[[bytes, float], dict[str, Any]]] = {
    "HK": _fixed(HK), "LINK": _fixed(LINK), "OPS": _fixed(OPS), "EVENT": _event,
    "VERIFY": _verify}

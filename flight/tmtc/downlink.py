"""Telemetry out: housekeeping, link diagnostics, flight's own figures (OPS), events and
verifications as CCSDS space packets (layouts: :mod:`flight.tmtc.layout`), with a
sequence count per APID, handed to every sink (downlink.bin, a UDP socket) in the order
they were made."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from spacepackets.ccsds.spacepacket import PacketType, SequenceFlags, SpacePacketHeader

from flight.telemetry import brief_value, jsonable, severity_of
from flight.tmtc.layout import (
    APID_EVENT,
    APID_VERIFY,
    EVENT_HEAD,
    EVENT_IDS,
    HK,
    LINK,
    OPS,
    SEVERITIES,
    STAGES,
    STATES,
    VERIFY_DATA,
    TmLayout,
    cuc,
)

Sink = Callable[[bytes], None]
_STATE_INDEX = {name: i for i, name in enumerate(STATES)}
_U8_NONE = 0xFF
_NAN = math.nan
#: the largest event text [bytes]; a longer one is sent as {"truncated": true, "head": ...}
MAX_EVENT_TEXT = 4000


#: the largest finite f32
_F32_MAX = 3.4028234663852886e38
_INT_MAX = {"u8": 0xFE, "u16": 0xFFFF, "u32": 0xFFFFFFFF}


def _coerce(v: Any, kind: str, int_max: Mapping[str, int] = _INT_MAX) -> Any:
    """One value made encodable as ``kind``: a missing or unreadable one as the
    "no value" of its type (NaN; 0xFF for a u8; 0 for a u16/u32 counter), a number beyond
    the type's range clamped (f32: to +-infinity; an integer to ``int_max``: a u8 reading
    to 0xFE, so that it never looks like a failed one)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        x = math.nan
    if kind in ("f32", "f64"):
        if kind == "f32" and math.isfinite(x) and abs(x) > _F32_MAX:
            return math.copysign(math.inf, x)
        return x
    if x != x or v is None:
        return _U8_NONE if kind == "u8" else 0
    return int(min(max(x, 0.0), int_max[kind]))


#: OPS: flight's own figures are never "failed": a u8 holds 0..255 (seq_id 255 is an id)
_OPS_INT_MAX = {**_INT_MAX, "u8": 0xFF}


def _encoder(layout: TmLayout,
             int_max: Mapping[str, int] = _INT_MAX) -> Callable[[list[Any]], bytes]:
    s = struct.Struct(layout.fmt)
    kinds = [f.type for f in layout.fields]
    maxima = [int_max] * len(kinds)

    def encode(values: list[Any]) -> bytes:
        try:  # the usual sample: every value present and of its type (bools pack as u8)
            return s.pack(*values)
        except (struct.error, OverflowError, TypeError, ValueError):
            pass
        try:  # the next most usual: a failed reading (None) in an f32 field
            return s.pack(*[math.nan if v is None else v for v in values])
        except (struct.error, OverflowError, TypeError, ValueError):
            return s.pack(*map(_coerce, values, kinds, maxima))

    return encode


class Downlink:
    """Packs telemetry into space packets and hands each to the sinks.

    ``packets`` counts what was sent per APID; ``sink_errors`` what a sink refused (a
    full disk, an unreachable host): telemetry never stops the flight software. A value
    that its field cannot hold is sent as that type's "no value" or clamped
    (:func:`_coerce`), never raised.
    """

    def __init__(self, sinks: Sequence[Sink] = ()) -> None:
        self.sinks: list[Sink] = list(sinks)
        #: APID -> its header (spacepackets), its sequence count and length set per packet
        self._headers: dict[int, SpacePacketHeader] = {}
        self.packets: dict[int, int] = {}
        self.sink_errors = 0
        self._hk = _encoder(HK)
        self._link = _encoder(LINK)
        self._hk_sensors = [f.name for f in HK.fields[1:] if not f.name.startswith("cmd_")]
        self._hk_commands = [f.name[4:] for f in HK.fields[1:] if f.name.startswith("cmd_")]
        self._link_names = [f.name for f in LINK.fields]
        self._ops = _encoder(OPS, _OPS_INT_MAX)
        self._ops_names = [f.name for f in OPS.fields]

    def _send(self, apid: int, t_s: float, data: bytes) -> None:
        header = self._headers.get(apid)
        if header is None:
            header = self._headers[apid] = SpacePacketHeader(
                packet_type=PacketType.TM, apid=apid, seq_count=0, data_len=0,
                sec_header_flag=True, seq_flags=SequenceFlags.UNSEGMENTED)
        n = self.packets.get(apid, 0)
        header.seq_count = n & 0x3FFF
        header.data_len = 6 + len(data) - 1
        packet = bytes(header.pack()) + cuc(t_s) + data
        self.packets[apid] = n + 1
        for sink in self.sinks:
            try:
                sink(packet)
            except OSError:
                self.sink_errors += 1

    def housekeeping(self, t_s: float, state: str, readings: Mapping[str, Any],
                     commands: Mapping[str, Any],
                     diagnostics: Mapping[str, Any] | None = None,
                     derived: Mapping[str, Any] | None = None) -> None:
        """One HK packet at mission time ``t_s`` [s], then a LINK packet when the platform
        has diagnostics, then an OPS packet when ``derived`` is given (the dictionary's
        derived rows by name: scoop, power_cap_w, water_captured_kg, ..., seq_next_s; a
        missing one is sent as its type's "no value")."""
        values: list[Any] = [_STATE_INDEX.get(state, _U8_NONE)]
        values += [readings.get(n) for n in self._hk_sensors]
        values += [commands.get(n) for n in self._hk_commands]
        self._send(HK.apid, t_s, self._hk(values))
        if diagnostics:
            self._send(LINK.apid, t_s, self._link([diagnostics.get(n)
                                                   for n in self._link_names]))
        if derived is not None:
            self._send(OPS.apid, t_s, self._ops([_NAN if v is None else v for v in map(
                derived.get, self._ops_names)]))  # (None: NaN here, without a retry)

    def event(self, t_s: float, name: str, fields: Mapping[str, Any]) -> None:
        """One EVENT packet: id, severity, the fields as JSON."""
        severity = severity_of(name, fields)
        text = json.dumps(jsonable(fields), sort_keys=True, separators=(",", ":"),
                          default=brief_value)
        raw = text.encode("utf-8")
        if len(raw) > MAX_EVENT_TEXT:
            raw = json.dumps({"truncated": True, "head": text[:MAX_EVENT_TEXT // 8]},
                             separators=(",", ":")).encode("utf-8")
        self._send(APID_EVENT, t_s, EVENT_HEAD.pack(EVENT_IDS.get(name, 0),
                                                   SEVERITIES[severity], len(raw)) + raw)

    def verify(self, t_s: float, tc_apid: int, tc_seq: int, opcode: int, stage: str,
               reason: int) -> None:
        """One VERIFY packet for a telecommand."""
        self._send(APID_VERIFY, t_s, VERIFY_DATA.pack(tc_apid, tc_seq, opcode,
                                                     STAGES[stage], reason))

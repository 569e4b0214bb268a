"""The ground link as the exports see it: every packet with its fields, offsets, types,
units, states and limits, derived once from the dictionary and the CCSDS layouts of
:mod:`flight.tmtc.layout` (the spec), so the XTCE, COSMOS and JSON exports say the same.

Field types are ``uN`` (an unsigned integer of N bits, big-endian), ``i32``, ``f32``,
``f64`` and ``str`` (UTF-8 text whose length in bytes is the field named by
``Field.length_from``). A field's ``kind`` says how a ground tool shows it: ``number``,
``bool`` (0 false, 1 true; 0xFF is a failed reading), ``enum`` (``states``) or ``text``.

A telecommand argument of encoding ``bytes`` is exactly its ``size`` bytes on the wire
(a shorter value zero-padded): :func:`arg_bits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY, Channel, Dictionary
from common.dictionary.command_rows import Arg, Command
from common.errors import ConfigError
from flight.tmtc.layout import (
    APID_TC,
    CRC_LEN,
    FINE_PER_S,
    PRIMARY_HEADER_LEN,
    REASONS,
    SECONDARY_HEADER_LEN,
    SEQ_STATUSES,
    SEVERITIES,
    STAGES,
    STATES,
    TmLayout,
    hk_layout,
    link_layout,
    ops_layout,
)

SYSTEM = "THERMINE"
#: the raw value of a u8 that could not be read (flight.tmtc.downlink)
U8_FAILED = 0xFF
#: bits of each fixed-size encoding
BITS = {"u8": 8, "u16": 16, "u32": 32, "i32": 32, "f32": 32, "f64": 64}
TC_OPCODE_BITS = 16
CRC_POLY, CRC_INIT = 0x1021, 0xFFFF
CRC_NAME = "CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor)"


@dataclass(frozen=True)
class Field:
    """One value of a packet: ``bit_offset`` from the packet's start (None after a
    variable-length field), ``bits`` its size (0: variable)."""

    name: str
    type: str
    bits: int
    bit_offset: int | None
    unit: str = ""
    doc: str = ""
    kind: str = "number"
    states: tuple[tuple[int, str], ...] = ()
    #: [lo, hi] of the dictionary's ``plausible`` (what a checkout accepts at rest)
    warning: tuple[float, float] | None = None
    #: [lo, hi] the board can report (its housekeeping encoding's range)
    critical: tuple[float, float] | None = None
    #: engineering value = raw x scale (a calibration), None: raw as is
    scale: float | None = None
    #: a text field: the field holding its length in bytes
    length_from: str = ""


@dataclass(frozen=True)
class Packet:
    """A telemetry packet: APID, the header fields and its own fields, in order."""

    name: str
    apid: int
    doc: str
    fields: tuple[Field, ...]
    #: fields of the headers (primary + CUC secondary) before ``fields``
    header: tuple[Field, ...]

    @property
    def fixed_size(self) -> int | None:
        """Bytes of the whole packet, None when a field has a variable length."""
        if any(f.bits == 0 for f in self.fields):
            return None
        return (sum(f.bits for f in self.header) + sum(f.bits for f in self.fields)) // 8


def _u(bits: int) -> str:
    return f"u{bits}"


def _fields(specs: list[tuple[str, int, dict[str, Any]]], start: int) -> tuple[Field, ...]:
    out: list[Field] = []
    offset: int | None = start
    for name, bits, spec in specs:
        extra = dict(spec)
        out.append(Field(name, extra.pop("type", _u(bits)), bits, offset, **extra))
        offset = None if offset is None or bits == 0 else offset + bits
    return tuple(out)


def primary_header() -> tuple[Field, ...]:
    """The CCSDS primary header (CCSDS 133.0-B-2): its seven fields, bits 0..47."""
    return _fields([
        ("ccsds_version", 3, {"doc": "packet version number (0)"}),
        ("ccsds_type", 1, {"doc": "packet type: 0 telemetry, 1 telecommand"}),
        ("ccsds_secondary_header", 1, {"doc": "secondary header flag (1 on telemetry)"}),
        ("ccsds_apid", 11, {"doc": "application process identifier"}),
        ("ccsds_sequence_flags", 2, {"doc": "3: unsegmented"}),
        ("ccsds_sequence_count", 14, {"doc": "per APID, modulo 16384"}),
        ("ccsds_packet_length", 16, {"unit": "byte", "doc": "packet bytes - 7"}),
    ], 0)


def secondary_header() -> tuple[Field, ...]:
    """The TM secondary header: mission time as CUC 4+2 without P-field."""
    return _fields([
        ("time_coarse", 32, {"unit": "s", "doc": "mission time, whole seconds (CUC coarse)"}),
        ("time_fine", 16, {"unit": "s", "scale": 1.0 / FINE_PER_S,
                           "doc": "mission time, fraction of a second (CUC fine, 1/65536 s)"}),
    ], PRIMARY_HEADER_LEN * 8)


def tm_header() -> tuple[Field, ...]:
    return primary_header() + secondary_header()


def _channels(d: Dictionary) -> dict[str, Channel]:
    by_name: dict[str, Channel] = {}
    ch = d.channels
    for c in (*ch.sensors, *ch.status, *ch.diagnostics, *ch.derived):
        by_name.setdefault(c.name, c)
    for c in ch.actuators:
        by_name[f"cmd_{c.name}"] = c
    return by_name


def is_bool(c: Channel) -> bool:
    """A two-valued channel: unit '-' carried as a u8 (a switch, a flag)."""
    return c.unit == "-" and c.tm_type == "u8"


#: OPS fields that are enumerations: name -> labels by value (0xFF: no value)
OPS_ENUMS: dict[str, tuple[str, ...]] = {"seq_status": tuple(s.upper() for s in SEQ_STATUSES)}


def _layout_fields(layout: TmLayout, d: Dictionary) -> list[tuple[str, int, dict[str, Any]]]:
    channels = _channels(d)
    derived = {c.name for c in d.channels.derived}
    specs: list[tuple[str, int, dict[str, Any]]] = []
    for f in layout.fields:
        extra: dict[str, Any] = {"type": f.type, "unit": "" if f.unit == "-" else f.unit}
        c = channels.get(f.name)
        if f.name == "state" and layout.name == "HK":
            extra.update(kind="enum", doc="the mission state machine's leaf state",
                         states=(*enumerate(STATES), (U8_FAILED, "UNKNOWN")))
        elif layout.name == "OPS" and f.name in OPS_ENUMS and f.type == "u8":
            extra.update(kind="enum", doc=c.doc if c is not None else "",
                         states=(*enumerate(OPS_ENUMS[f.name]), (U8_FAILED, "UNKNOWN")))
        elif c is not None:
            extra["doc"] = ("commanded: " if f.name.startswith("cmd_") else "") + c.doc
            if is_bool(c) and f.name not in derived:
                extra.update(kind="bool", states=((0, "FALSE"), (1, "TRUE")))
            if c.plausible and c.plausible[0] < c.plausible[1] and f.type.startswith("f"):
                lo, hi = c.plausible
                extra["warning"] = (lo, hi)
                if c.hk is not None:
                    extra["critical"] = (min(c.hk.min, lo), max(c.hk.max, hi))
        specs.append((f.name, BITS[f.type], extra))
    return specs


def _enum(mapping: dict[str, int]) -> tuple[tuple[int, str], ...]:
    return tuple(sorted((v, k) for k, v in mapping.items()))


def packets(d: Dictionary = DICTIONARY) -> tuple[Packet, ...]:
    """HK, LINK, OPS, EVENT and VERIFY, each after the primary and secondary headers.

    Raises:
        ConfigError: a field name is used twice (XTCE and COSMOS tools need every
            parameter name once), or a packet of flight.tmtc.layout has no row in
            ``packets:`` of channels.yaml.
    """
    start = (PRIMARY_HEADER_LEN + SECONDARY_HEADER_LEN) * 8
    docs = {p.name: p.doc for p in d.channels.packets}
    missing = {"HK", "LINK", "OPS", "EVENT", "VERIFY"} - set(docs)
    if missing:
        raise ConfigError(f"{d.source}/channels.yaml: packets",
                          f"no row for {', '.join(sorted(missing))}")
    event_ids = {name: i + 1 for i, name in enumerate(d.events)}  # as flight.tmtc.layout
    head = tm_header()
    opcodes = tuple(sorted((c.opcode, name) for name, c in d.commands.items()))
    event = _fields([
        ("event_id", 16, {"kind": "enum", "doc": "which event (events.yaml order, 1 first)",
                          "states": ((0, "unknown"), *_enum(event_ids))}),
        ("event_severity", 8, {"kind": "enum", "doc": "0 info, 1 warning",
                                "states": _enum(SEVERITIES)}),
        ("event_text_length", 16, {"unit": "byte", "doc": "bytes of event_text"}),
        ("event_text", 0, {"type": "str", "kind": "text", "length_from": "event_text_length",
                           "doc": "the event's fields as compact JSON (UTF-8, sorted keys)"}),
    ], start)
    verify = _fields([
        ("verify_tc_apid", 16, {"doc": "the telecommand's APID"}),
        ("verify_tc_seq", 16, {"doc": "the telecommand's sequence count"}),
        ("verify_opcode", 16, {"kind": "enum", "doc": "its opcode (0: unreadable)",
                               "states": ((0, "NONE"), *opcodes)}),
        ("verify_stage", 8, {"kind": "enum", "doc": "accepted or rejected at once, then "
                             "completed or failed", "states": _enum(STAGES)}),
        ("verify_reason", 8, {"kind": "enum", "doc": "why (ok: no reason)",
                              "states": _enum(REASONS)}),
    ], start)
    hk, link, ops = hk_layout(d), link_layout(d), ops_layout(d)
    out = (
        Packet("HK", hk.apid, docs["HK"], _fields(_layout_fields(hk, d), start), head),
        Packet("LINK", link.apid, docs["LINK"], _fields(_layout_fields(link, d), start), head),
        Packet("OPS", ops.apid, docs["OPS"], _fields(_layout_fields(ops, d), start), head),
        Packet("EVENT", d.apids["EVENT"], docs["EVENT"], event, head),
        Packet("VERIFY", d.apids["VERIFY"], docs["VERIFY"], verify, head),
    )
    seen: dict[str, str] = {f.name: "the headers" for f in head}
    for p in out:
        for f in p.fields:
            if seen.setdefault(f.name, p.name) != p.name:
                raise ConfigError(f"{d.source}/channels.yaml: {f.name}",
                                  f"{p.name} and {seen[f.name]} both have a field of that "
                                  "name: ground tools need each name once")
    return out


def arg_bits(a: Arg) -> int:
    """Bits of an argument on the wire: its encoding's, or ``size`` bytes for ``bytes``."""
    return a.size * 8 if a.encoding == "bytes" else BITS[a.encoding]


def tc_size(cmd: Command) -> int:
    """Bytes of the command's whole TC packet (header, opcode, arguments, CRC)."""
    args = sum(arg_bits(a) for a in cmd.args.values()) // 8
    return PRIMARY_HEADER_LEN + TC_OPCODE_BITS // 8 + args + CRC_LEN


def tc_fixed_header() -> dict[str, int]:
    """The primary header fields every TC has (the sender sets the sequence count)."""
    return {"ccsds_version": 0, "ccsds_type": 1, "ccsds_secondary_header": 0,
            "ccsds_apid": APID_TC, "ccsds_sequence_flags": 3, "ccsds_sequence_count": 0}


def tc_header_values(cmd: Command) -> dict[str, int]:
    """The primary header of the command's TC (sequence count 0: the sender sets it)."""
    return {**tc_fixed_header(), "ccsds_packet_length": tc_size(cmd) - 7}


#: argument names the TC layout itself uses
RESERVED_ARGS = frozenset({"opcode", "crc", *(f.name for f in primary_header())})


def check_commands(d: Dictionary = DICTIONARY) -> None:
    """The commands can be exported: no argument is named like a field of the TC itself.

    Raises:
        ConfigError: naming the command and the argument.
    """
    for name, c in d.commands.items():
        for arg in c.args:
            if arg.lower() in RESERVED_ARGS:
                raise ConfigError(f"{d.source}/commands.yaml: {name}.args.{arg}",
                                  f"the exports use that name for the TC's own field; "
                                  f"rename it (not one of {', '.join(sorted(RESERVED_ARGS))})")


def hazard_text(cmd: Command) -> str:
    """Why the command needs an ARM first ('' when it never does)."""
    h = cmd.hazardous
    if h is True:
        return "hazardous: send ARM naming it first (within its arm window)"
    if isinstance(h, dict):
        return (f"hazardous when {h.get('arg')} is above {h.get('above')}: send ARM naming it "
                "first (within its arm window)")
    return ""


def write_export(path: str | Path, text: str, option: str) -> Path:
    """Write an export's ``text`` to ``path`` (its folder made if missing).

    Raises:
        ConfigError: naming ``option`` and the path, when it cannot be written.
    """
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{option} {out}", f"cannot write it: {exc.strerror or exc}") from None
    return out

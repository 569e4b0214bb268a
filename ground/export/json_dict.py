"""The dictionary and the packet layouts as one JSON document, for scripts and Open MCT.

Top-level keys: ``format`` / ``format_version``; ``ccsds`` (the headers, byte order,
the TC's CRC); ``packets`` (every telemetry packet: APID, size, every field with its
bit offset, bit size, type, unit, kind, states, limits, calibration); ``commands`` (opcode,
size, every argument with its byte offset, encoding, range, choices; a ``bytes`` argument
has ``size``: exactly that many bytes on the wire, a shorter value zero-padded); ``channels``,
``events`` (with their EVENT ids), ``states``, ``stages``, ``reasons`` (the rows of the
dictionary); ``openmct``: a dictionary in the form Open MCT's telemetry tutorials use
(``measurements`` with ``values``, keyed ``<packet>.<field>``, mission time as domain).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY, Dictionary
from flight.tmtc.layout import FINE_PER_S, PRIMARY_HEADER_LEN, REASONS, STAGES, STATES
from ground.export.model import (
    CRC_INIT,
    CRC_NAME,
    CRC_POLY,
    SYSTEM,
    TC_OPCODE_BITS,
    Field,
    arg_bits,
    hazard_text,
    packets,
    primary_header,
    secondary_header,
    tc_header_values,
    tc_size,
    write_export,
)

FORMAT_VERSION = 1


def _field(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name, "type": f.type, "bits": f.bits or None, "bit_offset": f.bit_offset,
        "byte_offset": None if f.bit_offset is None or f.bit_offset % 8 else f.bit_offset // 8,
        "unit": f.unit, "kind": f.kind, "doc": f.doc}
    if f.states:
        out["states"] = [{"value": v, "label": label} for v, label in f.states]
    if f.kind == "bool":
        out["failed_raw"] = 0xFF
    if f.type.startswith("f"):
        out["failed"] = "NaN"
    if f.warning is not None:
        out["limits"] = {"warning": list(f.warning),
                         "critical": list(f.critical) if f.critical else None}
    if f.scale is not None:
        out["calibration"] = {"polynomial": [0.0, f.scale]}
    if f.length_from:
        out["length_from"] = f.length_from
    return out


def _commands(d: Dictionary) -> list[dict[str, Any]]:
    out = []
    for name, c in d.commands.items():
        offset = PRIMARY_HEADER_LEN + TC_OPCODE_BITS // 8
        args = []
        for arg_name, a in c.args.items():
            row: dict[str, Any] = {"name": arg_name, "type": a.type, "encoding": a.encoding,
                                   "byte_offset": offset, "units": a.units, "min": a.min,
                                   "max": a.max, "doc": a.doc}
            if a.type == "str":
                row["choices"] = [{"value": i, "label": ch} for i, ch in enumerate(a.choices)]
            if a.type == "bytes":
                row["size"] = a.size
                row["padding"] = "zero bytes after a shorter value"
            args.append(row)
            offset += arg_bits(a) // 8
        out.append({
            "name": name, "opcode": c.opcode, "doc": c.doc, "size_bytes": tc_size(c),
            "header": tc_header_values(c), "trigger": c.trigger or None,
            "handler": c.handler or None, "hazardous": c.hazardous, "hazard": hazard_text(c),
            "arm_window_s": c.arm_window_s, "sources": list(c.sources), "args": args,
            "crc_byte_offset": offset})
    return out


def _openmct(d: Dictionary) -> dict[str, Any]:
    measurements = []
    domain = {"key": "t_s", "name": "Mission time", "units": "s", "format": "float",
              "hints": {"domain": 1}}
    for p in packets(d):
        for f in p.fields:
            value: dict[str, Any] = {"key": "value", "name": f.name, "hints": {"range": 1}}
            if f.unit:
                value["units"] = f.unit
            if f.states:
                value["format"] = "enum"
                value["enumerations"] = [{"value": v, "string": s} for v, s in f.states]
            else:
                value["format"] = "string" if f.kind == "text" else (
                    "float" if f.type.startswith("f") else "integer")
            if f.warning is not None:
                value["min"], value["max"] = f.critical or f.warning
            measurements.append({"name": f"{p.name} {f.name}", "key": f"{p.name}.{f.name}",
                                 "values": [value, domain]})
    return {"name": SYSTEM, "key": SYSTEM.lower(), "measurements": measurements}


def document(d: Dictionary = DICTIONARY) -> dict[str, Any]:
    """The whole dictionary as plain JSON data.

    Raises:
        ConfigError: the dictionary's packets cannot be laid out (see
            :func:`ground.export.model.packets`).
    """
    tm = packets(d)
    return {
        "format": "thermine-dictionary", "format_version": FORMAT_VERSION, "system": SYSTEM,
        "ccsds": {
            "byte_order": "big-endian",
            "primary_header": [_field(f) for f in primary_header()],
            "tm_secondary_header": {
                "format": "CCSDS CUC 4+2 without P-field: mission time = coarse + "
                          f"fine / {FINE_PER_S} s",
                "fields": [_field(f) for f in secondary_header()]},
            "tc": {"apid": d.apids["TC"], "secondary_header": False,
                   "crc": {"name": CRC_NAME, "poly": CRC_POLY, "init": CRC_INIT, "bits": 16,
                           "over": "every byte before it", "position": "last two bytes"}},
        },
        "packets": [{"name": p.name, "apid": p.apid, "type": "tm", "doc": p.doc,
                     "size_bytes": p.fixed_size, "fields": [_field(f) for f in p.fields]}
                    for p in tm],
        "commands": _commands(d),
        "channels": {group: [dataclasses.asdict(c) for c in getattr(d.channels, group)]
                     for group in ("sensors", "actuators", "status", "diagnostics",
                                   "derived")},
        "channel_packets": [dataclasses.asdict(p) for p in d.channels.packets],
        "events": [{"name": name, "id": i + 1, "severity": e.severity,
                    "fields": list(e.fields), "doc": e.doc}
                   for i, (name, e) in enumerate(d.events.items())],
        "states": list(STATES),
        "stages": dict(STAGES),
        "reasons": dict(REASONS),
        "openmct": _openmct(d),
    }


def write_json(path: str | Path) -> Path:
    """Write the dictionary and the packet layouts as JSON to ``path`` (its directory
    made if missing).

    Raises:
        ConfigError: ``path`` cannot be written, or the dictionary cannot be laid out.
    """
    return write_export(path, json.dumps(document(), indent=2, allow_nan=False) + "\n",
                        "--json")

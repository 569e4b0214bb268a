"""The JSON export is enough on its own: a decoder that reads only the JSON document
decodes a real SIL mission's HK packets like telemetry.jsonl, and an encoder that reads
only the JSON builds every telecommand (CRC included) as flight's ``encode_tc`` does."""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.tmtc.layout import from_cuc
from flight.tmtc.uplink import encode_tc

CODES = {"u8": "B", "u16": "H", "u32": "I", "i32": "i", "f32": "f", "f64": "d"}


@pytest.fixture(scope="module")
def doc(exports: Any) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(exports.json.read_text(encoding="utf-8"))
    return out


def _read(f: dict[str, Any], raw: bytes) -> tuple[Any, Any]:
    """(engineering, raw) value of a byte-aligned field, from its JSON description."""
    (value,) = struct.unpack_from(">" + CODES[f["type"]], raw, f["byte_offset"])
    labels = {s["value"]: s["label"] for s in f.get("states", [])}
    if f["kind"] == "enum":
        return labels[value], value
    if "calibration" in f:
        poly = f["calibration"]["polynomial"]
        return sum(c * value ** i for i, c in enumerate(poly)), value
    return value, value


def test_decodes_the_mission_downlink_from_the_json_alone(doc: dict[str, Any], mission: Any,
                                                          hk_check: Any,
                                                          ops_check: Any) -> None:
    packets = {p["apid"]: p for p in doc["packets"]}
    coarse, fine = doc["ccsds"]["tm_secondary_header"]["fields"]
    rows = iter(mission.telemetry)
    row: dict[str, Any] = {}
    for raw in mission.packets:
        apid = int.from_bytes(raw[:2], "big") & 0x7FF
        p = packets[apid]
        if p["size_bytes"] is not None:
            assert len(raw) == p["size_bytes"]
        t_s = _read(coarse, raw)[0] + _read(fine, raw)[0]
        decoded = {f["name"]: _read(f, raw) for f in p["fields"]} if p["size_bytes"] else {}
        if p["name"] == "HK":
            row = next(rows)
            hk_check("json", t_s, decoded, row)
        elif p["name"] == "OPS":  # the figures of the HK sample before it
            ops_check("json", t_s, decoded, row, row["t_s"])


def test_decodes_every_ops_figure_from_the_json_alone(doc: dict[str, Any], ops_stream: Any,
                                                      ops_check: Any) -> None:
    (p,) = (p for p in doc["packets"] if p["name"] == "OPS")
    coarse, fine = doc["ccsds"]["tm_secondary_header"]["fields"]
    for raw, figures in ops_stream:
        assert int.from_bytes(raw[:2], "big") & 0x7FF == p["apid"]
        assert len(raw) == p["size_bytes"]
        ops_check("json", _read(coarse, raw)[0] + _read(fine, raw)[0],
                  {f["name"]: _read(f, raw) for f in p["fields"]}, figures, from_cuc(raw[6:12]))


def _crc(data: bytes, poly: int, init: int) -> int:
    """A plain bitwise CRC-16 (no reflection, no final xor) with the JSON's parameters."""
    crc = init
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ poly if crc & 0x8000 else crc << 1) & 0xFFFF
    return crc


def _json_encode(doc: dict[str, Any], name: str, args: dict[str, Any]) -> bytes:
    cmd = next(c for c in doc["commands"] if c["name"] == name)
    bits = "".join(format(cmd["header"][f["name"]], f"0{f['bits']}b")
                   for f in doc["ccsds"]["primary_header"])
    packet = bytearray(int(bits, 2).to_bytes(6, "big"))
    packet += struct.pack(">H", cmd["opcode"])
    for a in cmd["args"]:
        assert a["byte_offset"] == len(packet)
        value = args[a["name"]]
        if a["type"] == "str":
            value = next(c["value"] for c in a["choices"] if c["label"] == value)
        if a["encoding"] == "bytes":  # exactly its size, a shorter value zero-padded
            assert len(value) <= a["size"]
            packet += bytes(value).ljust(a["size"], b"\0")
            continue
        packet += struct.pack(">" + CODES[a["encoding"]], value)
    assert cmd["crc_byte_offset"] == len(packet)
    crc = doc["ccsds"]["tc"]["crc"]
    packet += struct.pack(">H", _crc(bytes(packet), crc["poly"], crc["init"]))
    assert len(packet) == cmd["size_bytes"] == cmd["header"]["ccsds_packet_length"] + 7
    return bytes(packet)


@pytest.mark.parametrize("name", list(DICTIONARY.commands))
def test_encodes_every_command_from_the_json_alone(doc: dict[str, Any], name: str,
                                                   args_for: Any) -> None:
    args = args_for(name)
    assert _json_encode(doc, name, args) == encode_tc(name, args, seq=0)


def test_carries_the_dictionary_rows(doc: dict[str, Any]) -> None:
    for group in ("sensors", "actuators", "status", "diagnostics", "derived"):
        assert doc["channels"][group] == json.loads(json.dumps(
            [dataclasses.asdict(c) for c in getattr(DICTIONARY.channels, group)]))
    assert [e["name"] for e in doc["events"]] == list(DICTIONARY.events)
    assert doc["format"] == "thermine-dictionary" and doc["format_version"] == 1


def test_openmct_dictionary_has_every_field(doc: dict[str, Any]) -> None:
    keys = [m["key"] for m in doc["openmct"]["measurements"]]
    assert keys == [f"{p['name']}.{f['name']}" for p in doc["packets"] for f in p["fields"]]
    heater = next(m for m in doc["openmct"]["measurements"] if m["key"] == "HK.heater_temp_k")
    assert heater["values"][0]["units"] == "K"
    assert heater["values"][1]["hints"] == {"domain": 1}

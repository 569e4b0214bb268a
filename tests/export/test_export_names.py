"""Every export names every telemetry channel, every command with its opcode and every
event of the dictionary (the board-only status rows, which never reach the downlink, are
in the JSON's dictionary rows)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from common.dictionary import DICTIONARY
from flight.tmtc.layout import EVENT_IDS

NS = {"x": "http://www.omg.org/spec/XTCE/20180204"}


def telemetry_names() -> set[str]:
    ch = DICTIONARY.channels
    return ({c.name for c in ch.sensors} | {f"cmd_{c.name}" for c in ch.actuators}
            | {c.name for c in ch.diagnostics} | {c.name for c in ch.derived} | {"state"})


def test_xtce_names_everything(exports: Any) -> None:
    root = ET.parse(exports.xtce).getroot()
    params = {p.get("name") for p in root.iterfind(".//x:ParameterSet/x:Parameter", NS)}
    assert telemetry_names() <= params
    for name, c in DICTIONARY.commands.items():
        mc = root.find(f".//x:MetaCommand[@name='{name}']", NS)
        assert mc is not None, name
        opcode = mc.find(".//x:ArgumentAssignment[@argumentName='opcode']", NS)
        assert opcode is not None and int(opcode.get("argumentValue", "")) == c.opcode
    ids = {e.get("label"): int(e.get("value", "")) for e in root.iterfind(
        ".//x:EnumeratedParameterType[@name='event_id']//x:Enumeration", NS)}
    assert {k: v for k, v in ids.items() if v} == EVENT_IDS


def test_cosmos_names_everything(exports: Any) -> None:
    tlm = (exports.cosmos / "cmd_tlm" / "tlm.txt").read_text()
    cmd = (exports.cosmos / "cmd_tlm" / "cmd.txt").read_text()
    items = set(re.findall(r"^\s+(?:ID_)?ITEM (\S+)", tlm, re.M))
    assert {n.upper() for n in telemetry_names()} <= items
    for name, c in DICTIONARY.commands.items():
        block = re.search(rf"^COMMAND THERMINE {name} .*?(?=^COMMAND |\Z)", cmd, re.S | re.M)
        assert block, name
        assert re.search(rf"ID_PARAMETER OPCODE \d+ 16 UINT {c.opcode} {c.opcode} {c.opcode} ",
                         block.group(0)), name
    event = re.search(r"ITEM EVENT_ID .*?(?=^\s+ITEM )", tlm, re.S | re.M)
    assert event
    states = dict(re.findall(r"STATE (\S+) (\d+)", event.group(0)))
    assert {k: int(v) for k, v in states.items() if v != "0"} == EVENT_IDS


def test_json_names_everything(exports: Any) -> None:
    doc = json.loads(exports.json.read_text())
    fields = {f["name"] for p in doc["packets"] for f in p["fields"]}
    assert telemetry_names() <= fields
    assert {c["name"]: c["opcode"] for c in doc["commands"]} == \
        {n: c.opcode for n, c in DICTIONARY.commands.items()}
    assert {e["name"]: e["id"] for e in doc["events"]} == EVENT_IDS
    status = {c["name"] for c in doc["channels"]["status"]}
    assert status == {c.name for c in DICTIONARY.channels.status}

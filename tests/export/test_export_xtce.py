"""The XTCE export, checked by independent consumers: the XTCE 1.2 XSD (the copy that
space-packet-parser ships), LASP's space-packet-parser decoding a real SIL mission's
downlink (values against telemetry.jsonl), and an XTCE command encoder written here
from the standard's rules (its TCs against flight's ``encode_tc``)."""

from __future__ import annotations

import json
import math
import struct
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import space_packet_parser
from space_packet_parser.xtce.definitions import XtcePacketDefinition
from space_packet_parser.xtce.validation import validate_xtce

from common.dictionary import DICTIONARY
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import APID_TC, HK, LINK, OPS, REASONS, STAGES, from_cuc
from flight.tmtc.uplink import crc16, encode_tc

NS = {"x": "http://www.omg.org/spec/XTCE/20180204"}
XSD = Path(space_packet_parser.__file__).parent / "xtce" / "schemas" / "SpaceSystem.xsd"


@pytest.fixture(scope="module")
def definition(exports: Any) -> XtcePacketDefinition:
    return XtcePacketDefinition.from_xtce(exports.xtce)


@pytest.fixture(scope="module")
def root(exports: Any) -> ET.Element:
    return ET.parse(exports.xtce).getroot()


def decode(definition: XtcePacketDefinition, raw: bytes) -> Any:
    """One packet, decoded; any warning (bits left over, say) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return definition.parse_bytes(raw)


def values(pkt: Any, names: list[str]) -> dict[str, tuple[Any, Any]]:
    """name -> (engineering value, raw value) as space-packet-parser gives them."""
    return {n: (pkt[n] if isinstance(pkt[n], float) else str(pkt[n]), pkt[n].raw_value)
            for n in names}


def test_valid_against_the_xtce_1_2_xsd(exports: Any, tmp_path: Path) -> None:
    assert XSD.exists(), "space-packet-parser no longer ships the XTCE 1.2 XSD"
    result = validate_xtce(exports.xtce, level="schema", local_xsd=XSD, print_results=False,
                           raise_on_error=False, allow_schema_download=False)
    assert result.valid, [str(e) for e in result.errors]
    assert result.schema_version == "1.2"
    # the check can fail: an element the schema does not have is refused
    bad = tmp_path / "bad.xml"
    bad.write_text(exports.xtce.read_text().replace("<ContainerSet>", "<ContainerSet><Bogus/>"))
    assert not validate_xtce(bad, level="schema", local_xsd=XSD, print_results=False,
                             raise_on_error=False, allow_schema_download=False).valid


def test_structure_checks_flag_only_command_container_bases(exports: Any,
                                                            root: ET.Element) -> None:
    """space-packet-parser's structural rules know telemetry only: a command container's
    BaseContainer (the abstract command TC's container) is the one thing they flag."""
    result = validate_xtce(exports.xtce, level="structure", print_results=False,
                           raise_on_error=False)
    others = [str(e) for e in result.errors
              if not (e.error_code == "MISSING_CONTAINER_REFERENCE" and "'TC'" in e.message)]
    assert others == []
    assert root.find(".//x:MetaCommand[@name='TC']/x:CommandContainer[@name='TC']", NS) \
        is not None


def test_one_container_per_apid_under_the_headers(definition: XtcePacketDefinition) -> None:
    assert set(definition.containers) == {"CCSDSPacket", "TM", "HK", "LINK", "OPS", "EVENT",
                                          "VERIFY"}
    assert definition.containers["CCSDSPacket"].abstract
    assert definition.containers["TM"].abstract
    assert sorted(definition.containers["TM"].inheritors) == ["EVENT", "HK", "LINK", "OPS",
                                                              "VERIFY"]


def test_decodes_the_mission_downlink_like_telemetry_jsonl(
        definition: XtcePacketDefinition, mission: Any, hk_check: Any, ops_check: Any) -> None:
    rows = iter(mission.telemetry)
    events = iter(mission.events)
    counts = {"HK": 0, "OPS": 0, "EVENT": 0}
    row: dict[str, Any] = {}
    for raw in mission.packets:
        pkt = decode(definition, raw)
        t_s = pkt["time_coarse"] + pkt["time_fine"]
        assert t_s == pytest.approx(from_cuc(raw[6:12]), abs=1e-9)
        if pkt["ccsds_apid"] == HK.apid:
            counts["HK"] += 1
            row = next(rows)
            hk_check("space-packet-parser", t_s, values(pkt, [f.name for f in HK.fields]), row)
        elif pkt["ccsds_apid"] == OPS.apid:  # the figures of the HK sample before it
            counts["OPS"] += 1
            ops_check("space-packet-parser", t_s, values(pkt, [f.name for f in OPS.fields]),
                      row, row["t_s"])
        elif pkt["ccsds_apid"] == DICTIONARY.apids["EVENT"]:
            counts["EVENT"] += 1
            ev = next(events)
            assert str(pkt["event_id"]) == ev["event"]
            assert str(pkt["event_severity"]) == ev["level"]
            assert pkt["event_text_length"] == len(pkt["event_text"].encode())
            fields = {k: v for k, v in ev.items() if k not in ("event", "level", "t_s")}
            assert json.loads(pkt["event_text"]) == json.loads(json.dumps(fields, default=str))
            assert abs(t_s - ev["t_s"]) <= 0.5 / 65536 + 1e-12
    assert counts["HK"] == len(mission.telemetry) > 100
    assert counts["OPS"] in (0, counts["HK"])  # with every HK sample, or never
    if mission.source == "downlink.bin":
        assert counts["EVENT"] == len(mission.events) > 0


def test_decodes_every_ops_figure(definition: XtcePacketDefinition, ops_stream: Any,
                                  ops_check: Any) -> None:
    for raw, figures in ops_stream:
        pkt = decode(definition, raw)
        ops_check("space-packet-parser", pkt["time_coarse"] + pkt["time_fine"],
                  values(pkt, [f.name for f in OPS.fields]), figures, from_cuc(raw[6:12]))


def test_decodes_link_verify_and_failed_readings(definition: XtcePacketDefinition) -> None:
    packets: list[bytes] = []
    down = Downlink([packets.append])
    diags: dict[str, Any] = {f.name: 1000 * i + 7 for i, f in enumerate(LINK.fields)}
    diags.update(board_time_s=123.456789, link_hk_stale=1)
    down.housekeeping(12.5, "SAFE", {}, {}, diags)  # every reading failed
    down.verify(13.25, APID_TC, 42, 16, "completed", REASONS["ok"])
    down.verify(14.0, APID_TC, 43, 0, "rejected", REASONS["crc"])
    down.event(15.0, "fdir_trip", {"monitor": "sample_temp_stale", "value": math.nan,
                                   "note": "\u00e9t\u00e9 \u2013 UTF-8"})
    hk, link, ok, bad, event = (decode(definition, p) for p in packets)
    assert str(hk["state"]) == "SAFE"
    for f in HK.fields[1:]:
        if f.type == "u8":
            assert hk[f.name].raw_value == 0xFF, f.name  # failed: 0xFF
        else:
            assert math.isnan(hk[f.name]), f.name  # failed: NaN
    for f in LINK.fields:
        want = diags[f.name]
        got = link[f.name].raw_value if f.type == "u8" else link[f.name]
        assert got == want, f.name
    assert (ok["verify_tc_apid"], ok["verify_tc_seq"]) == (APID_TC, 42)
    assert (str(ok["verify_opcode"]), str(ok["verify_stage"]), str(ok["verify_reason"])) == \
        ("SET_HEATER_SETPOINT", "completed", "ok")
    assert ok["time_coarse"] + ok["time_fine"] == 13.25
    assert (str(bad["verify_opcode"]), str(bad["verify_stage"]), str(bad["verify_reason"])) == \
        ("NONE", "rejected", "crc")
    assert (str(event["event_id"]), str(event["event_severity"])) == ("fdir_trip", "warning")
    assert json.loads(event["event_text"]) == {"monitor": "sample_temp_stale", "value": None,
                                               "note": "\u00e9t\u00e9 \u2013 UTF-8"}


# ---- telecommands: an XTCE encoder written from the standard, against encode_tc ----------

def _int_bits(value: int, bits: int, signed: bool) -> str:
    if signed and value < 0:
        value += 1 << bits
    assert 0 <= value < 1 << bits
    return format(value, f"0{bits}b")


def _arg_bits(t: ET.Element, value: Any) -> str:
    kind = t.tag.split("}")[1]
    if kind == "BinaryArgumentType":  # a fixed size; a shorter value filled up with zeros
        size = t.findtext("x:BinaryDataEncoding/x:SizeInBits/x:FixedValue", namespaces=NS)
        assert size is not None and int(size) % 8 == 0
        assert len(value) <= int(size) // 8
        return "".join(format(b, "08b") for b in bytes(value).ljust(int(size) // 8, b"\0"))
    if kind == "FloatArgumentType":
        enc = t.find("x:FloatDataEncoding", NS)
        assert enc is not None and enc.get("byteOrder") == "mostSignificantByteFirst"
        raw = struct.pack(">f" if enc.get("sizeInBits") == "32" else ">d", value)
        return "".join(format(b, "08b") for b in raw)
    enc = t.find("x:IntegerDataEncoding", NS)
    assert enc is not None
    bits, signed = int(enc.get("sizeInBits", "0")), enc.get("encoding") == "twosComplement"
    if kind == "EnumeratedArgumentType":
        labels = {e.get("label"): int(e.get("value", "-1"))
                  for e in t.iterfind("x:EnumerationList/x:Enumeration", NS)}
        value = labels[value]
    elif kind == "BooleanArgumentType":
        value = int(bool(value))
    return _int_bits(int(value), bits, signed)


def xtce_encode(root: ET.Element, name: str, args: dict[str, Any]) -> bytes:
    """The TC the XTCE describes, CRC filled as the TC's ancillary data says."""
    commands = {mc.get("name"): mc for mc in root.iterfind(".//x:MetaCommand", NS)}
    types = {t.get("name"): t for t in root.iterfind(".//x:ArgumentTypeSet/*", NS)}
    mc = commands[name]
    base_ref = mc.find("x:BaseMetaCommand", NS)
    assert base_ref is not None
    base = commands[base_ref.get("metaCommandRef")]
    assert base.get("abstract") == "true"
    given = dict(args)
    for a in base_ref.iterfind("x:ArgumentAssignmentList/x:ArgumentAssignment", NS):
        given[a.get("argumentName", "")] = int(a.get("argumentValue", ""))
    bits = ""
    for owner in (base, mc):
        for entry in owner.iterfind("x:CommandContainer/x:EntryList/*", NS):
            loc = entry.find("x:LocationInContainerInBits", NS)
            assert loc is not None and loc.get("referenceLocation") == "previousEntry"
            assert loc.findtext("x:FixedValue", namespaces=NS) == "0"
            if entry.tag.endswith("FixedValueEntry"):
                size = int(entry.get("sizeInBits", "0"))
                bits += format(int(entry.get("binaryValue", ""), 16), f"0{size}b")[-size:]
            else:
                arg = entry.get("argumentRef", "")
                bits += _arg_bits(types[f"{owner.get('name')}__{arg}"], given[arg])
    assert len(bits) % 8 == 0
    packet = int(bits, 2).to_bytes(len(bits) // 8, "big")
    # the link appends the CRC (as Yamcs' PusCommandPostprocessor does)
    assert len(packet) + 2 - 7 == int(given["ccsds_packet_length"])
    return packet + struct.pack(">H", crc16(packet))


@pytest.mark.parametrize("name", list(DICTIONARY.commands))
def test_command_encodes_byte_for_byte_like_flight(root: ET.Element, name: str,
                                                   args_for: Any) -> None:
    args = args_for(name)
    assert xtce_encode(root, name, args) == encode_tc(name, args, seq=0)


def test_argument_ranges_enumerations_and_hazards(root: ET.Element) -> None:
    levels = {}
    for mc in root.iterfind(".//x:MetaCommand", NS):
        sig = mc.find("x:DefaultSignificance", NS)
        levels[mc.get("name")] = None if sig is None else sig.get("consequenceLevel")
    for name, c in DICTIONARY.commands.items():
        for arg, a in c.args.items():
            t = root.find(f".//x:ArgumentTypeSet/*[@name='{name}__{arg}']", NS)
            assert t is not None, (name, arg)
            if a.type == "str":
                labels = [e.get("label") for e in t.iterfind(".//x:Enumeration", NS)]
                assert labels == list(a.choices)
            if a.min is not None or a.max is not None:
                rng = t.find("x:ValidRangeSet/x:ValidRange", NS)
                assert rng is not None
                assert float(rng.get("minInclusive", "nan")) == a.min
                assert float(rng.get("maxInclusive", "nan")) == a.max
        want = "critical" if c.hazardous is True else "vital" if c.hazardous else "normal"
        assert levels[name] == want, name


def test_verifiers_watch_the_verify_packet(root: ET.Element) -> None:
    for name in DICTIONARY.commands:
        vs = root.find(f".//x:MetaCommand[@name='{name}']/x:VerifierSet", NS)
        assert vs is not None
        kinds = [v.tag.split("}")[1] for v in vs]
        assert kinds == ["AcceptedVerifier", "CompleteVerifier", "FailedVerifier"], name
        for v in vs:
            conds = {c.find("x:ParameterInstanceRef", NS).get("parameterRef"):  # type: ignore
                     c.findtext("x:Value", namespaces=NS) for c in v.iterfind(".//x:Condition", NS)}
            assert conds["verify_opcode"] == name
            assert conds["verify_stage"] in STAGES

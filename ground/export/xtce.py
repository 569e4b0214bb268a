"""The dictionary as XTCE 1.2, built with Yamcs' generator (``yamcs-pymdb``), for Yamcs
and any XTCE tool (LASP's space-packet-parser decodes downlink.bin with it).

Telemetry: an abstract ``CCSDSPacket`` (the primary header), an abstract ``TM`` under it
(packet type 0 with a secondary header: the CUC 4+2 mission time, ``time_coarse`` and
``time_fine`` calibrated to seconds), and under ``TM`` one container per APID (HK, LINK,
OPS, EVENT, VERIFY), restricted on ``ccsds_apid``. Telecommands: an abstract ``TC``
holding the primary header (APID 0x180, no secondary header) and the opcode, one command
per dictionary row with its arguments (ranges, enumerations for str arguments; a bytes
argument is a binary argument with a fixed-size BinaryDataEncoding of ``size`` bytes,
which Yamcs fills up with zero bytes after a shorter value, as flight expects, and Yamcs'
``maxLength`` of ``size`` so a longer one is refused rather than cut), and verifiers on
the VERIFY packet (matched on the opcode).

What pymdb cannot say, and how it is said here:

- the event text's length is the u16 before it (``event_text_length``, in bytes): the
  string encoding is a ``Variable`` size with a ``DynamicValue`` on that parameter
  (x 8 bits), written by :class:`_Generator`, a subclass of pymdb's generator;
- the CRC-16 of a telecommand cannot be computed by an XTCE encoder: a command ends with
  its last argument, and the link appends the CRC and writes the length and sequence
  count (Yamcs' ``org.yamcs.pus.PusCommandPostprocessor`` with ``errorDetection: {type:
  CRC-16-CCIIT}`` does exactly that: CRC-16/CCITT-FALSE, appended).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from yamcs import pymdb
from yamcs.pymdb import xtce as pymdb_xtce
from yamcs.pymdb.exceptions import DuplicateNameError, ExportError

from common.dictionary import DICTIONARY, Dictionary
from common.dictionary.command_rows import Arg
from common.dictionary.command_rows import Command as DictCommand
from common.errors import ConfigError
from flight.tmtc.downlink import MAX_EVENT_TEXT
from ground.export.model import (
    BITS,
    CRC_NAME,
    SYSTEM,
    Field,
    check_commands,
    hazard_text,
    packets,
    primary_header,
    secondary_header,
    tc_fixed_header,
    tc_size,
    write_export,
)

#: how long a verifier waits for its VERIFY packet after the command's release
ACCEPT_TIMEOUT_S = 10.0
COMPLETE_TIMEOUT_S = 60.0


class DynamicStringEncoding(pymdb.StringEncoding):
    """A string whose size in bytes is the value of an earlier parameter."""

    def __init__(self, length: pymdb.Parameter, max_bytes: int = 0xFFFF) -> None:
        super().__init__(max_bits=max_bytes * 8, charset=pymdb.Charset.UTF_8, termination=None)
        self.length = length


class _Generator(pymdb_xtce.XTCEGenerator):
    """pymdb's XTCE generator, plus :class:`DynamicStringEncoding` (XTCE 1.2:
    StringDataEncoding/Variable/DynamicValue with a LinearAdjustment to bits)."""

    def add_string_data_encoding(self, parent: ET.Element, encoding: Any) -> None:
        if not isinstance(encoding, DynamicStringEncoding):
            super().add_string_data_encoding(parent, encoding)
            return
        el = ET.SubElement(parent, "StringDataEncoding", encoding="UTF-8")
        var_el = ET.SubElement(el, "Variable", maxSizeInBits=str(encoding.max_bits))
        dyn_el = ET.SubElement(var_el, "DynamicValue")
        ET.SubElement(dyn_el, "ParameterInstanceRef", parameterRef=encoding.length.name,
                      useCalibratedValue="false")
        ET.SubElement(dyn_el, "LinearAdjustment", slope="8", intercept="0")


def _int_encoding(bits: int) -> pymdb.IntegerEncoding:
    return pymdb.IntegerEncoding(bits=bits, scheme=pymdb.IntegerEncodingScheme.UNSIGNED)


def _eng_bits(bits: int) -> int:
    return next(b for b in (8, 16, 32, 64) if b >= bits)


def _alarm(f: Field) -> pymdb.ThresholdAlarm | None:
    if f.warning is None:
        return None
    crit = f.critical or (None, None)
    return pymdb.ThresholdAlarm(warning_low=f.warning[0], warning_high=f.warning[1],
                                critical_low=crit[0], critical_high=crit[1])


def _parameter(system: pymdb.System, f: Field,
               params: dict[str, pymdb.Parameter]) -> pymdb.Parameter:
    common: dict[str, Any] = {"short_description": f.doc or None, "units": f.unit or None}
    if f.kind == "text":
        return pymdb.StringParameter(system, f.name, short_description=f.doc or None,
                                     encoding=DynamicStringEncoding(params[f.length_from],
                                                                    MAX_EVENT_TEXT))
    if f.kind == "bool":
        return pymdb.BooleanParameter(
            system, f.name, zero_string_value="False", one_string_value="True",
            long_description="0 false, 1 true; 0xFF (raw) is a failed reading, which a "
            "boolean shows as true: check the raw value", encoding=pymdb.uint8_t, **common)
    if f.kind == "enum":
        return pymdb.EnumeratedParameter(system, f.name, choices=list(f.states),
                                         encoding=_int_encoding(f.bits), **common)
    if f.type in ("f32", "f64"):
        return pymdb.FloatParameter(
            system, f.name, bits=32 if f.type == "f32" else 64, alarm=_alarm(f),
            encoding=pymdb.FloatEncoding(bits=f.bits), **common)
    if f.scale is not None:
        return pymdb.FloatParameter(system, f.name, bits=64, encoding=_int_encoding(f.bits),
                                    calibrator=pymdb.Polynomial([0.0, f.scale]), **common)
    return pymdb.IntegerParameter(system, f.name, signed=False, bits=_eng_bits(f.bits),
                                  encoding=_int_encoding(f.bits), **common)


def _telemetry(system: pymdb.System, d: Dictionary) -> dict[str, pymdb.Parameter]:
    params: dict[str, pymdb.Parameter] = {}

    def entries(fields: tuple[Field, ...]) -> list[pymdb.ParameterEntry]:
        out = []
        for f in fields:
            params[f.name] = _parameter(system, f, params)
            out.append(pymdb.ParameterEntry(params[f.name]))
        return out

    root = pymdb.Container(system, "CCSDSPacket", entries(primary_header()), abstract=True,
                           short_description="CCSDS space packet: the primary header")
    tm = pymdb.Container(
        system, "TM", entries(secondary_header()), base=root, abstract=True,
        condition=pymdb.all_of(pymdb.eq(params["ccsds_type"], 0),
                               pymdb.eq(params["ccsds_secondary_header"], 1)),
        short_description="telemetry: the secondary header (mission time as CUC 4+2, "
        "no P-field)")
    for p in packets(d):
        pymdb.Container(system, p.name, entries(p.fields), base=tm, short_description=p.doc,
                        condition=pymdb.eq(params["ccsds_apid"], p.apid), hint_partition=True)
    return params


def _argument(name: str, a: Arg) -> pymdb.Argument:
    desc: dict[str, Any] = {"short_description": a.doc or None,
                            "units": None if a.units in ("-", "") else a.units}
    if a.type == "str":
        return pymdb.EnumeratedArgument(name, choices=list(enumerate(a.choices)),
                                        encoding=pymdb.uint8_t, **desc)
    if a.type == "bool":
        return pymdb.BooleanArgument(name, encoding=pymdb.uint8_t, **desc)
    if a.type == "bytes":
        return pymdb.BinaryArgument(name, max_length=a.size,
                                    encoding=pymdb.BinaryEncoding(bits=a.size * 8), **desc)
    if a.type == "float":
        bits = BITS[a.encoding]
        return pymdb.FloatArgument(name, 32 if bits == 32 else 64, minimum=a.min,
                                   maximum=a.max, encoding=pymdb.FloatEncoding(bits=bits),
                                   **desc)
    signed = a.encoding == "i32"
    scheme = (pymdb.IntegerEncodingScheme.TWOS_COMPLEMENT if signed
              else pymdb.IntegerEncodingScheme.UNSIGNED)
    return pymdb.IntegerArgument(
        name, signed=signed, bits=BITS[a.encoding],
        minimum=None if a.min is None else int(a.min),
        maximum=None if a.max is None else int(a.max),
        encoding=pymdb.IntegerEncoding(bits=BITS[a.encoding], scheme=scheme), **desc)


def _base_command(system: pymdb.System) -> pymdb.Command:
    head = {f.name: f for f in primary_header()}
    length = pymdb.IntegerArgument("ccsds_packet_length", signed=False, bits=16,
                                   encoding=pymdb.uint16_t,
                                   short_description="packet bytes - 7 (set per command)")
    opcode = pymdb.IntegerArgument("opcode", signed=False, bits=16, encoding=pymdb.uint16_t,
                                   short_description="the command's opcode (set per command)")
    values = tc_fixed_header()

    def fixed(name: str, doc: str = "") -> pymdb.FixedValueEntry:
        bits = head[name].bits
        raw = values[name].to_bytes((bits + 7) // 8, "big")
        return pymdb.FixedValueEntry(raw, name, bits=bits, short_description=doc or None)

    return pymdb.Command(
        system, "TC", abstract=True, arguments=[length, opcode],
        short_description="telecommand: CCSDS primary header (no secondary header), opcode",
        extra={
            "crc": f"appended to every TC by the link: {CRC_NAME} over every byte before "
                   "it, big-endian (Yamcs: PusCommandPostprocessor, errorDetection "
                   "CRC-16-CCIIT; XTCE cannot compute a CRC)",
            "sequence_count": "set by the link (Yamcs postprocessing), modulo 16384",
        },
        entries=[fixed("ccsds_version"), fixed("ccsds_type"), fixed("ccsds_secondary_header"),
                 fixed("ccsds_apid"), fixed("ccsds_sequence_flags"),
                 fixed("ccsds_sequence_count", "set by the link"),
                 pymdb.ArgumentEntry(length), pymdb.ArgumentEntry(opcode)])


def _verifiers(cmd: pymdb.Command, name: str, params: dict[str, pymdb.Parameter]) -> None:
    opcode, stage = params["verify_opcode"], params["verify_stage"]

    def stage_is(*stages: str) -> pymdb.ExpressionCheck:
        which = (pymdb.eq(stage, stages[0]) if len(stages) == 1
                 else pymdb.any_of(*(pymdb.eq(stage, s) for s in stages)))
        return pymdb.ExpressionCheck(pymdb.all_of(pymdb.eq(opcode, name), which))

    cmd.accepted_verifier = pymdb.AcceptedVerifier(check=stage_is("accepted"),
                                                   timeout=ACCEPT_TIMEOUT_S)
    cmd.complete_verifiers = [pymdb.CompleteVerifier(
        check=stage_is("completed"), timeout=COMPLETE_TIMEOUT_S,
        on_timeout=pymdb.TerminationAction.FAIL)]
    cmd.failed_verifier = pymdb.FailedVerifier(check=stage_is("rejected", "failed"),
                                               timeout=COMPLETE_TIMEOUT_S)


def _command(system: pymdb.System, base: pymdb.Command, name: str, c: DictCommand,
             params: dict[str, pymdb.Parameter]) -> pymdb.Command:
    args = [_argument(n, a) for n, a in c.args.items()]
    hazard = hazard_text(c)
    level = pymdb.CommandLevel.NORMAL
    if hazard:
        level = pymdb.CommandLevel.CRITICAL if c.hazardous is True else pymdb.CommandLevel.VITAL
    cmd = pymdb.Command(
        system, name, base=base, short_description=c.doc.split(". ")[0][:200] or None,
        long_description=c.doc or None, arguments=args,
        assignments={"opcode": c.opcode, "ccsds_packet_length": tc_size(c) - 7},
        # the CRC is not an entry: the link appends it (Yamcs: PusCommandPostprocessor
        # with errorDetection CRC-16-CCIIT, which also writes the length and sequence count)
        entries=[pymdb.ArgumentEntry(a) for a in args],
        level=level, warning_message=hazard or None,
        extra={"opcode": str(c.opcode), "sources": ", ".join(c.sources)})
    _verifiers(cmd, name, params)
    return cmd


def build_system(d: Dictionary = DICTIONARY) -> pymdb.System:
    """The whole mission database as a pymdb system.

    Raises:
        ConfigError: the dictionary cannot be exported (a name used twice, an argument
            named like a field of the TC).
    """
    check_commands(d)
    system = pymdb.System(SYSTEM, short_description="lunar water-mining payload: telemetry "
                          "and telecommands of the ground link (CCSDS space packets)")
    params = _telemetry(system, d)
    base = _base_command(system)
    for name, c in d.commands.items():
        _command(system, base, name, c, params)
    return system


def xtce_text(d: Dictionary = DICTIONARY) -> str:
    """The XTCE 1.2 document.

    Raises:
        ConfigError: the dictionary cannot be exported (see :func:`build_system`), or
            pymdb refuses it (naming what).
    """
    try:
        return _Generator(build_system(d), version="1.2", indent="  ").to_xtce()
    except (DuplicateNameError, ExportError) as exc:
        raise ConfigError(f"{d.source}", f"cannot be exported as XTCE: {exc}") from None


def write_xtce(path: str | Path) -> Path:
    """Write the dictionary as XTCE 1.2 to ``path`` (its directory made if missing).

    Raises:
        ConfigError: ``path`` cannot be written (a directory, no permission, no room).
    """
    return write_export(path, xtce_text(), "--xtce")

"""The dictionary as an OpenC3 COSMOS target: ``targets/THERMINE/`` with ``target.txt``
and ``cmd_tlm/cmd.txt`` and ``tlm.txt``, plus a ``plugin.txt`` with a UDP interface on
the ports the ground link uses (Yamcs quickstart's: TM to 10015, TC to 10025) and the
CRC protocol that fills every telecommand's CRC-16/CCITT-FALSE.

Telemetry: one packet per APID (HK, LINK, OPS, EVENT, VERIFY), every item at its bit offset
(big-endian), identified by ``CCSDS_APID`` (an ID_ITEM); units, STATES for the state, the
booleans (FAILED = 0xFF, a failed reading) and every enumeration, LIMITS from the
dictionary: yellow outside ``plausible`` (what a checkout accepts at rest), red outside
what the board can report (its housekeeping encoding's range). Commands: one per
dictionary row, identified by ``CCSDS_APID`` and ``OPCODE`` (ID_PARAMETERs), arguments
with ranges, STATES for str arguments, a bytes argument as a BLOCK of its fixed size
(COSMOS pads a shorter value with zeros, as flight expects), REQUIRED (no default is sent
by accident), and ``HAZARDOUS`` for the commands that always need an ARM.

To use it: copy ``targets/THERMINE`` and ``plugin.txt`` into a plugin made by
``openc3cli generate plugin``, build and install it.
"""

from __future__ import annotations

from pathlib import Path

from common.dictionary import DICTIONARY, Dictionary
from common.dictionary.command_rows import Arg
from common.dictionary.command_rows import Command as DictCommand
from common.errors import ConfigError
from ground.export.model import (
    CRC_INIT,
    CRC_NAME,
    CRC_POLY,
    SYSTEM,
    TC_OPCODE_BITS,
    U8_FAILED,
    Field,
    Packet,
    arg_bits,
    check_commands,
    hazard_text,
    packets,
    primary_header,
    tc_header_values,
    tc_size,
)

TARGET = SYSTEM
UNIT_NAMES = {"K": "Kelvin", "Pa": "Pascal", "kg": "Kilograms", "V": "Volts", "A": "Amps",
              "W": "Watts", "s": "Seconds", "count": "Count", "byte": "Bytes", "J": "Joules"}
#: state colours in COSMOS displays
COLOURS = {"SAFE": "YELLOW", "UNKNOWN": "RED", "FAILED": "RED", "warning": "YELLOW",
           "rejected": "RED", "failed": "RED"}
_COSMOS_TYPE = {"u": "UINT", "i": "INT", "f": "FLOAT", "s": "STRING"}
TC_PORT, TM_PORT = 10025, 10015


def _q(text: str) -> str:
    """A double-quoted COSMOS string (no double quotes inside)."""
    return '"' + " ".join(text.replace('"', "'").split()) + '"'


def _units(unit: str) -> list[str]:
    return [f"    UNITS {UNIT_NAMES.get(unit, unit)} {unit}"] if unit else []


def _states(states: tuple[tuple[int, str], ...]) -> list[str]:
    out = []
    for value, label in states:
        colour = COLOURS.get(label, "")
        out.append(f"    STATE {label} {value}" + (f" {colour}" if colour else ""))
    return out


def _item(f: Field, packet: Packet) -> list[str]:
    cosmos_type = _COSMOS_TYPE[f.type[0]]
    if f.bit_offset is None:
        raise ValueError(f"{packet.name}.{f.name}: no fixed offset")
    keyword, id_value = "ITEM", ""
    if f.name == "ccsds_apid":
        keyword, id_value = "ID_ITEM", f" {packet.apid}"
    lines = [f"  {keyword} {f.name.upper()} {f.bit_offset} {f.bits} {cosmos_type}{id_value} "
             f"{_q(f.doc or f.name)}"]
    lines += _units(f.unit)
    if f.kind == "bool":
        lines += _states((*f.states, (U8_FAILED, "FAILED")))
    elif f.kind == "enum":
        lines += _states(f.states)
    if f.scale is not None:
        lines.append(f"    POLY_READ_CONVERSION 0 {f.scale!r}")
    if f.warning is not None:
        red = f.critical or f.warning
        lines.append(f"    LIMITS DEFAULT 1 ENABLED {red[0]!r} {f.warning[0]!r} "
                     f"{f.warning[1]!r} {red[1]!r}")
    if f.type.startswith("f"):
        lines.append('    FORMAT_STRING "%.6g"')
    return lines


def tlm_text(d: Dictionary = DICTIONARY) -> str:
    """``cmd_tlm/tlm.txt``: every telemetry packet."""
    lines = [f"# {TARGET} telemetry, generated from the dictionary (thermine dictionary "
             "export): do not edit", ""]
    for p in packets(d):
        lines.append(f"TELEMETRY {TARGET} {p.name} BIG_ENDIAN {_q(p.doc)}")
        for f in (*p.header, *p.fields):
            lines += _item(f, p)
        lines.append("")
    return "\n".join(lines)


def _range(a: Arg) -> tuple[str, str, str]:
    """min, max and default of a numeric argument (the default: its minimum, else 0)."""
    num = float if a.type == "float" else int
    lo = "MIN" if a.min is None else repr(num(a.min))
    hi = "MAX" if a.max is None else repr(num(a.max))
    default = a.min if a.min is not None else min(0.0, a.max) if a.max is not None else 0.0
    return lo, hi, repr(num(default))


def _parameter(name: str, a: Arg, offset: int) -> list[str]:
    bits = arg_bits(a)
    doc = _q(a.doc or name)
    if a.type == "bytes":  # a fixed-size BLOCK (default: zeros)
        lines = [f"  PARAMETER {name.upper()} {offset} {bits} BLOCK 0x00 {doc}"]
    elif a.type == "str":
        lines = [f"  PARAMETER {name.upper()} {offset} {bits} UINT 0 {len(a.choices) - 1} 0 {doc}"]
        lines += _states(tuple(enumerate(a.choices)))
    elif a.type == "bool":
        lines = [f"  PARAMETER {name.upper()} {offset} {bits} UINT 0 1 0 {doc}"]
        lines += _states(((0, "FALSE"), (1, "TRUE")))
    else:
        kind = "FLOAT" if a.type == "float" else ("INT" if a.encoding == "i32" else "UINT")
        lo, hi, default = _range(a)
        lines = [f"  PARAMETER {name.upper()} {offset} {bits} {kind} {lo} {hi} {default} {doc}"]
    lines += _units("" if a.units in ("-", "") else a.units)
    lines.append("    REQUIRED")
    return lines


def _command(name: str, c: DictCommand) -> list[str]:
    head = tc_header_values(c)
    lines = [f"COMMAND {TARGET} {name} BIG_ENDIAN {_q(c.doc)}"]
    if c.hazardous is True:
        lines.append(f"  HAZARDOUS {_q(hazard_text(c))}")
    elif hazard_text(c):  # hazardous above a value: COSMOS can only say so
        lines.append(f"  META HAZARD {_q(hazard_text(c))}")
    for f in primary_header():
        value = head[f.name]
        if f.name == "ccsds_sequence_count":
            lines.append(f"  PARAMETER {f.name.upper()} {f.bit_offset} {f.bits} UINT MIN MAX 0 "
                         f"{_q(f.doc)}")
            continue
        keyword = "ID_PARAMETER" if f.name == "ccsds_apid" else "PARAMETER"
        lines.append(f"  {keyword} {f.name.upper()} {f.bit_offset} {f.bits} UINT {value} {value} "
                     f"{value} {_q(f.doc)}")
    offset = sum(f.bits for f in primary_header())
    lines.append(f"  ID_PARAMETER OPCODE {offset} {TC_OPCODE_BITS} UINT {c.opcode} {c.opcode} "
                 f"{c.opcode} \"the command's opcode\"")
    offset += TC_OPCODE_BITS
    for arg_name, a in c.args.items():
        lines += _parameter(arg_name, a, offset)
        offset += arg_bits(a)
    lines.append(f"  PARAMETER CRC {offset} 16 UINT MIN MAX 0 "
                 f"{_q(CRC_NAME + ' over every byte before it: the interface fills it')}")
    if offset + 16 != tc_size(c) * 8:
        raise ValueError(f"{name}: {offset + 16} bits laid out, the TC has {tc_size(c) * 8}")
    return lines


def cmd_text(d: Dictionary = DICTIONARY) -> str:
    """``cmd_tlm/cmd.txt``: every command of the dictionary.

    Raises:
        ConfigError: an argument is named like a field of the TC itself.
    """
    check_commands(d)
    lines = [f"# {TARGET} commands, generated from the dictionary (thermine dictionary export): "
             "do not edit", ""]
    for name, c in d.commands.items():
        lines += _command(name, c)
        lines.append("")
    return "\n".join(lines)


def target_text() -> str:
    """``target.txt``: Python target; the header fields every packet shares are hidden."""
    lines = [f"# {TARGET}: generated by thermine dictionary export", "LANGUAGE python"]
    for f in primary_header():
        if f.name != "ccsds_apid":
            lines.append(f"IGNORE_PARAMETER {f.name.upper()}")
            lines.append(f"IGNORE_ITEM {f.name.upper()}")
    lines += ["IGNORE_PARAMETER CCSDS_APID", "IGNORE_PARAMETER CRC",
              "COMMANDS cmd.txt", "TELEMETRY tlm.txt", ""]
    return "\n".join(lines)


def plugin_text() -> str:
    """``plugin.txt``: the target on a UDP interface, with the CRC of every TC."""
    return "\n".join([
        "# thermine's ground link: one UDP datagram per CCSDS space packet. Fly with",
        f"#   thermine run --ground udp://<this host>:{TM_PORT} "
        f"--uplink udp://0.0.0.0:{TC_PORT}",
        "# (binding the uplink beyond 127.0.0.1 lets anyone on the network command it).",
        "VARIABLE thermine_host host.docker.internal",
        f"VARIABLE thermine_tc_port {TC_PORT}",
        f"VARIABLE thermine_tm_port {TM_PORT}",
        f"TARGET {TARGET} {TARGET}",
        "INTERFACE THERMINE_INT openc3/interfaces/udp_interface.py <%= thermine_host %> "
        "<%= thermine_tc_port %> <%= thermine_tm_port %>",
        f"  MAP_TARGET {TARGET}",
        f"  # {CRC_NAME} in the last two bytes of every TC",
        "  PROTOCOL WRITE openc3/interfaces/protocols/crc_protocol.py CRC FALSE ERROR -16 16 "
        f"BIG_ENDIAN {CRC_POLY:#06x} {CRC_INIT:#06x} FALSE FALSE",
        "",
    ])


def write_cosmos(directory: str | Path) -> Path:
    """Write ``plugin.txt`` and ``targets/THERMINE/`` under ``directory`` (made if
    missing; files of an earlier export are replaced); returns the target directory.

    Raises:
        ConfigError: ``directory`` is a file, or a file cannot be written.
    """
    root = Path(directory)
    target = root / "targets" / TARGET
    files = {root / "plugin.txt": plugin_text(), target / "target.txt": target_text(),
             target / "cmd_tlm" / "cmd.txt": cmd_text(),
             target / "cmd_tlm" / "tlm.txt": tlm_text()}
    if root.exists() and not root.is_dir():
        raise ConfigError(f"--cosmos {root}", "is a file, not a directory")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--cosmos {root}", f"cannot write {exc.filename or root}: "
                          f"{exc.strerror or exc}") from None
    return target

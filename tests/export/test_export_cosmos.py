"""The COSMOS export, read by OpenC3's own Python packet-definition parser (the
``openc3`` package: PacketConfig, Target, Telemetry/Commands identification, the
CrcProtocol; no server needed): the target parses without warnings, identifies and
decodes a real SIL mission's downlink like telemetry.jsonl, and builds every command
byte for byte as flight's ``encode_tc`` does. Independently of openc3, every item's bit
offset and size are checked against the struct layouts of flight.tmtc.layout."""

from __future__ import annotations

import logging
import re
import shlex
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.dictionary import DICTIONARY
from flight.tmtc.layout import CODES, HK, LINK, OPS, from_cuc
from flight.tmtc.uplink import encode_tc

# openc3's import configures the root logger (logging.basicConfig at INFO): keep the
# session's logging as it was, so transitions' INFO messages stay quiet in other tests
_root = logging.getLogger()
_saved = _root.handlers[:], _root.level
try:
    pytest.importorskip("openc3", reason="openc3 (dev extra) is not installed")
    from openc3.interfaces.protocols.crc_protocol import CrcProtocol
    from openc3.packets.commands import Commands
    from openc3.packets.packet_config import PacketConfig
    from openc3.packets.telemetry import Telemetry
    from openc3.system.target import Target
    from openc3.utilities.logger import Logger
finally:
    _root.handlers[:] = _saved[0]
    _root.setLevel(_saved[1])

TARGET = "THERMINE"
TM_DATA_START = 96  # bits: primary + secondary header


@pytest.fixture(scope="module", autouse=True)
def no_server() -> Iterator[None]:
    """openc3's logger would queue its messages for the COSMOS store (a Redis server,
    looked up by name in a thread): keep them here, and quiet."""
    saved = Logger.no_store, Logger.stdout
    Logger.no_store, Logger.stdout = True, False
    yield
    Logger.no_store, Logger.stdout = saved


@pytest.fixture(scope="module")
def config(exports: Any) -> PacketConfig:
    target = Target(TARGET, str(exports.cosmos.parent))
    assert target.language == "python"
    pc = PacketConfig()
    for f in target.cmd_tlm_files:
        pc.process_file(str(f), TARGET)
    assert pc.warnings == []
    return pc


def test_target_lists_its_files_and_hides_the_header(exports: Any) -> None:
    target = Target(TARGET, str(exports.cosmos.parent))
    assert [Path(f).name for f in target.cmd_tlm_files] == ["cmd.txt", "tlm.txt"]
    assert "CCSDS_SEQUENCE_COUNT" in target.ignored_parameters
    assert "CRC" in target.ignored_parameters
    assert "CCSDS_APID" not in target.ignored_items  # telemetry shows which packet it is


def _struct_offsets(fmt: str) -> list[int]:
    """Bit offset of every value of a big-endian struct format (no padding)."""
    codes = fmt.lstrip(">")
    return [8 * struct.calcsize(">" + codes[:i]) for i in range(len(codes))]


def _items(tlm: str, packet: str) -> dict[str, tuple[int, int, str]]:
    block = re.search(rf"^TELEMETRY {TARGET} {packet} .*?(?=^TELEMETRY |\Z)", tlm, re.S | re.M)
    assert block, packet
    out = {}
    for line in block.group(0).splitlines():
        words = shlex.split(line)
        if words and words[0] in ("ITEM", "ID_ITEM"):
            out[words[1]] = (int(words[2]), int(words[3]), words[4])
    return out


@pytest.mark.parametrize("layout", [HK, LINK, OPS], ids=["HK", "LINK", "OPS"])
def test_item_offsets_match_the_flight_layout(exports: Any, layout: Any) -> None:
    """Read the generated text itself: offsets, sizes, types from flight.tmtc.layout."""
    items = _items((exports.cosmos / "cmd_tlm" / "tlm.txt").read_text(), layout.name)
    kinds = {"B": "UINT", "H": "UINT", "I": "UINT", "i": "INT", "f": "FLOAT", "d": "FLOAT"}
    for f, offset in zip(layout.fields, _struct_offsets(layout.fmt), strict=True):
        code = CODES[f.type]
        assert items[f.name.upper()] == (TM_DATA_START + offset, 8 * struct.calcsize(code),
                                         kinds[code]), f.name
    assert items["CCSDS_APID"] == (5, 11, "UINT")
    assert items["TIME_COARSE"] == (48, 32, "UINT")
    assert items["TIME_FINE"] == (80, 16, "UINT")


def _read(packet: Any, fields: Any) -> dict[str, tuple[Any, Any]]:
    return {f.name: (packet.read(f.name.upper()), packet.read(f.name.upper(), "RAW"))
            for f in fields}


def test_identifies_and_decodes_the_mission_downlink(config: PacketConfig, mission: Any,
                                                     hk_check: Any, ops_check: Any) -> None:
    tlm = Telemetry(config, None)
    rows = iter(mission.telemetry)
    names: dict[str, int] = {}
    row: dict[str, Any] = {}
    for raw in mission.packets:
        packet = tlm.identify_and_set_buffer(raw, [TARGET])
        assert packet is not None, raw[:6].hex()
        names[packet.packet_name] = names.get(packet.packet_name, 0) + 1
        t_s = packet.read("TIME_COARSE") + packet.read("TIME_FINE")
        if packet.packet_name == "OPS":  # the figures of the HK sample before it
            ops_check("openc3", t_s, _read(packet, OPS.fields), row, row["t_s"])
        if packet.packet_name != "HK":
            continue
        row = next(rows)
        hk_check("openc3", t_s, _read(packet, HK.fields), row)
        packet.check_limits()
        heater = packet.get_item("HEATER_TEMP_K")
        assert heater.limits.state in ("GREEN", "YELLOW_HIGH", "YELLOW_LOW"), heater.limits.state
    assert names["HK"] == len(mission.telemetry)
    assert names.get("OPS", 0) in (0, names["HK"])  # with every HK sample, or never
    if mission.source == "downlink.bin":
        assert names["EVENT"] == len(mission.events)
        event = tlm.identify_and_set_buffer(next(p for p in mission.packets
                                                 if p[1] == DICTIONARY.apids["EVENT"] & 0xFF),
                                            [TARGET])
        # COSMOS shows every state in capitals
        assert event is not None
        assert event.read("EVENT_ID") == mission.events[0]["event"].upper()
        assert event.read("EVENT_TEXT").startswith("{")


def test_decodes_every_ops_figure(config: PacketConfig, ops_stream: Any,
                                  ops_check: Any) -> None:
    tlm = Telemetry(config, None)
    for raw, figures in ops_stream:
        packet = tlm.identify_and_set_buffer(raw, [TARGET])
        assert packet is not None and packet.packet_name == "OPS"
        ops_check("openc3", packet.read("TIME_COARSE") + packet.read("TIME_FINE"),
                  _read(packet, OPS.fields), figures, from_cuc(raw[6:12]))


def test_bool_and_failed_readings_read_as_states(config: PacketConfig) -> None:
    from flight.tmtc.downlink import Downlink

    packets: list[bytes] = []
    Downlink([packets.append]).housekeeping(1.0, "SAFE", {"valve_open": None},
                                            {"valve_open": True})
    packet = Telemetry(config, None).identify_and_set_buffer(packets[0], [TARGET])
    assert packet is not None
    assert packet.read("STATE") == "SAFE"
    assert packet.read("VALVE_OPEN") == "FAILED"
    assert packet.read("CMD_VALVE_OPEN") == "TRUE"


def _crc_protocol(plugin: Path) -> CrcProtocol:
    """The CrcProtocol exactly as plugin.txt configures it."""
    line = next(ln for ln in plugin.read_text().splitlines()
                if ln.strip().startswith("PROTOCOL WRITE"))
    words = shlex.split(line)
    assert words[2].endswith("crc_protocol.py")
    return CrcProtocol(*words[3:])


@pytest.mark.parametrize("name", list(DICTIONARY.commands))
def test_command_builds_byte_for_byte_like_flight(config: PacketConfig, exports: Any,
                                                  name: str, args_for: Any) -> None:
    args = args_for(name)
    cmd = config.commands[TARGET][name]
    cmd.restore_defaults()
    for arg, value in args.items():
        cmd.write(arg.upper(), value)
    _crc_protocol(exports.cosmos.parents[1] / "plugin.txt").write_packet(cmd)
    assert bytes(cmd.buffer) == encode_tc(name, args, seq=0)
    assert Commands(config, None).identify(bytes(cmd.buffer), [TARGET]).packet_name == name
    assert cmd.hazardous == (DICTIONARY.commands[name].hazardous is True)
    for arg, a in DICTIONARY.commands[name].args.items():
        item = cmd.get_item(arg.upper())
        assert item.required
        if a.type == "str":  # COSMOS shows every state in capitals
            assert list(item.states) == [ch.upper() for ch in a.choices]
        elif a.type == "bytes":  # a BLOCK of its fixed size
            assert (item.data_type, item.bit_size) == ("BLOCK", a.size * 8)
        elif a.min is not None:
            assert (item.minimum, item.maximum) == (a.min, a.max)

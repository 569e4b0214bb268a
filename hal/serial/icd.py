"""The payload-board wire protocol as data: APIDs, services, payload layouts, error codes.

This module is the single source of truth for both sides (the flight drivers in
``hal/serial`` and the board emulator in ``ground/gse/emulator.py``); ``docs/icd.md``
explains it for someone implementing the board on a microcontroller.

Frame on the wire: ``COBS(space_packet || CRC16) || 0x00`` (see :mod:`hal.serial.framing`).
Space packet: CCSDS primary header (6 bytes, built with ``spacepackets``), no secondary
header. TC (packet type 1) flows flight -> board, TM (type 0) board -> flight.
TC user data: ``service:u8 || payload``. TM user data: ``service:u8 || status:u8 ||
payload``; every TC gets exactly one TM on the same APID with the same sequence count.
All multi-byte fields are big-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from common.dictionary import DICTIONARY, HK_TYPES

MAX_PACKET_BYTES = 128  # whole space packet, header included; longer frames are dropped
SEQ_MODULO = 1 << 14  # 14-bit CCSDS sequence count, one counter per APID


class Apid(IntEnum):
    SYSTEM = 0x010  # ping, housekeeping, time sync
    HEATER = 0x020  # sample heater plate
    TRAP_HEATER = 0x021  # cold-trap melt heater
    VALVE = 0x030  # chamber -> trap valve
    CRYOCOOLER = 0x040
    ELECTROLYZER = 0x050


class Service(IntEnum):
    PING = 0x01  # any APID: no payload -> ACK, no payload
    HOUSEKEEPING = 0x02  # SYSTEM: no payload -> ACK + HK_LAYOUT
    TIME_SYNC = 0x03  # SYSTEM: u32 dt_us -> the lockstep board advances by dt; ACK + u32 time_ms
    RESET = 0x04  # SYSTEM: no payload -> every actuator off, a fresh session; ACK + RESET_LAYOUT
    LOAD_SAMPLE = 0x05  # SYSTEM: no payload -> a fresh scoop in the crucible; ACK + SAMPLE_LAYOUT
    SET_POWER = 0x10  # HEATER, TRAP_HEATER: u16 power [0.01 W]
    SET_ENABLE = 0x14  # HEATER, TRAP_HEATER: u8 load switch 0 open / 1 closed
    SET_OPEN = 0x11  # VALVE: u8 0 closed / 1 open
    SET_ON = 0x12  # CRYOCOOLER: u8 0 off / 1 on
    SET_CURRENT = 0x13  # ELECTROLYZER: u16 current [mA]


class Status(IntEnum):
    """Second byte of every TM: 0 is an acknowledge, anything else a negative one."""

    OK = 0x00
    UNKNOWN_APID = 0x01
    UNKNOWN_SERVICE = 0x02  # the service does not exist on this APID
    BAD_LENGTH = 0x03  # payload length is not the one the ICD gives
    OUT_OF_RANGE = 0x04  # a field is outside its range
    DEVICE_FAULT = 0x05  # the device behind the APID failed to act
    NOT_IN_MODE = 0x06  # e.g. TIME_SYNC to a board that runs on its own clock


@dataclass(frozen=True)
class Field:
    """One field of a fixed payload layout: name (SI, with unit), struct code, scale."""

    name: str
    fmt: str  # struct code, big-endian implied
    scale: float  # SI value = raw * scale
    lo: float  # valid SI range, checked on both sides
    hi: float


@dataclass(frozen=True)
class Layout:
    fields: tuple[Field, ...]

    @property
    def struct(self) -> struct.Struct:
        return struct.Struct(">" + "".join(f.fmt for f in self.fields))

    @property
    def size(self) -> int:
        return self.struct.size

    def pack(self, values: dict[str, float]) -> bytes:
        """SI values -> bytes. Raises ValueError naming a field that is out of range."""
        raw = []
        for f in self.fields:
            v = float(values[f.name])
            if not f.lo <= v <= f.hi:
                raise ValueError(f"{f.name}={v!r} outside [{f.lo}, {f.hi}]")
            raw.append(v if f.fmt == "f" else round(v / f.scale))
        return self.struct.pack(*raw)

    def unpack(self, data: bytes) -> dict[str, float]:
        """bytes -> SI values. Raises ValueError on a wrong length or out-of-range field."""
        if len(data) != self.size:
            raise ValueError(f"payload is {len(data)} bytes, layout needs {self.size}")
        out = {}
        for f, raw in zip(self.fields, self.struct.unpack(data), strict=True):
            inv = round(1.0 / f.scale)
            # raw / 1000 is exact where raw * 0.001 is not (100000 us must be 0.1 s)
            v = float(raw) / inv if f.fmt != "f" and abs(inv * f.scale - 1.0) < 1e-12 \
                else float(raw) * f.scale
            if not f.lo <= v <= f.hi:  # also catches NaN
                raise ValueError(f"{f.name}={v!r} outside [{f.lo}, {f.hi}]")
            out[f.name] = v
        return out


#: Housekeeping: one TM carries every sensor (SYSTEM / HOUSEKEEPING reply payload), the
#: fields and their encodings from the dictionary (common/dictionary/channels.yaml `hk:`)
HK_LAYOUT = Layout(tuple(
    Field(c.name, HK_TYPES[c.hk.type], c.hk.scale, c.hk.min, c.hk.max)  # type: ignore[union-attr]
    for c in DICTIONARY.hk_fields))
TIME_SYNC_LAYOUT = Layout((Field("dt_s", "I", 1.0e-6, 1.0e-6, 60.0),))
#: RESET reply: how the board keeps time and its link-loss watchdog, so the flight side
#: can refuse a session whose time mode it does not share and follow the board's speed
RESET_LAYOUT = Layout((
    Field("lockstep", "B", 1.0, 0.0, 1.0),  # 1: TIME_SYNC moves the board; 0: its own clock
    Field("speed", "H", 0.01, 0.01, 655.35),  # board seconds per wall second (1 on hardware)
    Field("watchdog_s", "H", 0.01, 0.01, 655.35),  # link-loss timeout [s] (wall time)
))
#: time modes of :data:`RESET_LAYOUT`'s ``lockstep`` field
TIME_MODE_OF_LOCKSTEP = {1.0: "lockstep", 0.0: "realtime"}
TIME_LAYOUT = Layout((Field("time_s", "I", 1.0e-3, 0.0, 4294967.295),))
#: LOAD_SAMPLE reply: the number of the scoop now in the crucible (1: the session's first;
#: RESET starts the count again)
SAMPLE_LAYOUT = Layout((Field("scoop", "H", 1.0, 1.0, 65535.0),))
POWER_LAYOUT = Layout((Field("power_w", "H", 0.01, 0.0, 655.35),))
SWITCH_LAYOUT = Layout((Field("on", "B", 1.0, 0.0, 1.0),))
CURRENT_LAYOUT = Layout((Field("current_a", "H", 0.001, 0.0, 65.535),))
EMPTY = Layout(())

#: (APID, service) -> (TC payload layout, TM reply payload layout). Anything not here is
#: refused with UNKNOWN_APID or UNKNOWN_SERVICE.
COMMANDS: dict[tuple[Apid, Service], tuple[Layout, Layout]] = {
    **{(apid, Service.PING): (EMPTY, EMPTY) for apid in Apid},
    (Apid.SYSTEM, Service.HOUSEKEEPING): (EMPTY, HK_LAYOUT),
    (Apid.SYSTEM, Service.TIME_SYNC): (TIME_SYNC_LAYOUT, TIME_LAYOUT),
    (Apid.SYSTEM, Service.RESET): (EMPTY, RESET_LAYOUT),
    (Apid.SYSTEM, Service.LOAD_SAMPLE): (EMPTY, SAMPLE_LAYOUT),
    (Apid.HEATER, Service.SET_POWER): (POWER_LAYOUT, EMPTY),
    (Apid.TRAP_HEATER, Service.SET_POWER): (POWER_LAYOUT, EMPTY),
    (Apid.HEATER, Service.SET_ENABLE): (SWITCH_LAYOUT, EMPTY),
    (Apid.TRAP_HEATER, Service.SET_ENABLE): (SWITCH_LAYOUT, EMPTY),
    (Apid.VALVE, Service.SET_OPEN): (SWITCH_LAYOUT, EMPTY),
    (Apid.CRYOCOOLER, Service.SET_ON): (SWITCH_LAYOUT, EMPTY),
    (Apid.ELECTROLYZER, Service.SET_CURRENT): (CURRENT_LAYOUT, EMPTY),
}

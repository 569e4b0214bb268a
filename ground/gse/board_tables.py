"""The board emulator's tables: where each housekeeping field and actuator TC goes on the
simulated devices, and the statistics the board keeps. Data only; the protocol is
:mod:`ground.gse.emulator`."""

from __future__ import annotations

from dataclasses import dataclass, field

from common.dictionary import DICTIONARY
from hal.serial import icd

#: housekeeping field -> (device role, port method), from the dictionary; cryocooler_on
#: (a status field, no sensor of flight's) comes from the plant's inputs
HK_SOURCES: dict[str, tuple[str, str]] = {
    c.name: DICTIONARY.sensors[c.name] for c in DICTIONARY.hk_fields
    if c.name in DICTIONARY.sensors}
#: actuator (APID, service) -> (device role, port method, TC field); switches take a bool
ACTUATORS: dict[tuple[int, int], tuple[str, str, str]] = {
    (icd.Apid.HEATER, icd.Service.SET_POWER): ("heater", "set_power_w", "power_w"),
    (icd.Apid.TRAP_HEATER, icd.Service.SET_POWER): ("trap_heater", "set_power_w", "power_w"),
    (icd.Apid.HEATER, icd.Service.SET_ENABLE): ("heater", "set_enabled", "on"),
    (icd.Apid.TRAP_HEATER, icd.Service.SET_ENABLE): ("trap_heater", "set_enabled", "on"),
    (icd.Apid.VALVE, icd.Service.SET_OPEN): ("valve", "set_open", "on"),
    (icd.Apid.CRYOCOOLER, icd.Service.SET_ON): ("cryocooler", "set_on", "on"),
    (icd.Apid.ELECTROLYZER, icd.Service.SET_CURRENT):
        ("electrolyzer", "set_current_a", "current_a"),
}
APIDS = frozenset(a.value for a in icd.Apid)
SERVICES = frozenset(s.value for s in icd.Service)


@dataclass
class Statistics:
    """What the board saw and did (a snapshot; counts only grow)."""

    frames_in: int = 0  # frames that decoded into a packet
    bytes_in: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    too_long: int = 0
    bad_packets: int = 0
    empty_frames: int = 0
    tcs: int = 0  # TCs handled, duplicates included
    acks: int = 0
    nacks: int = 0  # DEVICE_FAULT included
    device_faults: int = 0
    duplicates: int = 0  # retries answered from the stored reply
    tm_ignored: int = 0  # packets of the wrong type (TM) received
    frames_out: int = 0  # reply frames produced
    bytes_out: int = 0  # bytes the transport wrote
    tx_dropped: int = 0  # reply bytes nobody took
    clients: int = 0
    disconnects: int = 0
    plant_steps: int = 0  # real-time steps
    resets: int = 0  # RESET TCs executed (sessions opened)
    watchdog_trips: int = 0  # times the link-loss watchdog turned the actuators off
    errors: list[str] = field(default_factory=list)  # the last few reasons, newest last

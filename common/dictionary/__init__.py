"""The dictionary: one row per channel and event, validated at load; everything else is
derived from it (DESIGN.md, "The dictionary").

``channels.yaml`` lists the sensors flight reads, the actuators it commands, the
platform's diagnostics, the board's status fields and the telemetry packets (APIDs);
``commands.yaml`` every command with its opcode and argument encodings
(:mod:`common.dictionary.command_rows`); ``events.yaml`` every event with its severity.
The tables the rest of the code uses are views of the loaded :class:`Dictionary`:

- :attr:`Dictionary.sensors`: telemetry name -> (device role, read method)
- :attr:`Dictionary.actuators`: command name -> (device role, write method)
- :attr:`Dictionary.safe_commands`: command name -> its SAFE value
- :attr:`Dictionary.devices`: device role -> kind (what a hardware YAML must have)
- :attr:`Dictionary.hk_fields`: the board's housekeeping fields, in order
- :attr:`Dictionary.plausible`: checkout ranges, :attr:`Dictionary.severity`: events
- :attr:`Dictionary.stale`: sensor -> its stale time, FDIR response, monitor id
- :attr:`Dictionary.command_table`: the commands as plain data (:mod:`flight.commands`)
- :attr:`Dictionary.precision`: telemetry.jsonl key -> how its floats are written
  (:meth:`Channel.precision`: decimals or significant digits)

The dictionary in force is :data:`DICTIONARY`, read from this package, or from the
directory named by the environment variable ``THERMINE_DICTIONARY`` (a copy with a new
channel, say; read once, at import).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from common.dictionary.command_rows import Command, command_table, load_commands
from common.errors import ConfigError
from common.schema import load, param, read_yaml

HERE = Path(__file__).resolve().parent
HK_TYPES = {"u8": "B", "u16": "H", "u32": "I", "f32": "f"}
KINDS = ("thermometer", "pressure_gauge", "mass_gauge", "heater", "valve", "cryocooler",
         "electrolyzer", "power_monitor")
SEVERITIES = ("info", "warning")
#: the finest and the coarsest ``resolution:`` a row may give (a power of ten)
RESOLUTION_DECIMALS = (0, 15)
#: the fewest and the most ``digits:`` (17: every float64 exactly)
DIGITS = (1, 17)


@dataclass(frozen=True)
class Device:
    role: str = param("", doc="device role in the hardware YAML (devices.<role>)")
    kind: str = param("thermometer", choices=KINDS, doc="device kind (hal/interfaces.py KINDS)")
    read: str = param("", doc="sensor: the port method that reads it")
    write: str = param("", doc="actuator: the port method that sets it")


@dataclass(frozen=True)
class Hk:
    slot: int = param(0, 0, 255, "its place in the housekeeping TM (0 first)")
    type: str = param("f32", choices=tuple(HK_TYPES), doc="encoding in the housekeeping TM")
    scale: float = param(1.0, 1e-12, 1e6, "SI value = raw x scale")
    min: float = param(0.0, doc="lowest valid SI value")
    max: float = param(1.0, doc="highest valid SI value")


@dataclass(frozen=True)
class Stale:
    after_s: float = param(3.0, 0.01, 3600.0, "a reading missing this long trips its monitor")
    response: str = param("SAFE", doc="the FDIR table's response to it (SAFE, LOG or a name)")
    monitor: str = param("", doc="the monitor's id (default: the name without its unit, "
                         "+ _stale)")
    enabled_in: Any = param("all", doc="'all' or the states it watches in")


@dataclass(frozen=True)
class Packet:
    name: str = param(doc="packet name (HK, LINK, EVENT, VERIFY, TC)")
    apid: int = param(lo=0, hi=0x7FE, doc="its CCSDS APID (0x7FF is the idle packet's)")
    type: str = param("tm", choices=("tm", "tc"), doc="telemetry or telecommand")
    doc: str = param("", doc="what it carries")


@dataclass(frozen=True)
class Channel:
    name: str = param(doc="telemetry name, SI unit in the name where it could be doubted")
    unit: str = param(doc="SI unit, '-' for a state")
    doc: str = param("", doc="what it is")
    device: Device | None = param(None, doc="the device that reads or sets it")
    hk: Hk | None = param(None, doc="its field in the board's housekeeping TM")
    plausible: list[float] = param([], doc="sensor: [lo, hi] a checkout accepts at rest")
    safe: Any = param(None, doc="actuator: its value in SAFE")
    stale: Stale | None = param(None, doc="sensor: the stale monitor on it, if any")
    packet: str = param("HK", doc="the telemetry packet that carries it (packets:)")
    tm: str = param("", choices=("", "u8", "u16", "u32", "f32", "f64"),
                    doc="its encoding in that packet (default: u8 for unit '-', else f32)")
    resolution: float | None = param(None, doc="a float channel's resolution in "
                                     "telemetry.jsonl, in its unit: a power of ten, 1e-15 "
                                     "to 1 (0.01: two decimals); default: a scaled-integer "
                                     "hk field's scale")
    digits: int | None = param(None, doc="instead of resolution: the significant digits "
                               "telemetry.jsonl keeps (1 to 17), for a range of decades")

    @property
    def tm_type(self) -> str:
        """Its encoding in its telemetry packet."""
        return self.tm or ("u8" if self.unit == "-" else "f32")

    @property
    def is_float(self) -> bool:
        """Its telemetry value is a float (a u8/u16/u32 channel's is a bool or an int)."""
        return self.tm_type in ("f32", "f64")

    @property
    def precision(self) -> tuple[str, int] | None:
        """How telemetry.jsonl writes its floats: ``("decimals", n)`` (rounded to
        10**-n of its unit) or ``("digits", n)`` (n significant digits); None for a
        channel that is not a float, or has no resolution (a row the loader has not
        checked). The rule (channels.yaml's header, docs/tmtc.md): ``digits``, else
        ``resolution``, else a scaled-integer hk field's ``scale`` (the decimal place at
        or below it: never coarser than the board's own quantum)."""
        if not self.is_float:
            return None
        if self.digits is not None:
            return ("digits", self.digits)
        if self.resolution is not None:
            return ("decimals", decimals_of(self.resolution))
        if self.hk is not None and self.hk.type != "f32":
            return ("decimals", max(0, decimals_of(self.hk.scale)))
        return None


def decimals_of(resolution: float) -> int:
    """The decimal place of ``resolution`` [its unit]: n for 10**-n, and for any other
    value the place at or below it (0.02 -> 2, 0.5 -> 1, 10 -> -1)."""
    return math.ceil(-math.log10(resolution) - 1e-9)


def is_power_of_ten(x: float) -> bool:
    return x > 0.0 and math.isfinite(x) and abs(math.log10(x) - round(math.log10(x))) < 1e-9


@dataclass(frozen=True)
class ChannelsFile:
    sensors: list[Channel] = param([], doc="what flight reads, in telemetry order")
    actuators: list[Channel] = param([], doc="what flight commands, in telemetry order")
    status: list[Channel] = param([], doc="housekeeping fields flight does not read")
    diagnostics: list[Channel] = param([], doc="the platform's own figures (serial link "
                                       "counters), telemetry only where the platform has them")
    derived: list[Channel] = param([], doc="figures flight computes itself: the payload's "
                                   "own accounting, the power cap in force, the stored "
                                   "sequence's progress (docs/operations.md)")
    packets: list[Packet] = param([], doc="the CCSDS packets and their APIDs")


@dataclass(frozen=True)
class Event:
    severity: str = param("info", choices=SEVERITIES, doc="log level")
    fields: list[str] = param([], doc="the fields it carries")
    doc: str = param("", doc="when it is emitted")


@dataclass(frozen=True)
class EventsFile:
    events: dict[str, Event] = param({}, doc="every event by name")


@dataclass(frozen=True)
class Dictionary:
    """The loaded, validated dictionary; the derived tables are computed once."""

    channels: ChannelsFile
    events: dict[str, Event] = field(default_factory=dict)
    commands: dict[str, Command] = field(default_factory=dict)
    source: Path = HERE

    @cached_property
    def sensors(self) -> dict[str, tuple[str, str]]:
        return {c.name: (c.device.role, c.device.read) for c in self.channels.sensors
                if c.device is not None}

    @cached_property
    def actuators(self) -> dict[str, tuple[str, str]]:
        return {c.name: (c.device.role, c.device.write) for c in self.channels.actuators
                if c.device is not None}

    @cached_property
    def safe_commands(self) -> dict[str, Any]:
        return {c.name: c.safe for c in self.channels.actuators}

    @cached_property
    def devices(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for c in (*self.channels.sensors, *self.channels.actuators):
            if c.device is not None:
                out.setdefault(c.device.role, c.device.kind)
        return out

    @cached_property
    def hk_fields(self) -> list[Channel]:
        """Housekeeping fields in the order of their slots."""
        fields = [(c.hk.slot, c) for c in (*self.channels.sensors, *self.channels.status)
                  if c.hk]
        return [c for _, c in sorted(fields, key=lambda slot_channel: slot_channel[0])]

    @cached_property
    def plausible(self) -> dict[str, tuple[str, float, float]]:
        return {c.name: (c.unit, c.plausible[0], c.plausible[1])
                for c in self.channels.sensors if c.plausible}

    @cached_property
    def severity(self) -> dict[str, str]:
        return {name: e.severity for name, e in self.events.items()}

    @cached_property
    def stale(self) -> dict[str, Stale]:
        """Sensor -> its stale monitor's row (its ``monitor`` id filled in)."""
        return {c.name: Stale(c.stale.after_s, c.stale.response,
                              c.stale.monitor or f"{c.name.rsplit('_', 1)[0]}_stale",
                              c.stale.enabled_in)
                for c in self.channels.sensors if c.stale is not None}

    @cached_property
    def apids(self) -> dict[str, int]:
        """Packet name -> APID."""
        return {p.name: p.apid for p in self.channels.packets}

    @cached_property
    def command_table(self) -> dict[str, dict[str, Any]]:
        return command_table(self.commands)

    @cached_property
    def precision(self) -> dict[str, tuple[str, int]]:
        """telemetry.jsonl key (an actuator's ``cmd_<name>``) -> how its floats are
        written (:attr:`Channel.precision`), for every float channel telemetry carries."""
        out: dict[str, tuple[str, int]] = {}
        for group in ("sensors", "actuators", "diagnostics", "derived"):
            for c in getattr(self.channels, group):
                p = c.precision
                if p is not None:
                    out[f"cmd_{c.name}" if group == "actuators" else c.name] = p
        return out


def load_dictionary(directory: str | Path = HERE) -> Dictionary:
    """Read and validate ``channels.yaml`` and ``events.yaml`` of ``directory``.

    Raises:
        ConfigError: naming the file and the row of the first problem (a missing device,
            an actuator without a SAFE value, a name used twice, a device role of two
            kinds, a bad housekeeping encoding or plausible range).
    """
    d = Path(directory)
    path = d / "channels.yaml"
    channels = load(ChannelsFile, read_yaml(path), f"{path}:")
    _check_channels(str(path), channels)
    slots = sorted(c.hk.slot for c in (*channels.sensors, *channels.status) if c.hk)
    if slots != list(range(len(slots))):
        raise ConfigError(f"{path}: hk.slot", f"the housekeeping slots must be 0..{len(slots) - 1}"
                          f" once each, got {slots}")
    epath = d / "events.yaml"
    events = load(EventsFile, read_yaml(epath), f"{epath}:").events
    names = {"sensors": [c.name for c in channels.sensors],
             "actuators": [c.name for c in channels.actuators]}
    commands = load_commands(d / "commands.yaml", names)
    return Dictionary(channels, dict(events), commands, d)


def _check_channels(path: str, ch: ChannelsFile) -> None:
    kinds: dict[str, str] = {}
    apids: dict[int, str] = {}
    for i, p in enumerate(ch.packets):
        if apids.setdefault(p.apid, p.name) != p.name:
            raise ConfigError(f"{path}: packets[{i}].apid", f"{p.apid} is {apids[p.apid]}'s too")
    packets = {p.name for p in ch.packets if p.type == "tm"}
    # sensors, diagnostics and derived rows are bare names in one telemetry record (an
    # actuator is cmd_<name>; a status row mirrors an actuator on the board)
    bare: set[str] = set()
    for group in ("sensors", "actuators", "status", "diagnostics", "derived"):
        seen = bare if group in ("sensors", "diagnostics", "derived") else set()
        for i, c in enumerate(getattr(ch, group)):
            at = f"{path}: {group}[{i}] ({c.name})"
            if c.name in seen:
                raise ConfigError(at, "name used twice")
            seen.add(c.name)
            if group != "status" and c.packet not in packets:
                raise ConfigError(f"{at}.packet", f"{c.packet!r} is not a tm packet of "
                                  f"packets: ({', '.join(sorted(packets))})")
            if group in ("sensors", "actuators") and c.device is None:
                raise ConfigError(at, "needs a device {role, kind, read|write}")
            if c.device is not None:
                method = c.device.read if group == "sensors" else c.device.write
                if not method:
                    raise ConfigError(f"{at}.device", "needs "
                                      + ("read" if group == "sensors" else "write"))
                if kinds.setdefault(c.device.role, c.device.kind) != c.device.kind:
                    raise ConfigError(f"{at}.device.kind", f"role {c.device.role!r} is a "
                                      f"{kinds[c.device.role]} elsewhere")
            if group == "actuators" and c.safe is None:
                raise ConfigError(f"{at}.safe", "an actuator needs its SAFE value")
            if group == "status" and c.hk is None:
                raise ConfigError(f"{at}.hk", "a status row is a housekeeping field")
            if c.hk is not None and not c.hk.min < c.hk.max:
                raise ConfigError(f"{at}.hk", f"min {c.hk.min} must be below max {c.hk.max}")
            if c.plausible and (len(c.plausible) != 2 or c.plausible[0] > c.plausible[1]):
                raise ConfigError(f"{at}.plausible", f"expected [lo, hi], got {c.plausible}")
            _check_precision(at, group, c)


def _check_precision(at: str, group: str, c: Channel) -> None:
    """A float channel's resolution in telemetry.jsonl (:attr:`Channel.precision`): one
    of ``resolution`` (a power of ten) and ``digits``, or a scaled-integer hk field."""
    if c.resolution is not None and c.digits is not None:
        raise ConfigError(at, "give resolution or digits, not both")
    key = "resolution" if c.resolution is not None else "digits"
    if (c.resolution is not None or c.digits is not None) and not c.is_float:
        raise ConfigError(f"{at}.{key}", f"only a float channel has one; this one is "
                          f"{c.tm_type} in telemetry (unit {c.unit!r})")
    if c.resolution is not None:
        lo, hi = RESOLUTION_DECIMALS
        r = c.resolution
        if not (is_power_of_ten(r) and lo <= decimals_of(r) <= hi):
            raise ConfigError(f"{at}.resolution", f"{r!r} is not a power of ten from 1e-{hi} "
                              f"to 1 {c.unit} (telemetry.jsonl writes it to that decimal "
                              "place; a range of decades takes digits: instead)")
    if c.digits is not None and not DIGITS[0] <= c.digits <= DIGITS[1]:
        raise ConfigError(f"{at}.digits", f"{c.digits} is not {DIGITS[0]} to {DIGITS[1]} "
                          "significant digits")
    if group != "status" and c.is_float and c.precision is None:
        raise ConfigError(at, f"a float channel needs its resolution in telemetry.jsonl: "
                          f"resolution: (a power of ten, in {c.unit}) or digits: "
                          "(significant digits); only a scaled-integer hk field has one "
                          "by default (its scale)")


#: the dictionary in force (``THERMINE_DICTIONARY`` names another directory)
DICTIONARY: Dictionary = load_dictionary(os.environ.get("THERMINE_DICTIONARY") or HERE)

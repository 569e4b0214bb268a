"""Drivers for the payload board: the same ports as ``hal/sim/devices.py``, over the link.

Sensors do not talk to the board one by one: :meth:`Board.poll_housekeeping` fetches
every channel in one SYSTEM/HOUSEKEEPING TM per cycle (the bench link budget), and each
sensor reads its field of that snapshot. If a poll fails (timeout, NACK, a field out of
its ICD range, the port gone) the snapshot goes stale and every sensor read raises
:class:`hal.errors.DeviceTimeout` until a poll succeeds again; flight then sees None.

Actuators send one TC per command; the value is clipped to the ICD field's range first
(the flight controllers already limit it; NaN is taken as the safe 0, like the sim).
"""

from __future__ import annotations

import math
from typing import Protocol

from hal.errors import DeviceError, DeviceTimeout, HalError
from hal.serial.icd import (
    COMMANDS,
    CURRENT_LAYOUT,
    HK_LAYOUT,
    POWER_LAYOUT,
    RESET_LAYOUT,
    SAMPLE_LAYOUT,
    SWITCH_LAYOUT,
    TIME_LAYOUT,
    TIME_SYNC_LAYOUT,
    Apid,
    Field,
    Layout,
    Service,
)
from hal.serial.link import apid_name, service_name

_HK = [f.name for f in HK_LAYOUT.fields]
#: Board channels a hardware YAML may name, per device kind.
CHANNELS: dict[str, tuple[str, ...]] = {
    "thermometer": tuple(n for n in _HK if n.endswith("_temp_k")),
    "pressure_gauge": tuple(n for n in _HK if n.endswith("_pressure_pa")),
    "mass_gauge": tuple(n for n in _HK if n.endswith("_mass_kg")),
    "heater": ("HEATER", "TRAP_HEATER"),
    "valve": ("VALVE",),
    "cryocooler": ("CRYOCOOLER",),
    "electrolyzer": ("ELECTROLYZER",),
    "power_monitor": ("bus",),
}
MAX_SYNC_S = TIME_SYNC_LAYOUT.fields[0].hi  # longest single TIME_SYNC step [s]
_REPLY_SIZE = {(int(a), int(s)): reply.size for (a, s), (_, reply) in COMMANDS.items()}


class Requester(Protocol):
    """What the board needs of a link (:class:`hal.serial.link.Link`)."""

    def request(self, apid: int, service: int, payload: bytes = b"") -> bytes: ...


def clip(field: Field, value: float) -> float:
    """``value`` limited to the field's ICD range; NaN gives the low end (safe: off)."""
    v = float(value)
    if math.isnan(v):
        return field.lo
    return min(field.hi, max(field.lo, v))


class Board:
    """The payload board: its link, the housekeeping snapshot and board-level services."""

    def __init__(self, link: Requester) -> None:
        self.link = link
        self.hk: dict[str, float] = {}
        self.stale_reason: str | None = "no housekeeping received yet"
        self.hk_polls = 0
        self.hk_failures = 0
        self.board_time_s = 0.0

    def command(self, apid: int, service: int, payload: bytes = b"") -> bytes:
        """One request; the reply payload is checked against the ICD's reply layout.

        Raises:
            DeviceError: NACK, or a reply of the wrong length / out of range.
            DeviceTimeout, LinkError: from the link.
        """
        reply = self.link.request(apid, service, payload)
        size = _REPLY_SIZE.get((int(apid), int(service)))
        if size is not None and len(reply) != size:
            raise DeviceError(apid_name(apid), f"{service_name(service)} reply of "
                              f"{len(reply)} bytes, the ICD gives {size}")
        return reply

    def ping(self, apid: int = Apid.SYSTEM) -> None:
        """PING ``apid``. Raises DeviceError / DeviceTimeout / LinkError."""
        self.command(apid, Service.PING)

    def reset(self) -> dict[str, float]:
        """RESET the board (a new session: every actuator off, fresh state); returns its
        reply: ``lockstep`` (1/0), ``speed`` (board s per wall s), ``watchdog_s``.

        Raises:
            DeviceError: NACK (a board that predates RESET: UNKNOWN_SERVICE) or bad reply.
            DeviceTimeout, LinkError: from the link.
        """
        return _unpack(RESET_LAYOUT, self.command(Apid.SYSTEM, Service.RESET), "RESET")

    def load_sample(self) -> int:
        """LOAD_SAMPLE: the rover has put a fresh scoop in the crucible; returns the number
        of the scoop now in it (2 after the session's first exchange).

        Raises:
            DeviceError: NACK (a board that predates it: UNKNOWN_SERVICE) or bad reply.
            DeviceTimeout, LinkError: from the link.
        """
        reply = self.command(Apid.SYSTEM, Service.LOAD_SAMPLE)
        return round(_unpack(SAMPLE_LAYOUT, reply, "LOAD_SAMPLE")["scoop"])

    def time_sync(self, dt_s: float) -> float:
        """Tell a lockstep board to advance by ``dt_s`` [s] (in steps of at most 60 s, each
        rounded to 1 µs); returns the board's time [s] (1 ms resolution).

        Raises:
            ValueError: ``dt_s`` is not a positive finite number.
            DeviceError: NACK (NOT_IN_MODE: the board runs on its own clock) or bad reply.
            DeviceTimeout, LinkError: from the link.
        """
        if not 0 < dt_s < math.inf:
            raise ValueError(f"dt_s must be finite and > 0, got {dt_s}")
        left = float(dt_s)
        while True:
            step = min(left, MAX_SYNC_S)
            left -= step
            step = max(step, TIME_SYNC_LAYOUT.fields[0].lo)
            reply = self.command(Apid.SYSTEM, Service.TIME_SYNC,
                                 TIME_SYNC_LAYOUT.pack({"dt_s": step}))
            self.board_time_s = _unpack(TIME_LAYOUT, reply, "TIME_SYNC")["time_s"]
            if left < 0.5e-6:  # what is left rounds to 0 us
                return self.board_time_s

    def poll_housekeeping(self) -> bool:
        """Fetch and decode one housekeeping TM into the snapshot; never raises.

        Returns True if the snapshot is fresh; on any failure (timeout, NACK, a field out
        of range, the port gone) marks it stale with the reason and returns False.
        """
        self.hk_polls += 1
        try:
            reply = self.command(Apid.SYSTEM, Service.HOUSEKEEPING)
            self.hk = _unpack(HK_LAYOUT, reply, "HOUSEKEEPING")
        except HalError as exc:
            self.hk_failures += 1
            self.stale_reason = str(exc)
            return False
        self.stale_reason = None
        return True

    @property
    def stale(self) -> bool:
        return self.stale_reason is not None

    def value(self, field: str, device: str) -> float:
        """Field ``field`` of the snapshot (SI). Raises DeviceTimeout naming ``device``
        while the snapshot is stale."""
        if self.stale_reason is not None:
            raise DeviceTimeout(device, f"{field}: housekeeping is stale ({self.stale_reason})")
        return self.hk[field]

    def set_field(self, apid: int, service: int, layout: Layout, value: float) -> None:
        """Clip ``value`` to the one-field ``layout`` and send it."""
        (f,) = layout.fields
        self.command(apid, service, layout.pack({f.name: clip(f, value)}))


def _unpack(layout: Layout, data: bytes, what: str) -> dict[str, float]:
    try:
        return layout.unpack(data)
    except ValueError as exc:
        raise DeviceError(apid_name(Apid.SYSTEM), f"{what} reply rejected: {exc}") from None


class SerialSensor:
    """A thermometer, pressure gauge or mass gauge reading one housekeeping field."""

    def __init__(self, board: Board, role: str, channel: str) -> None:
        self._board = board
        self._role = role
        self._channel = channel

    def _value(self) -> float:
        """The field's last good value [SI]; DeviceTimeout while housekeeping is stale."""
        return self._board.value(self._channel, self._role)

    read_temp_k = _value
    read_pressure_pa = _value
    read_mass_kg = _value


class SerialHeater:
    """HEATER or TRAP_HEATER: SET_POWER in 0.01 W, clipped to 0..655.35 W; SET_ENABLE."""

    def __init__(self, board: Board, role: str, channel: str) -> None:
        self._board = board
        self._apid = Apid[channel]

    def set_power_w(self, power_w: float) -> None:
        """Raises DeviceError (NACK), DeviceTimeout, LinkError."""
        self._board.set_field(self._apid, Service.SET_POWER, POWER_LAYOUT, power_w)

    def set_enabled(self, on: bool) -> None:
        """The load switch (SET_ENABLE). Raises DeviceError, DeviceTimeout, LinkError."""
        self._board.set_field(self._apid, Service.SET_ENABLE, SWITCH_LAYOUT, 1.0 if on else 0)


class SerialValve:
    """The chamber -> trap valve: SET_OPEN; the position switch comes from housekeeping."""

    def __init__(self, board: Board, role: str) -> None:
        self._board = board
        self._role = role

    def set_open(self, is_open: bool) -> None:
        self._board.set_field(Apid.VALVE, Service.SET_OPEN, SWITCH_LAYOUT, 1.0 if is_open else 0)

    def read_open(self) -> bool:
        return self._board.value("valve_open", self._role) >= 0.5


class SerialCryocooler:
    def __init__(self, board: Board, role: str) -> None:
        self._board = board

    def set_on(self, on: bool) -> None:
        self._board.set_field(Apid.CRYOCOOLER, Service.SET_ON, SWITCH_LAYOUT, 1.0 if on else 0)


class SerialElectrolyzer:
    """SET_CURRENT in mA (clipped to 0..65.535 A); current and voltage from housekeeping."""

    def __init__(self, board: Board, role: str) -> None:
        self._board = board
        self._role = role

    def set_current_a(self, current_a: float) -> None:
        self._board.set_field(Apid.ELECTROLYZER, Service.SET_CURRENT, CURRENT_LAYOUT, current_a)

    def read_current_a(self) -> float:
        return self._board.value("stack_current_a", self._role)

    def read_voltage_v(self) -> float:
        return self._board.value("stack_voltage_v", self._role)


class SerialPowerMonitor:
    """Bus draw and the rover's allocation, both from housekeeping [W]."""

    def __init__(self, board: Board, role: str) -> None:
        self._board = board
        self._role = role

    def read_power_w(self) -> float:
        return self._board.value("bus_power_w", self._role)

    def read_cap_w(self) -> float:
        return self._board.value("bus_cap_w", self._role)


def make_device(board: Board, role: str, kind: str, channel: str) -> object:
    """The driver for ``kind`` on ``channel`` (already validated against :data:`CHANNELS`)."""
    if kind in ("thermometer", "pressure_gauge", "mass_gauge"):
        return SerialSensor(board, role, channel)
    if kind == "heater":
        return SerialHeater(board, role, channel)
    simple: dict[str, type] = {"valve": SerialValve, "cryocooler": SerialCryocooler,
                               "electrolyzer": SerialElectrolyzer,
                               "power_monitor": SerialPowerMonitor}
    return simple[kind](board, role)

"""Ports: one small ``typing.Protocol`` per device kind, SI units in every name.

A port is what flight code may call. Backends (``hal/sim``, later ``hal/serial``) and
fault injectors implement them; flight code cannot tell which one it holds. Every read
may raise :class:`hal.errors.DeviceTimeout` or :class:`hal.errors.DeviceError`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol, runtime_checkable

from hal.errors import HalError


@runtime_checkable
class Clock(Protocol):
    """Mission time source. Only the executive advances it (through the platform)."""

    def now_s(self) -> float:
        """Mission time [s]."""
        ...


@runtime_checkable
class Thermometer(Protocol):
    def read_temp_k(self) -> float:
        """Temperature [K]."""
        ...


@runtime_checkable
class PressureGauge(Protocol):
    def read_pressure_pa(self) -> float:
        """Absolute pressure [Pa]."""
        ...


@runtime_checkable
class MassGauge(Protocol):
    def read_mass_kg(self) -> float:
        """Mass of liquid held (e.g. the water reservoir) [kg]."""
        ...


@runtime_checkable
class Heater(Protocol):
    def set_power_w(self, power_w: float) -> None:
        """Command the electrical power of the element [W]; clipped to its rating."""
        ...

    def set_enabled(self, on: bool) -> None:
        """Close (True) or open (False) the heater's load switch, upstream of its driver:
        open, the element gets no power whatever its driver does."""
        ...


@runtime_checkable
class Valve(Protocol):
    def set_open(self, is_open: bool) -> None:
        """Command the valve open (True) or closed (False)."""
        ...

    def read_open(self) -> bool:
        """Position switch: True when the valve is open."""
        ...


@runtime_checkable
class Cryocooler(Protocol):
    def set_on(self, on: bool) -> None:
        """Switch the cryocooler on or off."""
        ...


@runtime_checkable
class Electrolyzer(Protocol):
    def set_current_a(self, current_a: float) -> None:
        """Command the stack current [A]."""
        ...

    def read_current_a(self) -> float:
        """Measured stack current [A]."""
        ...

    def read_voltage_v(self) -> float:
        """Measured stack voltage [V]."""
        ...


@runtime_checkable
class PowerMonitor(Protocol):
    def read_power_w(self) -> float:
        """Payload bus draw [W]."""
        ...

    def read_cap_w(self) -> float:
        """Power the rover allocates to the payload [W]; every controller honours it."""
        ...


class Platform(Protocol):
    """What a backend hands the flight software: devices, a clock and a way to tick."""

    # read-only members (a backend may hold them as plain attributes of narrower types)
    @property
    def devices(self) -> Mapping[str, object]:
        """The devices by role (``heater``, ``sample_tc``, ...)."""
        ...

    @property
    def clock(self) -> Clock:
        """The mission clock."""
        ...

    def advance(self, dt_s: float) -> None:
        """Let ``dt_s`` of mission time pass (step the plant, or wait on the wall clock)."""
        ...

    def diagnostics(self) -> dict[str, float]:
        """Health of the platform itself (e.g. serial link statistics), for telemetry;
        empty when there is nothing to report."""
        ...

    def close(self) -> None:
        """Release ports and files."""
        ...


@runtime_checkable
class PlantTruth(Protocol):
    """A capability of the simulated platform, not of the Platform port flight sees:
    what the plant really did, for the ground harness's oracles and summaries."""

    def truth(self, keys: Collection[str] | None = None) -> dict[str, float]:
        """Plant truth (only ``keys`` if given)."""
        ...


def truth_of(platform: object, keys: Collection[str] | None = None) -> dict[str, float] | None:
    """The plant truth of a platform that has one (SIL), else None (a board on a UART)."""
    return platform.truth(keys) if isinstance(platform, PlantTruth) else None


class SampleExchangeError(HalError):
    """The crucible's sample could not be exchanged (no link, or the board refused)."""


@runtime_checkable
class SampleExchange(Protocol):
    """A capability of a platform whose crucible the rover refills (SIL: the plant takes
    the mission's next sample; bench: the board, or its emulator, is told over the link).
    Flight asks for it with :func:`sample_exchange_of`; the Platform port has no such
    method, and a platform without it cannot exchange samples."""

    def load_sample(self) -> int:
        """The rover has put a fresh scoop in the crucible (the old one emptied out);
        returns the number of the scoop now in it (1 is the first: 2 after the first
        exchange).

        Raises:
            SampleExchangeError: the exchange failed (no link, the board refused).
        """
        ...


def sample_exchange_of(platform: object) -> SampleExchange | None:
    """The sample exchange of a platform that has one, else None."""
    return platform if isinstance(platform, SampleExchange) else None


#: Port protocol of each device kind a hardware YAML may name.
KINDS: Mapping[str, type] = {
    "thermometer": Thermometer,
    "pressure_gauge": PressureGauge,
    "mass_gauge": MassGauge,
    "heater": Heater,
    "valve": Valve,
    "cryocooler": Cryocooler,
    "electrolyzer": Electrolyzer,
    "power_monitor": PowerMonitor,
}

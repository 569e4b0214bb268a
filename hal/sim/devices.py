"""Sim device backends: each port reads or writes one channel of the plant.

Sensor noise is Gaussian with the configured 1-sigma (in the reading's unit), drawn
from a seeded generator in blocks, so a run is deterministic for a seed and cheap.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

from sims.plant import Plant

#: What each sensor channel reads from the plant (SI units).
SENSOR_CHANNELS: dict[str, Callable[[Plant], float]] = {
    "heater_temp_k": lambda p: float(p.sample.temp_k[0]),
    "sample_top_temp_k": lambda p: float(p.sample.temp_k[1]),
    "sample_bottom_temp_k": lambda p: float(p.sample.temp_k[-1]),
    "chamber_pressure_pa": Plant.chamber_pressure_pa,
    "trap_temp_k": lambda p: p.trap.temp_k,
    "reservoir_mass_kg": lambda p: p.trap.reservoir_kg,
    "h2_tank_pressure_pa": lambda p: p.stack.h2_pressure_pa(),
    "o2_tank_pressure_pa": lambda p: p.stack.o2_pressure_pa(),
}
#: Actuator channels: the field of ``Plant.inputs`` each heater channel drives.
HEATER_CHANNELS = {"heater": "heater_power_w", "trap_heater": "trap_heater_power_w"}
HEATER_SWITCHES = {"heater": "heater_enabled", "trap_heater": "trap_heater_enabled"}


class Noise:
    """Standard normal deviates from a seeded generator, drawn 4096 at a time.

    Each device has its own stream, keyed by (seed, device role), so adding a device or
    reading one more often leaves every other device's noise unchanged.
    """

    def __init__(self, seed: int, role: str = "", sigma: float = 1.0) -> None:
        self._rng = np.random.default_rng([seed, zlib.crc32(role.encode())])
        self._sigma = sigma
        self._it = iter(())

    def next(self) -> float:
        """The next deviate, times ``sigma`` (the sensor's 1-sigma noise)."""
        try:
            return next(self._it)
        except StopIteration:
            self._it = iter((self._sigma * self._rng.standard_normal(4096)).tolist())
            return next(self._it)


class SimSensor:
    """A thermometer, pressure gauge or mass gauge on one plant channel."""

    def __init__(self, plant: Plant, channel: str, noise: float, source: Noise) -> None:
        self._read = SENSOR_CHANNELS[channel]
        self._plant = plant
        self._sigma = noise
        self._noise = Noise.next.__get__(source) if noise else None

    def _value(self) -> float:
        v = self._read(self._plant)
        if self._noise is not None:  # gauges of absolute quantities never read below zero
            v += self._noise()
            if v < 0.0:
                v = 0.0
        return v

    read_temp_k = _value
    read_pressure_pa = _value
    read_mass_kg = _value


class SimHeater:
    """A resistive heater; the plant clips the power to the element's rating."""

    def __init__(self, plant: Plant, channel: str) -> None:
        self._plant = plant
        self._field = HEATER_CHANNELS[channel]
        self._switch = HEATER_SWITCHES[channel]

    def set_power_w(self, power_w: float) -> None:
        setattr(self._plant.inputs, self._field, max(0.0, float(power_w)))

    def set_enabled(self, on: bool) -> None:
        setattr(self._plant.inputs, self._switch, bool(on))


class SimValve:
    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def set_open(self, is_open: bool) -> None:
        self._plant.inputs.valve_open = bool(is_open)

    def read_open(self) -> bool:
        return self._plant.valve_open_actual


class SimCryocooler:
    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def set_on(self, on: bool) -> None:
        self._plant.inputs.cryocooler_on = bool(on)


class SimElectrolyzer:
    def __init__(self, plant: Plant, noise: float, source: Noise) -> None:
        self._plant = plant
        self._sigma = noise
        self._noise = source

    def set_current_a(self, current_a: float) -> None:
        self._plant.inputs.electrolyzer_current_a = max(0.0, float(current_a))

    def read_current_a(self) -> float:
        return self._plant.stack.current_a

    def read_voltage_v(self) -> float:
        v = self._plant.stack.voltage_v
        return v + self._noise.next() if self._sigma else v


class SimPowerMonitor:
    def __init__(self, plant: Plant, noise: float, source: Noise) -> None:
        self._plant = plant
        self._sigma = noise
        self._noise = source

    def read_power_w(self) -> float:
        v = self._plant.bus_power_w
        return v + self._noise.next() if self._sigma else v

    def read_cap_w(self) -> float:
        """The rover's current allocation [W] (a brown-out lowers it)."""
        return self._plant.bus_cap_w()

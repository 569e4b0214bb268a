"""Sim device backends: each port reads or writes one channel of the plant.

Sensor noise is Gaussian with the configured 1-sigma (in the reading's unit), drawn
from a seeded generator in blocks, so a run is deterministic for a seed and cheap.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

from sims.plant import Plant

#: What each sensor channel reads from the plant (SI units).
SENSOR_CHANNELS: dict[str, Callable[[Plant], float]] = {
    "heater_temp_k": lambda p: p.sample.temp_k.item(0),
    "sample_top_temp_k": lambda p: p.sample.temp_k.item(1),
    "sample_bottom_temp_k": lambda p: p.sample.temp_k.item(-1),
    "chamber_pressure_pa": Plant.chamber_pressure_pa,
    "trap_temp_k": lambda p: p.trap.temp_k,
    "reservoir_mass_kg": lambda p: p.trap.reservoir_kg,
    "h2_tank_pressure_pa": lambda p: p.stack.h2_pressure_pa(),
    "o2_tank_pressure_pa": lambda p: p.stack.o2_pressure_pa(),
}
#: the node each thermometer channel reads (sample.temp_k, plate first)
_NODES = {"heater_temp_k": 0, "sample_top_temp_k": 1, "sample_bottom_temp_k": -1}
#: the other channels as a reader bound to the plant part, without a Python call of its
#: own (a bound method, or getattr): the same value as ``SENSOR_CHANNELS[channel](plant)``
_BOUND: dict[str, Callable[[Plant], Callable[[], float]]] = {
    "chamber_pressure_pa": lambda p: p.chamber_pressure_pa,
    "trap_temp_k": lambda p: partial(getattr, p.trap, "temp_k"),
    "reservoir_mass_kg": lambda p: partial(getattr, p.trap, "reservoir_kg"),
    "h2_tank_pressure_pa": lambda p: p.stack.h2_pressure_pa,
    "o2_tank_pressure_pa": lambda p: p.stack.o2_pressure_pa,
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
        #: the next deviate, times ``sigma`` (the sensor's 1-sigma noise): a C-level
        #: callable over the blocks (a Python frame only once per block)
        self.next: Callable[[], float] = itertools.chain.from_iterable(self._blocks()).__next__

    def _blocks(self) -> Iterator[list[float]]:
        while True:
            yield (self._sigma * self._rng.standard_normal(4096)).tolist()


class SimSensor:
    """A thermometer, pressure gauge or mass gauge on one plant channel.

    Its read methods are one closure over the plant, the channel and the noise stream (a
    sensor is read every cycle; this saves the attribute lookups of a method)."""

    def __init__(self, plant: Plant, channel: str, noise: float, source: Noise) -> None:
        self._read = read = SENSOR_CHANNELS[channel]
        self._plant = plant
        self._sigma = noise
        node = _NODES.get(channel)
        if not noise:
            def value() -> float:
                return read(plant)
        elif node is not None:  # a thermometer on a node: SENSOR_CHANNELS[channel], inlined
            deviate = source.next

            def value() -> float:
                v = plant.sample.temp_k.item(node) + deviate()
                return 0.0 if v < 0.0 else v
        else:
            deviate = source.next
            bound = _BOUND[channel](plant) if channel in _BOUND else partial(read, plant)

            def value() -> float:
                # gauges of absolute quantities never read below zero
                v = bound() + deviate()
                return 0.0 if v < 0.0 else v
        self.read_temp_k = self.read_pressure_pa = self.read_mass_kg = value


class SimHeater:
    """A resistive heater; the plant clips the power to the element's rating.

    ``set_power_w`` is a closure over the plant's inputs and the field it drives (the
    sample heater's power changes every cycle under its controller)."""

    def __init__(self, plant: Plant, channel: str) -> None:
        self._plant = plant
        self._field = field = HEATER_CHANNELS[channel]
        self._switch = HEATER_SWITCHES[channel]

        def set_power_w(power_w: float) -> None:
            p = float(power_w)
            setattr(plant.inputs, field, p if p > 0.0 else 0.0)  # max(0.0, p), NaN -> 0.0

        self.set_power_w = set_power_w

    def set_enabled(self, on: bool) -> None:
        setattr(self._plant.inputs, self._switch, bool(on))


class SimValve:
    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def set_open(self, is_open: bool) -> None:
        self._plant.inputs.valve_open = bool(is_open)

    def read_open(self) -> bool:
        plant = self._plant  # (Plant.valve_open_actual)
        return plant.faults.valve_open(plant.inputs.valve_open)


class SimCryocooler:
    def __init__(self, plant: Plant) -> None:
        self._plant = plant

    def set_on(self, on: bool) -> None:
        self._plant.inputs.cryocooler_on = bool(on)


class SimElectrolyzer:
    def __init__(self, plant: Plant, noise: float, source: Noise) -> None:
        self._plant = plant
        self._sigma = noise
        self._noise = source.next

    def set_current_a(self, current_a: float) -> None:
        self._plant.inputs.electrolyzer_current_a = max(0.0, float(current_a))

    def read_current_a(self) -> float:
        return self._plant.stack.current_a

    def read_voltage_v(self) -> float:
        v = self._plant.stack.voltage_v
        return v + self._noise() if self._sigma else v


class SimPowerMonitor:
    def __init__(self, plant: Plant, noise: float, source: Noise) -> None:
        self._plant = plant
        self._sigma = noise
        self._noise = source.next

    def read_power_w(self) -> float:
        v = self._plant.bus_power_w
        return v + self._noise() if self._sigma else v

    def read_cap_w(self) -> float:
        """The rover's current allocation [W] (a brown-out lowers it)."""
        return self._plant.bus_cap_w()

"""Sim sensor noise: per-device seeded streams drawn in blocks, read through closures."""

from __future__ import annotations

import zlib

import numpy as np

from hal.sim import devices as dev
from sims.params import PlantParams
from sims.plant import Plant


def test_noise_is_the_seeded_stream_in_blocks_of_4096() -> None:
    """The deviates are those of one generator per (seed, role), 4096 drawn at a time,
    scaled by sigma: across a block boundary nothing is skipped or repeated."""
    noise = dev.Noise(11, "heater_temp", 0.3)
    got = [noise.next() for _ in range(5000)]
    rng = np.random.default_rng([11, zlib.crc32(b"heater_temp")])
    want = (0.3 * rng.standard_normal(4096)).tolist() + (0.3 * rng.standard_normal(4096)).tolist()
    assert got == want[:5000]
    other = dev.Noise(11, "trap_temp", 0.3)
    assert [other.next() for _ in range(3)] != got[:3]


def test_a_sensor_reads_its_channel_plus_its_noise_never_below_zero() -> None:
    plant = Plant(PlantParams())
    for channel in dev.SENSOR_CHANNELS:
        quiet = dev.SimSensor(plant, channel, 0.0, dev.Noise(1, channel))
        assert quiet.read_temp_k() == dev.SENSOR_CHANNELS[channel](plant)
        noisy = dev.SimSensor(plant, channel, 2.0, dev.Noise(1, channel, 2.0))
        twin = dev.Noise(1, channel, 2.0)
        for _ in range(50):
            assert noisy.read_pressure_pa() == max(dev.SENSOR_CHANNELS[channel](plant)
                                                   + twin.next(), 0.0)


def test_sensor_reader_reads_each_port_once_in_order_through_failures() -> None:
    """A failed read gives None and one event per sensor (the first time); every other
    sensor is still read, exactly once per cycle and in table order."""
    from flight.channels import REQUIRED_DEVICES, SENSORS, SensorReader
    from hal.errors import HalError

    calls: list[str] = []
    failing: set[str] = set()

    class Port:
        def __init__(self, role: str) -> None:
            self.role = role

        def __getattr__(self, method: str):  # every read_* port method of the role
            def read() -> float:
                name = next(n for n, (r, m) in SENSORS.items() if (r, m) == (self.role, method))
                calls.append(name)
                if name in failing:
                    raise HalError(f"{name} timed out")
                return float(len(calls))
            return read

    events: list[tuple[str, dict]] = []
    reader = SensorReader({role: Port(role) for role in REQUIRED_DEVICES},
                          lambda event, **kw: events.append((event, kw)))
    names = list(SENSORS)
    for failed in (set(), {names[0]}, {names[0], names[5], names[-1]}, {names[5]}, set()):
        failing.clear()
        failing.update(failed)
        calls.clear()
        r = reader.read_all()
        assert calls == names
        assert [n for n in names if r[n] is None] == [n for n in names if n in failed]
        assert all(r[n] == names.index(n) + 1 for n in names if n not in failed)
    assert [kw["telemetry"] for _, kw in events] == [names[0], names[5], names[-1]]
    assert reader.failures[names[0]] == 2 and reader.failures[names[5]] == 2
    assert reader.failures[names[-1]] == 1 and reader.failures[names[1]] == 0

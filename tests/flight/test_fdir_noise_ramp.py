"""The noise monitor reads noise, not motion: von Neumann's estimator (the deviation of
successive differences over sqrt 2) gives white noise's sigma and ignores a smooth ramp,
where the plain deviation of the readings would trip on a warm plate meeting a fresh
scoop (it falls ~2 K/s)."""

from __future__ import annotations

import numpy as np
import pytest

from flight.fdir.monitors import NoiseMonitor
from flight.fdir.table import MonitorConfig

DT = 0.1


def monitor(**kw: float) -> NoiseMonitor:
    return NoiseMonitor(MonitorConfig(id="heater_temp_noisy", kind="noise",
                                      telemetry="heater_temp_k", window_s=5.0,
                                      response="LOG", **kw))


def last_sigma(n: NoiseMonitor, values: np.ndarray) -> float:
    verdict = (None, None)
    for k, v in enumerate(values):
        verdict = n.evaluate(k * DT, {"heater_temp_k": float(v)})
    assert verdict[1] is not None
    return float(verdict[1])


def test_a_steep_ramp_with_sensor_noise_reads_as_the_sensor_noise() -> None:
    rng = np.random.default_rng(1)
    t = np.arange(200) * DT
    ramp = 340.0 - 2.0 * t + rng.normal(0.0, 0.1, t.size)  # falling 2 K/s, 0.1 K noise
    sigma = last_sigma(monitor(sigma_above=3.0), ramp)
    assert sigma == pytest.approx(0.1, rel=0.35)
    assert float(np.std(ramp[-50:], ddof=1)) > 2.5  # the plain deviation: ~2.9 K
    verdict = monitor(sigma_above=3.0)
    for k, v in enumerate(ramp):
        bad, _ = verdict.evaluate(k * DT, {"heater_temp_k": float(v)})
        assert bad is not True, k  # never a trip on the ramp


def test_white_noise_reads_as_its_sigma_and_trips_above_the_limit() -> None:
    rng = np.random.default_rng(2)
    noisy = 300.0 + rng.normal(0.0, 5.0, 400)
    n = monitor(sigma_above=3.0)
    assert last_sigma(n, noisy) == pytest.approx(5.0, rel=0.3)
    assert n.evaluate(400 * DT, {"heater_temp_k": 300.0})[0] is True


def test_a_frozen_reading_reads_zero_and_trips_below_the_floor() -> None:
    n = monitor(sigma_below=0.01)
    assert last_sigma(n, np.full(60, 250.0)) == 0.0
    assert n.evaluate(60 * DT, {"heater_temp_k": 250.0})[0] is True

"""FDIR limit monitors: persistence, responses, active while out of range."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flight.config import LimitConfig
from flight.fdir import LimitMonitors


class Rig:
    def __init__(self, *limits: LimitConfig) -> None:
        self.reasons: list[str] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.mon = LimitMonitors(list(limits), self.reasons.append,
                                 lambda e, **f: self.events.append((e, f)))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_persistence_n_minus_1_no_trip_n_trips(n: int) -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=n))
    for _ in range(n - 1):
        r.mon.check({"heater_temp_k": 500.0})
    assert not r.mon.active()
    assert r.reasons == [] and r.named("fdir_trip") == []
    r.mon.check({"heater_temp_k": 500.0})
    assert r.mon.active()
    assert len(r.reasons) == 1
    assert len(r.named("fdir_trip")) == 1


def test_an_in_range_sample_resets_the_count() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=3))
    for v in (500.0, 500.0, 470.0, 500.0, 500.0):
        r.mon.check({"heater_temp_k": v})
    assert not r.mon.active() and r.reasons == []
    r.mon.check({"heater_temp_k": 500.0})
    assert r.mon.active() and len(r.reasons) == 1


def test_at_the_limit_is_not_out_of_range() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1),
            LimitConfig(telemetry="trap_temp_k", below=50.0, persistence=1))
    r.mon.check({"heater_temp_k": 480.0, "trap_temp_k": 50.0})
    assert not r.mon.active()


def test_safe_response_calls_go_safe_once_naming_telemetry_and_value() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=2))
    for _ in range(10):
        r.mon.check({"heater_temp_k": 512.25})
    assert len(r.reasons) == 1
    assert "heater_temp_k" in r.reasons[0]
    assert "512.25" in r.reasons[0]
    assert "above 480" in r.reasons[0]
    (trip,) = r.named("fdir_trip")
    assert trip["telemetry"] == "heater_temp_k" and trip["value"] == 512.25
    assert trip["response"] == "SAFE"


def test_below_limit_reason() -> None:
    r = Rig(LimitConfig(telemetry="bus_cap_w", below=10.0, persistence=1))
    r.mon.check({"bus_cap_w": 5.0})
    assert r.reasons == ["limit: bus_cap_w=5 below 10"]


def test_log_response_does_not_go_safe() -> None:
    r = Rig(LimitConfig(telemetry="chamber_pressure_pa", above=5000.0, persistence=1,
                        response="LOG"))
    for _ in range(3):
        r.mon.check({"chamber_pressure_pa": 6000.0})
    assert r.reasons == []
    (trip,) = r.named("fdir_trip")
    assert trip["response"] == "LOG"
    assert r.mon.active()


def test_active_while_out_of_range_and_cleared_after() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=2))
    r.mon.check({"heater_temp_k": 500.0})
    r.mon.check({"heater_temp_k": 500.0})
    for _ in range(5):
        assert r.mon.active()
        r.mon.check({"heater_temp_k": 490.0})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []
    r.mon.check({"heater_temp_k": 470.0})
    assert not r.mon.active()
    assert r.named("fdir_cleared") == [{"telemetry": "heater_temp_k", "value": 470.0}]
    # it can trip again (and send SAFE again) after clearing
    r.mon.check({"heater_temp_k": 500.0})
    r.mon.check({"heater_temp_k": 500.0})
    assert r.mon.active() and len(r.reasons) == 2


def test_active_if_any_monitor_tripped() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1),
            LimitConfig(telemetry="h2_tank_pressure_pa", above=3e6, persistence=1))
    r.mon.check({"heater_temp_k": 500.0, "h2_tank_pressure_pa": 4e6})
    assert len(r.reasons) == 2
    r.mon.check({"heater_temp_k": 400.0, "h2_tank_pressure_pa": 4e6})
    assert r.mon.active()
    r.mon.check({"heater_temp_k": 400.0, "h2_tank_pressure_pa": 1e6})
    assert not r.mon.active()


def test_no_limits_never_active() -> None:
    r = Rig()
    r.mon.check({"heater_temp_k": 1e9})
    assert not r.mon.active() and r.events == []


def test_failed_reading_does_not_clear_a_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1))
    r.mon.check({"heater_temp_k": 500.0})
    r.mon.check({"heater_temp_k": None})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []


def test_failed_reading_does_not_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", below=100.0, persistence=1))
    r.mon.check({"heater_temp_k": None})
    r.mon.check({})
    assert not r.mon.active() and r.reasons == []


def test_nan_reading_does_not_clear_a_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1))
    r.mon.check({"heater_temp_k": 500.0})
    r.mon.check({"heater_temp_k": math.nan})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []

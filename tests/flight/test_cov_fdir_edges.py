"""FDIR edge cases: unknown inputs neither count nor clear (a missing command, a NaN link
counter, an unknown crosscheck reference, a lost condition input while tripped), a stale
check's persistence restarts on a fresh reading even while another stale check fails,
and every monitor kind says "unknown" in words when the value is unknown."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flight.fdir.engine import Fdir
from flight.fdir.monitors import (
    NO_TRIP,
    CrosscheckMonitor,
    LimitMonitor,
    LinkMonitor,
    Monitor,
    NoiseMonitor,
    RateMonitor,
    _Window,
    build,
    number,
)
from flight.fdir.responses import Responder
from flight.fdir.table import (
    BUILTIN_RESPONSES,
    ConditionConfig,
    ExpectConfig,
    FdirTable,
    MonitorConfig,
    ResponseConfig,
)

DT = 0.1


class Rig:
    """An FDIR engine over ``monitors`` / ``responses``, sampled every 0.1 s."""

    def __init__(self, *monitors: MonitorConfig, **responses: ResponseConfig) -> None:
        self.safe: list[str] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.n = 0
        table = FdirTable(tuple(monitors), {**BUILTIN_RESPONSES, **responses})
        self.fdir = Fdir(table, self.safe.append, lambda e, **f: self.events.append((e, f)))

    @property
    def t(self) -> float:
        return round(self.n * DT, 9)

    def step(self, readings: dict[str, Any], commands: dict[str, Any] | None = None,
             diagnostics: dict[str, Any] | None = None) -> None:
        self.fdir.check(self.t, "EXTRACT_HEAT", readings, commands, diagnostics)
        self.n += 1

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]


def mon(kind: str, **kw: Any) -> MonitorConfig:
    return MonitorConfig(**{"id": "m", "kind": kind, "response": "LOG", **kw})


# ---- unknown inputs ----------------------------------------------------------------
def test_a_command_missing_from_last_cycle_is_unknown_not_zero() -> None:
    """A monitor on ``cmd_heater_power_w`` below a floor must not trip because the
    command table of the cycle lacks that command (other commands present)."""
    r = Rig(mon("limit", telemetry="cmd_heater_power_w", below=1.0))
    for _ in range(20):
        r.step({"heater_temp_k": 300.0}, {"valve_open": False})
    assert not r.fdir.active() and r.named("fdir_trip") == []
    r.step({"heater_temp_k": 300.0}, {"valve_open": False, "heater_power_w": 0.0})
    assert r.fdir.tripped() == ["m"]


@pytest.mark.parametrize("counter", [None, math.nan])
def test_a_link_counter_that_is_unknown_never_trips_nor_clears(counter: float | None) -> None:
    r = Rig(mon("link", counter="link_timeouts", max_count=2, window_s=1.0))
    for k in range(15):  # +1 timeout per cycle: trips once the window holds 3
        r.step({}, None, {"link_timeouts": float(k)})
    assert r.fdir.active()
    for _ in range(50):  # the counter becomes unknown: the trip holds, no count moves
        r.step({}, None, {"link_timeouts": counter, "link_rtt_s": 0.01})
    assert r.fdir.active() and r.named("fdir_cleared") == []
    assert len(r.named("fdir_trip")) == 1


def test_link_monitor_verdicts() -> None:
    m = LinkMonitor(mon("link", counter="link_crc_errors", max_count=2, window_s=1.0))
    assert m.evaluate(0.0, {}) == (None, None)  # SIL: no such counter
    assert m.evaluate(0.0, {"link_crc_errors": math.nan}) == (None, None)
    assert m.evaluate(0.0, {"link_crc_errors": 10.0}) == (False, 0.0)
    assert m.evaluate(0.5, {"link_crc_errors": 13.0}) == (True, 3.0)
    assert m.detail(0.5, 3.0) == "link_crc_errors +3 in 1 s (limit 2)"


def test_crosscheck_fraction_with_an_unknown_reference_neither_counts_nor_clears() -> None:
    stack = mon("crosscheck", when=[ConditionConfig("stack_voltage_v", above=1.0)],
                for_s=0.0, expect=ExpectConfig("stack_current_a",
                                               fraction_of="h2_tank_pressure_pa",
                                               min_fraction=0.5), persistence=2)
    m = CrosscheckMonitor(stack)
    assert m.evaluate(0.0, {"stack_current_a": 1.0, "h2_tank_pressure_pa": None}) == (
        None, None)
    assert m.evaluate(0.0, {"stack_current_a": 1.0, "h2_tank_pressure_pa": math.nan}) == (
        None, None)
    assert m.evaluate(0.0, {"stack_current_a": 1.0, "h2_tank_pressure_pa": 4.0}) == (True, 1.0)
    # through the engine: bad, unknown, bad trips at persistence 2 (unknown kept the count)
    r = Rig(stack)
    for ref in (4.0, None, 4.0):
        r.step({"stack_voltage_v": 2.0, "stack_current_a": 1.0, "h2_tank_pressure_pa": ref})
    assert r.fdir.tripped() == ["m"]
    r.step({"stack_voltage_v": 2.0, "stack_current_a": 1.0, "h2_tank_pressure_pa": None})
    assert r.fdir.active()  # unknown does not clear it
    r.step({"stack_voltage_v": 2.0, "stack_current_a": 3.0, "h2_tank_pressure_pa": 4.0})
    assert not r.fdir.active()


def test_a_tripped_conditional_monitor_whose_condition_input_is_lost_still_escalates() -> None:
    """Losing the condition's input while tripped must not freeze the response: the
    cooldown runs on and the escalation to SAFE happens on time."""
    trap = mon("crosscheck", when=[ConditionConfig("cmd_cryocooler_on", above=0.5)],
               for_s=0.0, expect=ExpectConfig("trap_temp_k", below=155.0),
               response="cycle")
    cycle = ResponseConfig(action="retry", power_cycle=["cryocooler_on"], cooldown_s=2.0)
    r = Rig(trap, cycle=cycle)
    r.step({"trap_temp_k": 200.0}, {"cryocooler_on": True})
    assert r.fdir.tripped() == ["m"] and r.safe == []
    while r.t < 2.0 - 1e-9:  # the command is no longer known (e.g. not in the table)
        r.step({"trap_temp_k": 200.0}, {})
    assert r.safe == [] and r.fdir.active() and r.named("fdir_escalate") == []
    r.step({"trap_temp_k": 200.0}, {})  # 2 s after the retry
    (esc,) = r.named("fdir_escalate")
    assert esc["value"] is None and esc["why"] == "still tripped 2 s after cycle"
    assert len(r.safe) == 1 and "escalated to SAFE" in r.safe[0]


# ---- stale checks ------------------------------------------------------------------
def test_a_fresh_reading_restarts_a_stale_checks_count_while_another_one_is_stale() -> None:
    """Two stale checks (stale 0.2 s, persistence 3): the trap reading drops out for
    good; the plate reading drops out long enough for 2 bad samples, comes back once,
    then drops out again. Its count restarted: it trips at the 3rd bad sample after it
    went stale again, not at the 1st."""
    r = Rig(mon("stale", id="plate", telemetry="heater_temp_k", stale_s=0.2, persistence=3),
            mon("stale", id="trap", telemetry="trap_temp_k", stale_s=0.2, persistence=3))
    fresh = {"heater_temp_k": 300.0, "trap_temp_k": 120.0}
    r.step(fresh)
    plate: list[float | None] = [None, None, None, 300.0, None, None, None, None, None]
    trips: dict[str, float] = {}
    for v in plate:  # t = 0.1 .. 0.9
        t = r.t
        r.step({"heater_temp_k": v, "trap_temp_k": None})
        for f in r.named("fdir_trip"):
            trips.setdefault(f["monitor"], t)
    # trap: last fresh at 0.0, bad from 0.2 s on, trips at its 3rd bad sample, 0.4 s
    assert trips["trap"] == pytest.approx(0.4)
    # plate: bad at 0.2 and 0.3 (count 2), fresh at 0.4, bad again from 0.6: trips at
    # 0.8 (a count carried over would have tripped at 0.6)
    assert trips["plate"] == pytest.approx(0.8)


# ---- verdicts and words ------------------------------------------------------------
def test_number_and_window_basics() -> None:
    assert number(None) is None and number(math.nan) is None
    assert number(True) == 1.0 and number(2) == 2.0
    w = _Window(1.0)
    assert not w.full(0.0)  # empty: never full
    w.add(0.0, 1.0)
    w.add(0.5, 2.0)
    assert not w.full(0.5)
    w.add(1.0, 3.0)
    assert w.full(1.0) and w.oldest() == (0.0, 1.0)
    w.add(1.6, 4.0)  # the 0.0 sample no longer needed: 0.5 covers the last second
    assert w.oldest() == (0.5, 2.0)
    w.clear()
    assert not w.full(10.0)


def test_a_monitor_kind_without_evaluate_fails_loudly() -> None:
    class Bare(Monitor):
        pass

    m = Bare(mon("limit", telemetry="heater_temp_k", above=1.0))
    with pytest.raises(NotImplementedError):
        m.sample(0.0, {"heater_temp_k": 2.0})
    assert m.detail(0.0, 2.0) == "heater_temp_k=2.0"
    m.reset()  # nothing to forget: no error


@pytest.mark.parametrize("cfg, words", [
    (mon("limit", telemetry="heater_temp_k", above=480.0), "heater_temp_k unknown"),
    (mon("rate", telemetry="h2_tank_pressure_pa", rate_above=1.0, window_s=5.0),
     "h2_tank_pressure_pa unknown"),
    (mon("noise", telemetry="heater_temp_k", sigma_above=1.0, window_s=5.0),
     "heater_temp_k unknown"),
    (mon("crosscheck", when=[ConditionConfig("cmd_cryocooler_on", above=0.5)], for_s=1.0,
         expect=ExpectConfig("trap_temp_k", below=155.0)), "trap_temp_k unknown"),
])
def test_an_unknown_value_is_said_unknown(cfg: MonitorConfig, words: str) -> None:
    assert build(cfg).detail(0.0, None) == words


def test_limit_detail_in_range_and_rate_detail_falling() -> None:
    lim = LimitMonitor(mon("limit", telemetry="bus_cap_w", above=100.0, below=10.0))
    assert lim.detail(0.0, 50.0) == "bus_cap_w=50 in range"
    assert lim.detail(0.0, 5.0) == "bus_cap_w=5 below 10"
    rate = RateMonitor(mon("rate", telemetry="h2_tank_pressure_pa", rate_above=20.0,
                           window_s=10.0, direction="falling"))
    assert rate.detail(0.0, -25.0) == ("h2_tank_pressure_pa falling at 25/s over 10 s "
                                       "(limit 20/s falling)")


def test_noise_unknown_samples_leave_the_window_alone() -> None:
    """A frozen reading (no spread) trips once the window is full; unknown samples in
    between neither count nor enter the window."""
    n = NoiseMonitor(mon("noise", telemetry="heater_temp_k", sigma_below=0.01, window_s=0.3))
    assert [n.sample(k * DT, {"heater_temp_k": 300.0}) for k in range(3)] == [NO_TRIP] * 3
    held = list(n.samples)
    assert n.evaluate(0.25, {"heater_temp_k": None}) == (None, None)
    assert n.evaluate(0.25, {"heater_temp_k": math.nan}) == (None, None)
    assert list(n.samples) == held and n.count == 0
    assert n.sample(0.3, {"heater_temp_k": 300.0}) == 0.0  # window full, spread 0: frozen
    assert n.detail(0.3, 0.0) == ("heater_temp_k noise 0 (1 sigma, from successive "
                                  "differences) over 0.3 s (frozen: below 0.01)")


def test_an_empty_substitution_table_passes_the_readings_through_untouched() -> None:
    responder = Responder(BUILTIN_RESPONSES, lambda reason: None,
                          lambda trigger, reason: False, lambda e, **f: None)
    readings = {"heater_temp_k": None, "sample_temp_k": 250.0}
    assert responder.substitute(readings) is readings

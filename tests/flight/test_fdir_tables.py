"""FDIR as tables: each monitor kind trips exactly at its persistence / window and not
before; each response; cooldowns, budgets and escalation; load errors name the entry;
docs/fdir.md lists every shipped monitor with its detection bound."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from common.errors import ConfigError
from flight.app import state_names
from flight.channels import ACTUATORS, SENSORS
from flight.fdir.engine import Fdir
from flight.fdir.table import (
    BUILTIN_RESPONSES,
    ConditionConfig,
    ExpectConfig,
    FdirTable,
    MonitorConfig,
    ResponseConfig,
    detection_bound_s,
    load_table,
)
from ground.harness.run import load_inputs

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "common" / "dictionary" / "fdir.yaml"
DOC = ROOT / "docs" / "fdir.md"
DT = 0.1


class Rig:
    """An FDIR engine over ``monitors`` / ``responses``, sampled every 0.1 s."""

    def __init__(self, *monitors: MonitorConfig, state: str = "EXTRACT_HEAT",
                 **responses: ResponseConfig) -> None:
        self.safe: list[str] = []
        self.fired: list[tuple[str, str]] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.state = state
        self.n = 0
        table = FdirTable(tuple(monitors), {**BUILTIN_RESPONSES, **responses})
        self.fdir = Fdir(table, self.safe.append, lambda e, **f: self.events.append((e, f)),
                         fire=self._fire)

    def _fire(self, trigger: str, reason: str) -> bool:
        self.fired.append((trigger, reason))
        return True

    @property
    def t(self) -> float:
        return round(self.n * DT, 9)

    def step(self, readings: dict[str, Any], commands: dict[str, Any] | None = None,
             diagnostics: dict[str, Any] | None = None) -> None:
        self.fdir.check(self.t, self.state, readings, commands, diagnostics)
        self.n += 1

    def run_until_trip(self, sample: Callable[[float], dict[str, Any]],
                       end_s: float = 1000.0) -> float | None:
        """Step ``sample(t)`` readings until the first trip; its time, or None."""
        while self.t <= end_s:
            t = self.t
            self.step(*_split(sample(t)))
            if self.named("fdir_trip"):
                return t
        return None

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]


def _split(sample: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    r = {k: v for k, v in sample.items() if not k.startswith(("cmd_", "link_"))}
    c = {k[4:]: v for k, v in sample.items() if k.startswith("cmd_")}
    d = {k: v for k, v in sample.items() if k.startswith("link_")}
    return r, c, d


def mon(kind: str, **kw: Any) -> MonitorConfig:
    return MonitorConfig(**{"id": "m", "kind": kind, "response": "LOG", **kw})


# ---- each kind trips exactly at its bound ------------------------------------------
@pytest.mark.parametrize("n", [1, 4, 25])
def test_limit_trips_at_the_nth_bad_sample(n: int) -> None:
    r = Rig(mon("limit", telemetry="heater_temp_k", above=480.0, persistence=n))
    assert r.run_until_trip(lambda t: {"heater_temp_k": 481.0}) == pytest.approx((n - 1) * DT)
    assert (n - 1) * DT <= detection_bound_s(r.fdir.monitors[0].cfg, DT)


@pytest.mark.parametrize("stale_s", [0.5, 3.0])
def test_stale_trips_stale_s_after_the_last_fresh_reading(stale_s: float) -> None:
    r = Rig(mon("stale", telemetry="trap_temp_k", stale_s=stale_s))
    t_trip = r.run_until_trip(lambda t: {"trap_temp_k": 120.0 if t < 1.0 else None})
    assert t_trip == pytest.approx(0.9 + stale_s)  # last fresh sample at 0.9 s


def test_stale_from_the_start_and_fresh_again_clears() -> None:
    r = Rig(mon("stale", telemetry="trap_temp_k", stale_s=3.0))
    assert r.run_until_trip(lambda t: {"trap_temp_k": None}) == pytest.approx(3.0)
    r.step({"trap_temp_k": 130.0})
    assert not r.fdir.active()
    assert r.named("fdir_cleared")[0]["monitor"] == "m"


@pytest.mark.parametrize("n", [1, 10])
def test_rate_trips_when_its_window_is_full_and_not_before(n: int) -> None:
    r = Rig(mon("rate", telemetry="h2_tank_pressure_pa", direction="falling", rate_above=20.0,
                window_s=10.0, persistence=n))
    t_trip = r.run_until_trip(lambda t: {"h2_tank_pressure_pa": 1e5 - 25.0 * t})
    assert t_trip == pytest.approx(10.0 + (n - 1) * DT)
    (trip,) = r.named("fdir_trip")
    assert trip["value"] == pytest.approx(-25.0)


def test_rate_direction_and_threshold() -> None:
    rising = Rig(mon("rate", telemetry="chamber_pressure_pa", direction="rising",
                     rate_above=1.0, window_s=5.0))
    assert rising.run_until_trip(lambda t: {"chamber_pressure_pa": 100.0 - 5.0 * t},
                                 end_s=60.0) is None
    slow = Rig(mon("rate", telemetry="chamber_pressure_pa", rate_above=1.0, window_s=5.0))
    assert slow.run_until_trip(lambda t: {"chamber_pressure_pa": 0.9 * t}, end_s=60.0) is None
    either = Rig(mon("rate", telemetry="chamber_pressure_pa", rate_above=1.0, window_s=5.0))
    assert either.run_until_trip(lambda t: {"chamber_pressure_pa": 1.1 * t}) == pytest.approx(5.0)


def test_rate_with_a_condition_restarts_its_window_when_the_condition_returns() -> None:
    leak = mon("rate", telemetry="h2_tank_pressure_pa", direction="falling", rate_above=20.0,
               window_s=10.0, when=[ConditionConfig("cmd_electrolyzer_current_a", below=0.05)])
    r = Rig(leak)

    def sample(t: float) -> dict[str, Any]:  # falling fast throughout; producing until 30 s
        return {"h2_tank_pressure_pa": 1e6 - 100.0 * t,
                "cmd_electrolyzer_current_a": 12.0 if t < 30.0 else 0.0}

    assert r.run_until_trip(sample) == pytest.approx(40.0)


@pytest.mark.parametrize("n", [1, 10])
def test_crosscheck_trips_for_s_after_its_condition_starts(n: int) -> None:
    heater = mon("crosscheck", when=[ConditionConfig("cmd_heater_power_w", above=15.0)],
                 for_s=120.0, expect=ExpectConfig("heater_temp_k", rises_by=5.0),
                 persistence=n)
    r = Rig(heater)

    def sample(t: float) -> dict[str, Any]:  # 25 W from 10 s on; the plate creeps up
        return {"heater_temp_k": 100.0 + 0.01 * t, "cmd_heater_power_w": 25.0 if t >= 10.0
                else 0.0}

    assert r.run_until_trip(sample) == pytest.approx(130.0 + (n - 1) * DT)
    # heating as it should: never
    ok = Rig(heater)
    assert ok.run_until_trip(lambda t: {"heater_temp_k": 100.0 + 0.1 * t,
                                        "cmd_heater_power_w": 25.0}, end_s=600.0) is None


def test_crosscheck_fraction_and_below() -> None:
    stack = mon("crosscheck", when=[ConditionConfig("cmd_electrolyzer_current_a", above=1.0)],
                for_s=5.0, expect=ExpectConfig("stack_current_a",
                                               fraction_of="cmd_electrolyzer_current_a",
                                               min_fraction=0.5))
    r = Rig(stack)
    assert r.run_until_trip(lambda t: {"stack_current_a": 5.9, "cmd_electrolyzer_current_a": 12.0}
                            ) == pytest.approx(5.0)
    ok = Rig(stack)
    assert ok.run_until_trip(lambda t: {"stack_current_a": 6.0, "cmd_electrolyzer_current_a": 12.0},
                             end_s=60.0) is None
    trap = mon("crosscheck", when=[ConditionConfig("cmd_cryocooler_on", above=0.5)],
               for_s=60.0, expect=ExpectConfig("trap_temp_k", below=155.0), persistence=3)
    r = Rig(trap)
    assert r.run_until_trip(lambda t: {"trap_temp_k": 160.0, "cmd_cryocooler_on": True}
                            ) == pytest.approx(60.2)


def test_crosscheck_condition_lapse_resets_and_clears() -> None:
    heater = mon("crosscheck", when=[ConditionConfig("cmd_heater_power_w", above=15.0)],
                 for_s=10.0, expect=ExpectConfig("heater_temp_k", rises_by=5.0))
    r = Rig(heater)
    assert r.run_until_trip(lambda t: {"heater_temp_k": 100.0, "cmd_heater_power_w": 20.0}
                            ) == pytest.approx(10.0)
    r.step({"heater_temp_k": 100.0}, {"heater_power_w": 0.0})
    assert not r.fdir.active()
    assert r.named("fdir_cleared")[0]["why"] == "condition no longer holds"
    start = r.t
    r.events.clear()
    assert r.run_until_trip(lambda t: {"heater_temp_k": 100.0, "cmd_heater_power_w": 20.0}
                            ) == pytest.approx(start + 10.0)


def test_link_trips_when_the_counter_grows_faster_than_max_count_per_window() -> None:
    r = Rig(mon("link", counter="link_timeouts", max_count=5, window_s=10.0))
    # one timeout a second: the 6th within the window trips
    assert r.run_until_trip(lambda t: {"link_timeouts": float(int(t + 1e-9))}) == \
        pytest.approx(6.0)
    slow = Rig(mon("link", counter="link_timeouts", max_count=5, window_s=10.0))
    assert slow.run_until_trip(lambda t: {"link_timeouts": float(int(t / 2.5))},
                               end_s=300.0) is None
    sil = Rig(mon("link", counter="link_timeouts", max_count=0, window_s=10.0))
    assert sil.run_until_trip(lambda t: {}, end_s=60.0) is None  # no link: nothing to see


def test_enabled_in_and_leaving_the_state_clears() -> None:
    r = Rig(mon("limit", telemetry="stack_voltage_v", above=2.5, enabled_in=["ELECTROLYZE"]),
            state="IDLE")
    r.step({"stack_voltage_v": 3.0})
    assert not r.fdir.active()
    r.state = "ELECTROLYZE"
    r.step({"stack_voltage_v": 3.0})
    assert r.fdir.active()
    r.state = "SAFE"
    r.step({"stack_voltage_v": 3.0})
    assert not r.fdir.active()
    assert r.named("fdir_cleared")[0]["why"] == "disabled in SAFE"
    parent = Rig(mon("limit", telemetry="bus_cap_w", below=20.0, enabled_in=["EXTRACT"]),
                 state="EXTRACT_CAPTURE")
    parent.step({"bus_cap_w": 5.0})
    assert parent.fdir.active()


# ---- responses ---------------------------------------------------------------------
HOT = {"heater_temp_k": 500.0}
COOL = {"heater_temp_k": 300.0}
OUT = {"heater_power_w": 20.0, "valve_open": True, "cryocooler_on": True,
       "trap_heater_power_w": 0.0, "electrolyzer_current_a": 3.0}


def hot(response: str) -> MonitorConfig:
    return mon("limit", telemetry="heater_temp_k", above=480.0, response=response)


def test_log_is_an_event_only() -> None:
    r = Rig(hot("note"), note=ResponseConfig(action="log", escalate_to="none"))
    for _ in range(1000):
        r.step(HOT)
    assert r.safe == [] and r.fired == []
    assert [f["action"] for f in r.named("fdir_response")] == ["log"]
    assert r.fdir.shape(OUT) == (OUT, False)


def test_retry_power_cycles_then_resends_forced() -> None:
    r = Rig(hot("cycle"), cycle=ResponseConfig(action="retry", power_cycle=["heater_power_w",
                                                                           "cryocooler_on"]))
    assert r.fdir.shape(OUT) == (OUT, False)
    r.step(HOT)
    assert r.fdir.shape(OUT) == ({**OUT, "heater_power_w": 0.0, "cryocooler_on": False}, True)
    assert r.fdir.shape(OUT) == (OUT, True)  # the previous values, forced
    assert r.fdir.shape(OUT) == (OUT, False)
    (resp,) = r.named("fdir_response")
    assert resp["action"] == "retry" and resp["power_cycle"] == ["heater_power_w",
                                                                 "cryocooler_on"]


def test_retry_without_power_cycle_forces_one_resend() -> None:
    r = Rig(hot("resend"), resend=ResponseConfig(action="retry"))
    r.step(HOT)
    assert r.fdir.shape(OUT) == (OUT, True)
    assert r.fdir.shape(OUT) == (OUT, False)


def test_switch_sensor_substitutes_until_cleared_and_escalates_if_the_substitute_fails() -> None:
    stale = mon("stale", telemetry="heater_temp_k", stale_s=3.0, response="use_sample")
    use_sample = ResponseConfig(action="switch_sensor", sensor="heater_temp_k",
                                substitute="sample_temp_k", cooldown_s=10.0)
    r = Rig(stale, use_sample=use_sample)
    raw = {"heater_temp_k": None, "sample_temp_k": 250.0}
    assert r.fdir.substitute(raw) is raw
    for _ in range(1000):  # 100 s stale, the substitute reads: it holds, no escalation
        r.step(raw)
    assert r.fdir.substitute(raw) == {"heater_temp_k": 250.0, "sample_temp_k": 250.0}
    assert raw["heater_temp_k"] is None  # the raw readings are left alone
    assert r.safe == [] and r.named("fdir_escalate") == []
    r.step({"heater_temp_k": 301.0, "sample_temp_k": 250.0})  # fresh again: restored
    (cleared,) = r.named("fdir_cleared")
    assert cleared["restored"] == "heater_temp_k"
    assert r.fdir.substitute(raw) is raw
    # stale again and this time the substitute fails too: SAFE after the cooldown (the
    # budget of 1 switch is spent, so the second trip escalates at once)
    r.events.clear()
    r.run_until_trip(lambda t: {"heater_temp_k": None, "sample_temp_k": None})
    assert r.named("fdir_escalate")[0]["why"] == "budget of 1 spent"
    assert len(r.safe) == 1 and "heater_temp_k stale" in r.safe[0]


def test_switch_sensor_whose_substitute_fails_later_escalates_after_the_cooldown() -> None:
    stale = mon("stale", telemetry="heater_temp_k", stale_s=3.0, response="use_sample")
    use_sample = ResponseConfig(action="switch_sensor", sensor="heater_temp_k",
                                substitute="sample_temp_k", cooldown_s=10.0)
    r = Rig(stale, use_sample=use_sample)
    t_trip = r.run_until_trip(lambda t: {"heater_temp_k": None, "sample_temp_k": 250.0})
    for _ in range(50):
        r.step({"heater_temp_k": None, "sample_temp_k": 250.0})
    assert r.safe == []
    while not r.safe and r.t < 100.0:
        r.step({"heater_temp_k": None, "sample_temp_k": None})
    assert r.safe and r.t - DT >= (t_trip or 0.0) + 10.0
    assert r.fdir.substitute({"heater_temp_k": None, "sample_temp_k": 1.0})["heater_temp_k"] \
        is None


def test_abort_phase_fires_abort_and_safe_goes_safe_with_the_reason() -> None:
    r = Rig(hot("abort"), abort=ResponseConfig(action="abort_phase"))
    r.step(HOT)
    assert r.fired == [("abort", "m: heater_temp_k=500 above 480")]
    s = Rig(hot("SAFE"))
    s.step(HOT)
    s.step(HOT)
    assert s.safe == ["m: heater_temp_k=500 above 480"]


# ---- cooldown, budget, escalation --------------------------------------------------
def retries(r: Rig) -> int:
    return sum(1 for f in r.named("fdir_response") if f["action"] == "retry")


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_a_persisting_fault_gets_at_most_budget_retries_then_safe(budget: int) -> None:
    r = Rig(hot("cycle"), cycle=ResponseConfig(action="retry", power_cycle=["heater_power_w"],
                                               cooldown_s=30.0, budget=budget))
    r.step(HOT)
    assert retries(r) == 1 and r.safe == []
    while r.t < 30.0 - 1e-9:
        r.step(HOT)
        assert r.safe == []
    r.step(HOT)  # 30 s after the retry, still tripped: escalate
    assert r.safe and "escalated to SAFE" in r.safe[0]
    (esc,) = r.named("fdir_escalate")
    assert (esc["response"], esc["escalate_to"]) == ("cycle", "SAFE")
    assert esc["why"] == "still tripped 30 s after cycle"
    for _ in range(10000):
        r.step(HOT)
    assert 1 <= retries(r) <= budget and len(r.safe) == 1


@pytest.mark.parametrize("budget", [1, 2, 3])
def test_an_intermittent_fault_spends_the_budget_then_escalates(budget: int) -> None:
    r = Rig(hot("cycle"), cycle=ResponseConfig(action="retry", cooldown_s=30.0, budget=budget))
    for _ in range(50):  # trips and clears, again and again
        r.step(HOT)
        r.step(COOL)
    assert retries(r) == budget
    assert len(r.named("fdir_trip")) == 50
    esc = r.named("fdir_escalate")
    assert len(esc) == 50 - budget and esc[0]["why"] == f"budget of {budget} spent"
    assert len(r.safe) == 50 - budget  # SAFE itself is idempotent in the sequencer


def test_escalation_chain_and_none() -> None:
    r = Rig(hot("first"),
            first=ResponseConfig(action="retry", cooldown_s=5.0, escalate_to="second"),
            second=ResponseConfig(action="log", cooldown_s=5.0, escalate_to="third"),
            third=ResponseConfig(action="abort_phase", cooldown_s=5.0))
    for _ in range(200):
        r.step(HOT)
    assert [f["response"] for f in r.named("fdir_response")] == [
        "first", "second", "third", "SAFE"]
    assert [round(f["mission_time_s"], 6) for f in r.named("fdir_response")] == [
        0.0, 5.0, 10.0, 15.0]
    quiet = Rig(hot("once"), once=ResponseConfig(action="log", cooldown_s=1.0,
                                                 escalate_to="none"))
    for _ in range(200):
        quiet.step(HOT)
    assert quiet.named("fdir_escalate") == [] and quiet.fdir.active()


def test_budgets_are_given_back_when_the_ground_recovers_from_safe() -> None:
    r = Rig(hot("cycle"), cycle=ResponseConfig(action="retry", budget=1))
    r.step(HOT)
    r.step(COOL)
    r.step(HOT)
    assert retries(r) == 1 and len(r.safe) == 1
    r.state = "SAFE"
    r.step(COOL)
    r.state = "IDLE"
    r.step(COOL)
    assert r.named("fdir_budget_reset")
    r.step(HOT)
    assert retries(r) == 2


def test_records_for_the_summary() -> None:
    r = Rig(hot("cycle"), cycle=ResponseConfig(action="retry", cooldown_s=1.0))
    for _ in range(20):
        r.step(HOT)
    r.step(COOL)
    (rec,) = r.fdir.records
    assert rec["monitor"] == "m" and rec["tripped_at_s"] == 0.0
    assert rec["response"] == "SAFE" and rec["actions"] == ["cycle", "SAFE"]
    assert rec["cleared_at_s"] == pytest.approx(2.0)


# ---- load errors -------------------------------------------------------------------
def table_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "fdir.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_table(path, set(SENSORS), set(ACTUATORS), state_names())
    msg = str(exc.value)
    assert str(path) in msg
    return msg


GOOD = "{id: a, kind: limit, telemetry: heater_temp_k, above: 480.0, response: SAFE}"


@pytest.mark.parametrize("entry, key_path, words", [
    ("{id: a, kind: limit, telemetry: heater_tmp_k, above: 1.0, response: SAFE}",
     "monitors[1].telemetry", ["unknown telemetry 'heater_tmp_k'", "heater_temp_k"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, response: panic}",
     "monitors[1].response", ["unknown response 'panic'", "SAFE"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: hot, response: SAFE}",
     "monitors[1].above", ["expected a number"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: .nan, response: SAFE}",
     "monitors[1].above", ["out of range"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, response: SAFE}",
     "monitors[1].above", ["'above' or 'below'"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, below: 2.0, response: SAFE}",
     "monitors[1].below", ["must be below"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, persistence: 0, "
     "response: SAFE}", "monitors[1].persistence", ["out of range"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, response: SAFE, "
     "enabled_in: [IDLE, EXTRACT_HAET]}", "monitors[1].enabled_in[1]",
     ["unknown state 'EXTRACT_HAET'", "EXTRACT_HEAT"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, response: SAFE, "
     "enabled_in: sometimes}", "monitors[1].enabled_in", ["'all' or a list"]),
    ("{id: a, kind: limt, telemetry: heater_temp_k, above: 1.0, response: SAFE}",
     "monitors[1].kind", ["'limt' is not one of", "crosscheck"]),
    ("{id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, response: SAFE, "
     "persistance: 3}", "monitors[1].persistance", ["did you mean 'persistence'"]),
    ("{id: heater_hot, kind: limit, telemetry: heater_temp_k, above: 1.0, response: SAFE}",
     "monitors[1].id", ["duplicate"]),
    ("{id: Bad-Id, kind: limit, telemetry: heater_temp_k, above: 1.0, response: SAFE}",
     "monitors[1].id", ["lower_snake_case"]),
    ("{id: a, kind: stale, telemetry: trap_temp_k, response: SAFE}",
     "monitors[1].stale_s", ["stale_s > 0"]),
    ("{id: a, kind: rate, telemetry: trap_temp_k, rate_above: 1.0, response: SAFE}",
     "monitors[1].window_s", ["window_s > 0"]),
    ("{id: a, kind: rate, telemetry: trap_temp_k, window_s: -1, rate_above: 1, response: SAFE}",
     "monitors[1].window_s", ["out of range"]),
    ("{id: a, kind: rate, telemetry: trap_temp_k, window_s: 5, rate_above: 1, "
     "direction: down, response: SAFE}", "monitors[1].direction", ["'down' is not one of"]),
    ("{id: a, kind: crosscheck, for_s: 5, expect: {telemetry: trap_temp_k, below: 1}, "
     "response: SAFE}", "monitors[1].when", ["at least one"]),
    ("{id: a, kind: crosscheck, for_s: 5, when: [{telemetry: cmd_heater, above: 1}], "
     "expect: {telemetry: trap_temp_k, below: 1}, response: SAFE}",
     "monitors[1].when[0].telemetry", ["unknown telemetry 'cmd_heater'",
                                       "cmd_heater_power_w"]),
    ("{id: a, kind: crosscheck, for_s: 5, when: [{telemetry: cmd_heater_power_w}], "
     "expect: {telemetry: trap_temp_k, below: 1}, response: SAFE}",
     "monitors[1].when[0]", ["'above' or 'below'"]),
    ("{id: a, kind: crosscheck, for_s: 5, when: [{telemetry: cmd_heater_power_w, above: 1}], "
     "expect: {telemetry: trap_temp_k, below: 1, rises_by: 2}, response: SAFE}",
     "monitors[1].expect", ["exactly one of", "below, rises_by"]),
    ("{id: a, kind: crosscheck, for_s: 5, when: [{telemetry: cmd_heater_power_w, above: 1}], "
     "expect: {telemetry: stack_current_a, fraction_of: cmd_stack}, response: SAFE}",
     "monitors[1].expect.fraction_of", ["unknown telemetry 'cmd_stack'"]),
    ("{id: a, kind: crosscheck, when: [{telemetry: cmd_heater_power_w, above: 1}], "
     "expect: {telemetry: trap_temp_k, below: 1}, response: SAFE}",
     "monitors[1].for_s", ["needs for_s"]),
    ("{id: a, kind: link, counter: timeouts, max_count: 5, window_s: 10, response: SAFE}",
     "monitors[1].counter", ["link_*"]),
    ("{id: a, kind: link, counter: link_timeouts, window_s: 10, response: SAFE}",
     "monitors[1].max_count", ["needs max_count"]),
])
def test_bad_monitor_is_a_load_error_naming_the_entry(tmp_path: Path, entry: str,
                                                      key_path: str, words: list[str]) -> None:
    text = ("monitors:\n  - {id: heater_hot, kind: limit, telemetry: heater_temp_k, "
            f"above: 480.0, response: SAFE}}\n  - {entry}\n")
    msg = table_error(tmp_path, text)
    assert key_path in msg, msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("responses, key_path, words", [
    ("x: {action: retry, escalate_to: nothing}", "responses.x.escalate_to",
     ["unknown response 'nothing'"]),
    ("x: {action: retry, escalate_to: y}\n  y: {action: log, escalate_to: x}",
     "responses.x.escalate_to", ["loops", "x -> y -> x"]),
    ("x: {action: retry, escalate_to: x}", "responses.x.escalate_to", ["loops"]),
    ("x: {action: retry, power_cycle: [heater]}", "responses.x.power_cycle[0]",
     ["unknown actuator 'heater'", "heater_power_w"]),
    ("x: {action: switch_sensor, sensor: heater_temp_k, substitute: sample_k}",
     "responses.x.substitute", ["unknown telemetry 'sample_k'"]),
    ("x: {action: switch_sensor, sensor: heater_temp_k, substitute: heater_temp_k}",
     "responses.x.substitute", ["must differ"]),
    ("x: {action: reboot}", "responses.x.action", ["'reboot' is not one of"]),
    ("x: {action: retry, budget: -1}", "responses.x.budget", ["out of range"]),
    ("x: {action: retry, cooldown_s: -1}", "responses.x.cooldown_s", ["out of range"]),
    ("SAFE: {action: log}", "responses.SAFE", ["built in"]),
])
def test_bad_response_is_a_load_error_naming_the_entry(tmp_path: Path, responses: str,
                                                       key_path: str, words: list[str]) -> None:
    msg = table_error(tmp_path, f"responses:\n  {responses}\nmonitors:\n  - {GOOD}\n")
    assert key_path in msg, msg
    for w in words:
        assert w in msg, msg


def test_a_mission_naming_a_bad_table_fails_to_load_naming_the_table(tmp_path: Path) -> None:
    (tmp_path / "fdir.yaml").write_text(
        "monitors:\n  - {id: a, kind: limit, telemetry: heater_temp_k, above: 1.0, "
        "response: SAFE, enabled_in: [IDEL]}\n", encoding="utf-8")
    missions = tmp_path / "missions"
    missions.mkdir()
    mission = missions / "m.yaml"
    mission.write_text("name: m\nfdir: ../fdir.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_inputs(mission, ROOT / "configs" / "hardware" / "sim.yaml")
    assert f"{tmp_path / 'fdir.yaml'}: monitors[0].enabled_in[0]" in str(exc.value)
    mission.write_text("name: m\nfdir: nowhere.yaml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_inputs(mission, ROOT / "configs" / "hardware" / "sim.yaml")


# ---- the shipped table and its documentation ---------------------------------------
def shipped() -> FdirTable:
    return load_table(SHIPPED, set(SENSORS), set(ACTUATORS), state_names())


def test_shipped_table_loads_and_every_chain_ends_in_safe() -> None:
    table = shipped()
    for m in table.monitors:
        name = m.response
        while name != "none" and table.responses[name].action != "safe":
            name = table.responses[name].escalate_to
        assert name == ("none" if m.response == "LOG" else "SAFE"), m.id


def test_docs_list_every_shipped_monitor_with_its_detection_bound() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for m in shipped().monitors:
        row = next((line for line in doc.splitlines() if line.startswith(f"| `{m.id}`")), None)
        assert row is not None, m.id
        bound = detection_bound_s(m, DT)
        assert re.search(rf"\| {bound:g} s \|", row), (m.id, bound, row)

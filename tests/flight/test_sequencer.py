"""The mission sequencer: transitions and guards, timeouts, SAFE, RECOVER, phases, events."""

from __future__ import annotations

import math
from typing import Any

import pytest

from flight.config import MissionConfig, PhaseConfig
from flight.sequencer import Sequencer, leaf_states, load_chart

CHART = load_chart()
LEAVES = leaf_states(CHART)
ALL_OFF = {"heater": "OFF", "valve": "CLOSED", "cryocooler": "OFF", "trap_heater": "OFF",
           "electrolysis": "OFF"}

# Readings under which no automatic guard past CHECKOUT holds: the chamber is between
# "vapour seen" (2 Pa) and "capture ended" (0.2 Pa), the trap neither cold nor melted,
# the valve open, the reservoir not empty.
BASE: dict[str, Any] = {
    "heater_temp_k": 300.0, "sample_temp_k": 200.0, "chamber_pressure_pa": 1.0,
    "trap_temp_k": 200.0, "reservoir_mass_kg": 0.01, "h2_tank_pressure_pa": 1e3,
    "o2_tank_pressure_pa": 1e3, "stack_voltage_v": 1.5, "stack_current_a": 0.0,
    "bus_power_w": 10.0, "bus_cap_w": 45.0, "valve_open": True,
}


class Rig:
    """A sequencer with recording fakes for emit, on_modes and the FDIR flag."""

    def __init__(self, cfg: MissionConfig | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.modes: list[dict[str, str]] = []
        self.fdir = False
        self.t = 0.0
        self.seq = Sequencer(cfg or MissionConfig(name="test"), self.modes.append,
                             lambda event, **f: self.events.append((event, f)),
                             fdir_active=lambda: self.fdir)

    @property
    def state(self) -> str:
        return self.seq.state

    def step(self, dt_s: float = 1.0, **overrides: Any) -> str:
        """Advance mission time by ``dt_s``, observe BASE + overrides, step; the new state."""
        self.t += dt_s
        self.seq.observe(self.t, {**BASE, **overrides})
        self.seq.step()
        return self.seq.state

    def fire(self, trigger: str, reason: str | None = None, dt_s: float = 1.0,
             **overrides: Any) -> bool:
        self.t += dt_s
        self.seq.observe(self.t, {**BASE, **overrides})
        return self.seq.fire(trigger, reason)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]


# How to get from one state to the next, with readings that make the guards hold.
def _to_checkout(r: Rig) -> None:
    r.step()


def _to_idle(r: Rig) -> None:
    r.step()


def _to_heat(r: Rig) -> None:
    assert r.fire("start_extraction", "test")


def _to_capture(r: Rig) -> None:
    r.step(chamber_pressure_pa=3.0, trap_temp_k=100.0)


def _to_secure(r: Rig) -> None:
    r.step(dt_s=300.0, chamber_pressure_pa=0.1, sample_temp_k=260.0)


def _to_transfer(r: Rig) -> None:
    r.step(valve_open=False)


def _to_electrolyze(r: Rig) -> None:
    r.step(trap_temp_k=290.0)


PATH = [("CHECKOUT", _to_checkout), ("IDLE", _to_idle), ("EXTRACT_HEAT", _to_heat),
        ("EXTRACT_CAPTURE", _to_capture), ("EXTRACT_SECURE", _to_secure),
        ("TRANSFER", _to_transfer), ("ELECTROLYZE", _to_electrolyze)]


def drive_to(r: Rig, target: str) -> Rig:
    if target == "BOOT":
        return r
    for state, go in PATH:
        go(r)
        assert r.state == state
        if state == target:
            return r
    raise AssertionError(f"no path to {target}")


def at(target: str, cfg: MissionConfig | None = None) -> Rig:
    return drive_to(Rig(cfg), target)


NON_SAFE = [s for s in LEAVES if s != "SAFE"]


def test_chart_has_the_expected_leaves() -> None:
    assert set(LEAVES) == {"BOOT", "CHECKOUT", "IDLE", "EXTRACT_HEAT", "EXTRACT_CAPTURE",
                           "EXTRACT_SECURE", "TRANSFER", "ELECTROLYZE", "SAFE"}


def test_starts_in_boot_with_boot_modes_and_phase() -> None:
    r = Rig()
    assert r.state == "BOOT"
    assert r.modes == [LEAVES["BOOT"]["modes"]]
    assert [(p.state, p.entered_s, p.left_s) for p in r.seq.phases] == [("BOOT", 0.0, None)]
    assert not r.seq.complete


# ---- each transition, guard false then true ---------------------------------------
def test_boot_ok_needs_auto_boot() -> None:
    r = Rig(MissionConfig(name="t", auto_boot=False))
    assert r.step() == "BOOT"
    assert r.step() == "BOOT"
    r = Rig(MissionConfig(name="t", auto_boot=True))
    assert r.step() == "CHECKOUT"
    assert r.named("state_change")[-1]["trigger"] == "boot_ok"


def test_without_auto_boot_proceed_commands_walk_boot_and_checkout() -> None:
    """auto_boot false: BOOT and CHECKOUT wait for PROCEED; CHECKOUT -> IDLE still needs
    valid sensors."""
    r = Rig(MissionConfig(name="t", auto_boot=False))
    assert r.fire("proceed") and r.state == "CHECKOUT"
    assert not r.fire("proceed", heater_temp_k=None) and r.state == "CHECKOUT"
    assert r.fire("proceed") and r.state == "IDLE"
    assert not r.fire("proceed") and r.state == "IDLE"


def test_one_transition_per_step() -> None:
    r = Rig()
    assert r.step() == "CHECKOUT"  # checkout_ok also holds, but waits for the next step
    assert r.step() == "IDLE"


@pytest.mark.parametrize("bad", [{"trap_temp_k": math.nan}, {"bus_power_w": None},
                                 {"valve_open": None}])
def test_checkout_ok_needs_valid_sensors(bad: dict[str, Any]) -> None:
    r = at("CHECKOUT")
    for _ in range(5):
        assert r.step(**bad) == "CHECKOUT"
    assert r.step() == "IDLE"
    assert r.named("state_change")[-1]["trigger"] == "checkout_ok"


def test_idle_does_not_start_extraction_by_itself() -> None:
    r = at("IDLE")
    for _ in range(20):
        assert r.step(chamber_pressure_pa=3.0, trap_temp_k=100.0) == "IDLE"


@pytest.mark.parametrize("bad", [{"heater_temp_k": math.nan}, {"reservoir_mass_kg": None},
                                 {"bus_cap_w": 19.9}])
def test_start_extraction_guards_refuse(bad: dict[str, Any]) -> None:
    r = at("IDLE")
    n = len(r.events)
    assert r.fire("start_extraction", "cmd", **bad) is False
    assert r.state == "IDLE"
    assert len(r.events) == n  # no state change, no event


def test_start_extraction_enters_extract_heat_at_exact_min_power() -> None:
    r = at("IDLE")
    assert r.fire("start_extraction", "cmd", bus_cap_w=20.0) is True  # >= min_power_w
    assert r.state == "EXTRACT_HEAT"
    assert r.modes[-1] == LEAVES["EXTRACT_HEAT"]["modes"]
    assert r.modes[-1]["heater"] == "ON"
    last = r.named("state_change")[-1]
    assert (last["source"], last["dest"], last["reason"]) == ("IDLE", "EXTRACT_HEAT", "cmd")


@pytest.mark.parametrize("readings, moves", [
    ({"chamber_pressure_pa": 1.9, "trap_temp_k": 100.0}, False),  # no vapour yet
    ({"chamber_pressure_pa": 3.0, "trap_temp_k": 131.0}, False),  # trap not cold
    ({"chamber_pressure_pa": math.nan, "trap_temp_k": 100.0}, False),
    ({"chamber_pressure_pa": 2.0, "trap_temp_k": 130.0}, True),   # both at the threshold
])
def test_vapour_seen(readings: dict[str, Any], moves: bool) -> None:
    r = at("EXTRACT_HEAT")
    assert r.step(**readings) == ("EXTRACT_CAPTURE" if moves else "EXTRACT_HEAT")


def test_capture_done_needs_min_time_and_outgassing_ended() -> None:
    r = at("EXTRACT_CAPTURE")
    entered = r.t
    ended = {"chamber_pressure_pa": 0.1, "sample_temp_k": 260.0}
    assert r.step(dt_s=299.0, **ended) == "EXTRACT_CAPTURE"  # 299 s < capture_min_s
    assert r.step(dt_s=1.0, chamber_pressure_pa=0.3, sample_temp_k=260.0) == "EXTRACT_CAPTURE"
    assert r.step(dt_s=1.0, chamber_pressure_pa=0.1, sample_temp_k=249.0) == "EXTRACT_CAPTURE"
    assert r.t - entered >= 300.0
    assert r.step(dt_s=1.0, **ended) == "EXTRACT_SECURE"
    assert r.named("state_change")[-1]["trigger"] == "capture_done"
    assert r.modes[-1]["valve"] == "CLOSED" and r.modes[-1]["heater"] == "OFF"


@pytest.mark.parametrize("valve", [True, None, 0])
def test_secured_needs_the_valve_reported_closed(valve: Any) -> None:
    r = at("EXTRACT_SECURE")
    assert r.step(valve_open=valve) == "EXTRACT_SECURE"
    assert r.step(valve_open=False) == "TRANSFER"
    assert r.modes[-1]["trap_heater"] == "MELT"


def test_melted_needs_a_warm_trap() -> None:
    r = at("TRANSFER")
    assert r.step(trap_temp_k=279.9) == "TRANSFER"
    assert r.step(trap_temp_k=280.0) == "ELECTROLYZE"
    assert r.modes[-1]["electrolysis"] == "RUN"


def test_water_used_needs_an_empty_reservoir_and_completes() -> None:
    r = at("ELECTROLYZE")
    assert r.step(reservoir_mass_kg=2.1e-4) == "ELECTROLYZE"
    assert not r.seq.complete
    assert r.step(reservoir_mass_kg=2.0e-4) == "IDLE"
    assert r.seq.complete
    assert len(r.named("mission_complete")) == 1
    assert r.modes[-1] == LEAVES["IDLE"]["modes"]


# ---- complete ---------------------------------------------------------------------
def test_complete_is_set_only_by_electrolyze_to_idle() -> None:
    r = Rig()
    for state, go in PATH:
        go(r)
        assert r.state == state
        assert not r.seq.complete
    r.step(reservoir_mass_kg=0.0)
    assert r.seq.complete


def test_recover_to_idle_does_not_complete() -> None:
    r = at("TRANSFER")
    r.seq.go_safe("test")
    assert r.fire("recover", "ground") is True
    assert r.state == "IDLE"
    assert not r.seq.complete
    assert r.named("mission_complete") == []


# ---- timeouts -----------------------------------------------------------------------
def test_boot_times_out_to_safe_after_timeout_s_not_before() -> None:
    r = Rig(MissionConfig(name="t", auto_boot=False))
    limit = LEAVES["BOOT"]["timeout_s"]
    r.seq.observe(limit - 0.1, BASE)
    r.seq.step()
    assert r.state == "BOOT"
    assert r.named("phase_timeout") == []
    r.seq.observe(limit, BASE)
    r.seq.step()
    assert r.state == "SAFE"
    assert r.named("phase_timeout") == [{"state": "BOOT", "limit_s": limit, "fires": "safe"}]
    assert "timeout in BOOT" in (r.seq.safe_reason or "")


def test_timeout_counts_from_entry_into_the_state() -> None:
    r = at("EXTRACT_HEAT")
    entered = r.t
    limit = LEAVES["EXTRACT_HEAT"]["timeout_s"]
    r.seq.observe(entered + limit - 0.1, BASE)
    r.seq.step()
    assert r.state == "EXTRACT_HEAT"
    r.seq.observe(entered + limit, BASE)
    r.seq.step()
    assert r.state == "SAFE"


def test_per_mission_timeout_override() -> None:
    cfg = MissionConfig(name="t", timeouts={"EXTRACT_HEAT": PhaseConfig(timeout_s=100.0)})
    r = at("EXTRACT_HEAT", cfg)
    entered = r.t
    r.seq.observe(entered + 99.9, BASE)
    r.seq.step()
    assert r.state == "EXTRACT_HEAT"
    r.seq.observe(entered + 100.0, BASE)
    r.seq.step()
    assert r.state == "SAFE"
    assert r.named("phase_timeout")[-1]["limit_s"] == 100.0
    assert "EXTRACT_HEAT" in (r.seq.safe_reason or "")


def test_capture_timeout_goes_to_secure_not_safe() -> None:
    cfg = MissionConfig(name="t", timeouts={"EXTRACT_CAPTURE": PhaseConfig(timeout_s=50.0)})
    r = at("EXTRACT_CAPTURE", cfg)
    entered = r.t
    r.seq.observe(entered + 49.0, BASE)
    r.seq.step()
    assert r.state == "EXTRACT_CAPTURE"
    r.seq.observe(entered + 50.0, BASE)
    r.seq.step()
    assert r.state == "EXTRACT_SECURE"
    assert r.named("state_change")[-1]["trigger"] == "capture_timeout"
    assert r.seq.safe_reason is None


def test_timeout_wins_over_a_holding_guard() -> None:
    cfg = MissionConfig(name="t", timeouts={"TRANSFER": PhaseConfig(timeout_s=10.0)})
    r = at("TRANSFER", cfg)
    assert r.step(dt_s=10.0, trap_temp_k=290.0) == "SAFE"


# ---- SAFE, ABORT, RECOVER -------------------------------------------------------------
@pytest.mark.parametrize("state", NON_SAFE)
def test_go_safe_from_every_state_and_idempotent(state: str) -> None:
    r = at(state)
    r.seq.go_safe(f"why in {state}")
    assert r.state == "SAFE"
    assert r.seq.safe_reason == f"why in {state}"
    assert r.modes[-1] == ALL_OFF
    last = r.named("state_change")[-1]
    assert (last["source"], last["dest"], last["reason"]) == (state, "SAFE", f"why in {state}")
    n_events, n_modes, n_phases = len(r.events), len(r.modes), len(r.seq.phases)
    r.seq.go_safe("second reason")
    assert r.fire("safe", "third reason") is False
    assert r.state == "SAFE"
    assert r.seq.safe_reason == f"why in {state}"
    assert (len(r.events), len(r.modes), len(r.seq.phases)) == (n_events, n_modes, n_phases)


@pytest.mark.parametrize("state", NON_SAFE)
def test_safe_trigger_from_every_state(state: str) -> None:
    r = at(state)
    assert r.fire("safe", "SAFE command (ground)") is True
    assert r.state == "SAFE"
    assert r.seq.safe_reason == "SAFE command (ground)"


def test_safe_stays_safe_whatever_the_readings() -> None:
    r = at("ELECTROLYZE")
    r.seq.go_safe("x")
    for _ in range(3):
        assert r.step(dt_s=1e5, reservoir_mass_kg=0.0, trap_temp_k=100.0,
                      chamber_pressure_pa=3.0) == "SAFE"


@pytest.mark.parametrize("state", ["EXTRACT_HEAT", "EXTRACT_CAPTURE", "EXTRACT_SECURE",
                                   "TRANSFER", "ELECTROLYZE"])
def test_abort_from_active_phases(state: str) -> None:
    r = at(state)
    assert r.fire("abort", "ABORT command (ground)") is True
    assert r.state == "SAFE"
    assert r.seq.safe_reason == "ABORT command (ground)"
    assert r.named("state_change")[-1]["trigger"] == "abort"


@pytest.mark.parametrize("state", ["BOOT", "CHECKOUT", "IDLE"])
def test_abort_refused_outside_active_phases(state: str) -> None:
    r = at(state)
    n = len(r.events)
    assert r.fire("abort", "ABORT command (ground)") is False
    assert r.state == state
    assert len(r.events) == n


def test_safe_reason_defaults_to_the_trigger() -> None:
    r = at("TRANSFER")
    r.fire("abort")
    assert r.seq.safe_reason == "abort"


def test_recover_refused_while_fdir_active_and_accepted_after() -> None:
    r = at("EXTRACT_CAPTURE")
    r.fdir = True
    r.seq.go_safe("limit: heater_temp_k=500 above 480")
    n = len(r.events)
    assert r.fire("recover", "RECOVER command (ground)") is False
    assert r.state == "SAFE"
    assert len(r.events) == n
    assert r.seq.safe_reason == "limit: heater_temp_k=500 above 480"
    r.fdir = False
    assert r.fire("recover", "RECOVER command (ground)") is True
    assert r.state == "IDLE"
    assert r.seq.safe_reason is None
    assert r.modes[-1] == LEAVES["IDLE"]["modes"]
    last = r.named("state_change")[-1]
    assert (last["source"], last["dest"], last["trigger"]) == ("SAFE", "IDLE", "recover")


@pytest.mark.parametrize("state", NON_SAFE)
def test_recover_only_from_safe(state: str) -> None:
    r = at(state)
    assert r.fire("recover", "ground") is False
    assert r.state == state


def test_mission_can_restart_after_recover() -> None:
    r = at("TRANSFER")
    r.seq.go_safe("x")
    r.fire("recover")
    assert r.fire("start_extraction") is True
    assert r.state == "EXTRACT_HEAT"


# ---- events and phases -----------------------------------------------------------------
def _full_mission_with_safe_and_recover() -> Rig:
    r = at("ELECTROLYZE")
    r.step(reservoir_mass_kg=0.0)
    r.fire("start_extraction")
    r.step(chamber_pressure_pa=3.0, trap_temp_k=100.0)
    r.fire("abort", "ground abort")
    r.fire("recover")
    return r


def test_every_state_change_is_an_event_matching_the_phases() -> None:
    r = _full_mission_with_safe_and_recover()
    changes = r.named("state_change")
    phases = r.seq.phases
    assert [p.state for p in phases] == [
        "BOOT", "CHECKOUT", "IDLE", "EXTRACT_HEAT", "EXTRACT_CAPTURE", "EXTRACT_SECURE",
        "TRANSFER", "ELECTROLYZE", "IDLE", "EXTRACT_HEAT", "EXTRACT_CAPTURE", "SAFE", "IDLE"]
    assert len(changes) == len(phases) - 1
    for ev, before, after in zip(changes, phases[:-1], phases[1:], strict=True):
        assert (ev["source"], ev["dest"]) == (before.state, after.state)
    # on_modes: once at construction, then once per state entered, with that state's modes
    assert r.modes == [LEAVES[p.state]["modes"] for p in phases]


def test_phases_record_entered_and_left_times() -> None:
    r = Rig()
    times = []
    for _, go in PATH:
        go(r)
        times.append(r.t)
    phases = r.seq.phases
    assert phases[0].entered_s == 0.0
    assert [p.entered_s for p in phases[1:]] == times
    for p, nxt in zip(phases, phases[1:], strict=False):
        assert p.left_s == nxt.entered_s
        assert p.left_s is not None and p.left_s >= p.entered_s
    assert phases[-1].left_s is None
    assert r.seq.entered_s == times[-1]

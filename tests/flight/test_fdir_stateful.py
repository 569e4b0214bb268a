"""A Hypothesis state machine driving the real cycle (executive, sequencer, FDIR with the
shipped table, controllers, commands) with random commands, fault-like readings (None,
NaN, out of range) and random time steps; the safety invariants hold throughout:

- in SAFE the heater is commanded 0 W, electrolysis 0 A and the valve closed;
- SAFE is left only by RECOVER;
- every state change has exactly one ``state_change`` event;
- RECOVER never succeeds while an FDIR monitor is active.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from common.clock import SteppedClock
from flight.app import load_fdir
from flight.channels import ACTUATORS, SENSORS, ActuatorWriter, SensorReader
from flight.commands import Commander
from flight.config import LimitConfig, MissionConfig
from flight.executive import Executive
from flight.fdir.engine import Fdir
from flight.sequencer import Sequencer
from flight.subsystems import Subsystems

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
NOMINAL: dict[str, Any] = {
    "heater_temp_k": 300.0, "sample_temp_k": 250.0, "chamber_pressure_pa": 0.01,
    "trap_temp_k": 120.0, "reservoir_mass_kg": 0.0, "h2_tank_pressure_pa": 1e3,
    "o2_tank_pressure_pa": 1e3, "stack_voltage_v": 1.1, "stack_current_a": 0.0,
    "bus_power_w": 0.0, "bus_cap_w": 45.0, "valve_open": False,
}
#: per reading: values a fault might produce (out of range, none, nonsense)
ODD: dict[str, list[Any]] = {
    "heater_temp_k": [600.0, 10.0, 379.0], "sample_temp_k": [500.0, 1.0],
    "chamber_pressure_pa": [1e4, 3.0, 0.0], "trap_temp_k": [200.0, 300.0, 90.0],
    "reservoir_mass_kg": [1.0, -1.0], "h2_tank_pressure_pa": [5e6, 0.0],
    "o2_tank_pressure_pa": [5e6, 0.0], "stack_voltage_v": [3.5, 0.0],
    "stack_current_a": [0.0, 50.0], "bus_power_w": [100.0, -5.0],
    "bus_cap_w": [0.0, 5.0, 100.0], "valve_open": [True, False],
}
SENSOR_NAMES = sorted(SENSORS)
#: readings under which the automatic transitions of the extraction sequence fire
PHASE_READINGS: list[dict[str, Any]] = [
    {"chamber_pressure_pa": 3.0, "trap_temp_k": 100.0},  # HEAT -> CAPTURE
    {"chamber_pressure_pa": 0.1, "sample_temp_k": 260.0},  # CAPTURE -> SECURE (after 300 s)
    {"valve_open": False, "trap_temp_k": 290.0, "reservoir_mass_kg": 0.01},  # -> ELECTROLYZE
    {"reservoir_mass_kg": 0.0, "stack_current_a": 5.0},  # ELECTROLYZE -> IDLE
]


class Device:
    """Every port: reads from the platform's readings, records what is written."""

    def __init__(self, readings: dict[str, Any]) -> None:
        self.readings = readings
        self.last: Any = None

    def _write(self, value: Any) -> None:
        self.last = value

    set_power_w = set_enabled = set_open = set_on = set_current_a = _write


class Platform:
    def __init__(self) -> None:
        self.clock = SteppedClock()
        self.readings = dict(NOMINAL)
        self.devices: dict[str, Device] = {}
        for role, _ in [*SENSORS.values(), *ACTUATORS.values()]:
            self.devices.setdefault(role, Device(self.readings))
        for name, (role, method) in SENSORS.items():
            setattr(self.devices[role], method, lambda n=name: self.readings[n])

    def advance(self, dt_s: float) -> None:
        self.clock.advance(dt_s)

    def diagnostics(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass


class NoTelemetry:
    def write(self, *args: Any) -> None:
        pass


class FlightMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.platform = Platform()
        cfg = MissionConfig(name="stateful", limits=[
            LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=3)])
        self.subsystems = Subsystems(cfg)
        self.seq = Sequencer(cfg, self.subsystems.apply_modes, self.emit,
                             fdir_active=lambda: self.fdir.active())
        self.fdir = Fdir(load_fdir(QUICK, cfg), self.seq.go_safe, self.emit, fire=self.seq.fire)
        self.commander = Commander(
            self.seq.fire, {"set_heater_setpoint": self.subsystems.heater.set_setpoint_k},
            self.emit, require_arm=True)
        devices = self.platform.devices
        self.ex = Executive(self.platform, 10.0, 1.0, SensorReader(devices, self.emit),
                            self.subsystems, self.seq, self.commander, self.fdir,
                            ActuatorWriter(devices, self.emit), NoTelemetry())  # type: ignore
        self.state = self.seq.state
        self.cycles = 0

    def emit(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))
        if event == "state_change":
            assert fields["source"] == self.state, (fields, self.state)
            assert fields["dest"] == self.seq.state
            if fields["source"] == "SAFE":
                assert fields["trigger"] == "recover", fields
            if fields["trigger"] == "recover":
                assert not self.fdir.active(), self.fdir.tripped()
            self.state = fields["dest"]

    # ---- rules -------------------------------------------------------------------------
    @rule(n=st.integers(1, 40))
    def cycles_(self, n: int) -> None:
        for _ in range(n):
            self.ex.cycle()
            self.cycles += 1
            self.platform.advance(self.ex.dt_s)

    @rule(seconds=st.floats(0.5, 400.0))
    def time_passes(self, seconds: float) -> None:
        self.platform.advance(seconds)
        self.ex.cycle()
        self.cycles += 1

    @rule(name=st.sampled_from(SENSOR_NAMES), data=st.data())
    def odd_reading(self, name: str, data: st.DataObject) -> None:
        self.platform.readings[name] = data.draw(st.sampled_from([None, math.nan, *ODD[name]]))

    @rule()
    def readings_back_to_nominal(self) -> None:
        self.platform.readings.update(NOMINAL)

    @rule(i=st.integers(0, len(PHASE_READINGS) - 1))
    def phase_readings(self, i: int) -> None:
        self.platform.readings.update(PHASE_READINGS[i])

    @rule(armed=st.booleans())
    def start_extraction(self, armed: bool) -> None:
        if armed:
            self.arm("START_EXTRACTION")
        self.command("START_EXTRACTION")

    @rule(name=st.sampled_from(["START_EXTRACTION", "ABORT", "SAFE", "RECOVER", "PROCEED"]))
    def command(self, name: str) -> None:
        self.commander.submit(name, at_s=self.platform.clock.now_s())

    @rule(command=st.sampled_from(["START_EXTRACTION", "SET_HEATER_SETPOINT"]))
    def arm(self, command: str) -> None:
        self.commander.submit("ARM", {"command": command}, at_s=self.platform.clock.now_s())

    @rule(setpoint_k=st.floats(100.0, 600.0))
    def set_heater_setpoint(self, setpoint_k: float) -> None:
        self.commander.submit("SET_HEATER_SETPOINT", {"setpoint_k": setpoint_k},
                              at_s=self.platform.clock.now_s())

    @precondition(lambda self: self.seq.state == "SAFE")
    @rule()
    def recover_with_nominal_readings(self) -> None:
        """Give RECOVER a fair chance: the faults go away, time passes, RECOVER."""
        self.platform.readings.update(NOMINAL)
        self.cycles_(40)
        self.command("RECOVER")
        self.cycles_(1)

    # ---- invariants ------------------------------------------------------------------
    @invariant()
    def safe_means_everything_off(self) -> None:
        if self.seq.state != "SAFE" or self.cycles == 0:
            return
        out = self.ex.last_commands
        assert out["heater_power_w"] == 0.0, out
        assert out["electrolyzer_current_a"] == 0.0, out
        assert out["valve_open"] is False, out
        d = self.platform.devices
        assert d["heater"].last == 0.0 and d["electrolyzer"].last == 0.0
        assert d["valve"].last is False

    @invariant()
    def one_state_change_event_per_state_change(self) -> None:
        changes = [f for e, f in self.events if e == "state_change"]
        phases = self.seq.phases
        assert len(changes) == len(phases) - 1
        assert [(c["source"], c["dest"]) for c in changes] == [
            (a.state, b.state) for a, b in zip(phases, phases[1:], strict=False)]
        assert self.state == self.seq.state

    @invariant()
    def safe_has_a_reason(self) -> None:
        if self.seq.state == "SAFE":
            assert self.seq.safe_reason


FlightMachine.TestCase.settings = settings(
    max_examples=80, stateful_step_count=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestFlightMachine = FlightMachine.TestCase

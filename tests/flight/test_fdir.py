"""FDIR limit monitors (the mission's ``limits:``): persistence, responses, active while
out of range; the shipped table; SAFE never raises, even with a failed device."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from common.clock import SteppedClock
from flight.app import load_fdir
from flight.channels import ACTUATORS, SAFE_COMMANDS, SENSORS, ActuatorWriter, SensorReader
from flight.commands import Commander
from flight.config import LimitConfig, MissionConfig
from flight.executive import Executive
from flight.fdir.engine import Fdir
from flight.fdir.table import FdirTable, limits_as_monitors
from flight.sequencer import Sequencer
from flight.subsystems import Subsystems
from ground.harness.run import load_inputs
from hal.errors import DeviceError

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"


class Rig:
    """The FDIR engine over the given limits only, a cycle every 0.1 s."""

    def __init__(self, *limits: LimitConfig) -> None:
        self.reasons: list[str] = []
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.t = 0.0
        table = FdirTable().with_monitors(limits_as_monitors(limits))
        self.mon = Fdir(table, self.reasons.append, lambda e, **f: self.events.append((e, f)))

    def check(self, readings: dict[str, Any]) -> None:
        self.mon.check(self.t, "IDLE", readings)
        self.t += 0.1

    def named(self, event: str) -> list[dict[str, Any]]:
        return [f for e, f in self.events if e == event]


@pytest.mark.parametrize("n", [1, 3, 5])
def test_persistence_n_minus_1_no_trip_n_trips(n: int) -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=n))
    for _ in range(n - 1):
        r.check({"heater_temp_k": 500.0})
    assert not r.mon.active()
    assert r.reasons == [] and r.named("fdir_trip") == []
    r.check({"heater_temp_k": 500.0})
    assert r.mon.active()
    assert len(r.reasons) == 1
    assert len(r.named("fdir_trip")) == 1


def test_an_in_range_sample_resets_the_count() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=3))
    for v in (500.0, 500.0, 470.0, 500.0, 500.0):
        r.check({"heater_temp_k": v})
    assert not r.mon.active() and r.reasons == []
    r.check({"heater_temp_k": 500.0})
    assert r.mon.active() and len(r.reasons) == 1


def test_at_the_limit_is_not_out_of_range() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1),
            LimitConfig(telemetry="trap_temp_k", below=50.0, persistence=1))
    r.check({"heater_temp_k": 480.0, "trap_temp_k": 50.0})
    assert not r.mon.active()


def test_safe_response_calls_go_safe_once_naming_telemetry_and_value() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=2))
    for _ in range(10):
        r.check({"heater_temp_k": 512.25})
    assert len(r.reasons) == 1
    assert "heater_temp_k" in r.reasons[0]
    assert "512.25" in r.reasons[0]
    assert "above 480" in r.reasons[0]
    (trip,) = r.named("fdir_trip")
    assert trip["telemetry"] == "heater_temp_k" and trip["value"] == 512.25
    assert trip["monitor"] == "limits[0]" and trip["response"] == "SAFE"
    assert trip["mission_time_s"] == pytest.approx(0.1)
    (resp,) = r.named("fdir_response")
    assert resp["monitor"] == "limits[0]" and resp["action"] == "safe"


def test_below_limit_reason() -> None:
    r = Rig(LimitConfig(telemetry="bus_cap_w", below=10.0, persistence=1))
    r.check({"bus_cap_w": 5.0})
    assert r.reasons == ["limits[0]: bus_cap_w=5 below 10"]


def test_log_response_does_not_go_safe() -> None:
    r = Rig(LimitConfig(telemetry="chamber_pressure_pa", above=5000.0, persistence=1,
                        response="LOG"))
    for _ in range(3000):  # LOG never escalates, however long it stays tripped
        r.check({"chamber_pressure_pa": 6000.0})
    assert r.reasons == []
    (trip,) = r.named("fdir_trip")
    assert trip["response"] == "LOG"
    assert [f["action"] for f in r.named("fdir_response")] == ["log"]
    assert r.named("fdir_escalate") == []
    assert r.mon.active()


def test_active_while_out_of_range_and_cleared_after() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=2))
    r.check({"heater_temp_k": 500.0})
    r.check({"heater_temp_k": 500.0})
    for _ in range(5):
        assert r.mon.active()
        r.check({"heater_temp_k": 490.0})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []
    r.check({"heater_temp_k": 470.0})
    assert not r.mon.active()
    (cleared,) = r.named("fdir_cleared")
    assert (cleared["monitor"], cleared["telemetry"], cleared["value"]) == (
        "limits[0]", "heater_temp_k", 470.0)
    assert [(rec["monitor"], rec["tripped_at_s"], rec["cleared_at_s"]) for rec in r.mon.records
            ] == [("limits[0]", pytest.approx(0.1), pytest.approx(0.7))]
    # it can trip again (and send SAFE again) after clearing
    r.check({"heater_temp_k": 500.0})
    r.check({"heater_temp_k": 500.0})
    assert r.mon.active() and len(r.reasons) == 2
    assert len(r.mon.records) == 2 and r.mon.records[-1]["cleared_at_s"] is None


def test_active_if_any_monitor_tripped() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1),
            LimitConfig(telemetry="h2_tank_pressure_pa", above=3e6, persistence=1))
    r.check({"heater_temp_k": 500.0, "h2_tank_pressure_pa": 4e6})
    assert len(r.reasons) == 2
    assert r.mon.tripped() == ["limits[0]", "limits[1]"]
    r.check({"heater_temp_k": 400.0, "h2_tank_pressure_pa": 4e6})
    assert r.mon.active()
    r.check({"heater_temp_k": 400.0, "h2_tank_pressure_pa": 1e6})
    assert not r.mon.active()


def test_no_limits_never_active() -> None:
    r = Rig()
    r.check({"heater_temp_k": 1e9})
    assert not r.mon.active() and r.events == []


def test_failed_reading_does_not_clear_a_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1))
    r.check({"heater_temp_k": 500.0})
    r.check({"heater_temp_k": None})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []


def test_failed_reading_does_not_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", below=100.0, persistence=1))
    r.check({"heater_temp_k": None})
    r.check({})
    assert not r.mon.active() and r.reasons == []


def test_nan_reading_does_not_clear_a_trip() -> None:
    r = Rig(LimitConfig(telemetry="heater_temp_k", above=480.0, persistence=1))
    r.check({"heater_temp_k": 500.0})
    r.check({"heater_temp_k": math.nan})
    assert r.mon.active()
    assert r.named("fdir_cleared") == []


# ---- the shipped table -------------------------------------------------------------
def test_every_mission_gets_the_shipped_table_plus_its_limits(tmp_path: Path) -> None:
    inputs = load_inputs(QUICK, SIM)
    assert inputs.fdir is not None
    ids = [m.id for m in inputs.fdir.monitors]
    for must in ("heater_overtemp", "sample_overtemp", "chamber_overpressure",
                 "h2_tank_overpressure", "o2_tank_overpressure", "h2_tank_leak",
                 "heater_not_heating", "stack_voltage_high", "trap_not_cold",
                 "heater_temp_stale", "bus_brownout", "link_timeouts"):
        assert must in ids
    assert ids[-4:] == ["limits[0]", "limits[1]", "limits[2]", "limits[3]"]
    # a copy of the mission elsewhere still gets the shipped table
    copy = tmp_path / "quick.yaml"
    copy.write_text(QUICK.read_text(encoding="utf-8"), encoding="utf-8")
    assert [m.id for m in load_inputs(copy, SIM).fdir.monitors] == ids  # type: ignore[union-attr]


def test_a_mission_can_name_its_own_table_or_none(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "mine.yaml").write_text(
        "monitors:\n  - {id: hot, kind: limit, telemetry: heater_temp_k, above: 400.0,"
        " response: SAFE}\n", encoding="utf-8")
    text = QUICK.read_text(encoding="utf-8").replace("name: quick\n", "name: quick\nfdir: @\n")
    mine = tmp_path / "mine.yaml"
    mine.write_text(text.replace("@", "tables/mine.yaml"), encoding="utf-8")
    assert [m.id for m in load_fdir(mine, load_inputs(mine, SIM).mission).monitors][0] == "hot"
    none = tmp_path / "none.yaml"
    none.write_text(text.replace("@", "''"), encoding="utf-8")
    ids = [m.id for m in load_inputs(none, SIM).fdir.monitors]  # type: ignore[union-attr]
    assert ids == ["limits[0]", "limits[1]", "limits[2]", "limits[3]"]


# ---- SAFE with a failed device -----------------------------------------------------
NOMINAL: dict[str, Any] = {
    "heater_temp_k": 300.0, "sample_temp_k": 250.0, "chamber_pressure_pa": 0.01,
    "trap_temp_k": 120.0, "reservoir_mass_kg": 0.0, "h2_tank_pressure_pa": 1e3,
    "o2_tank_pressure_pa": 1e3, "stack_voltage_v": 1.1, "stack_current_a": 0.0,
    "bus_power_w": 0.0, "bus_cap_w": 45.0, "valve_open": False,
}


class Device:
    """Every port of every kind: reads from a shared dict, writes recorded (or refused)."""

    def __init__(self, role: str, readings: dict[str, Any], broken: bool = False) -> None:
        self.role, self.readings, self.broken = role, readings, broken
        self.writes: list[Any] = []

    def _read(self, name: str) -> Any:
        return self.readings[name]

    def _write(self, value: Any) -> None:
        if self.broken:
            raise DeviceError(self.role, "no answer")
        self.writes.append(value)

    set_power_w = set_enabled = set_open = set_on = set_current_a = _write


class Platform:
    def __init__(self, broken: str = "") -> None:
        self.clock = SteppedClock()
        self.readings = dict(NOMINAL)
        self.devices: dict[str, Device] = {}
        for role, _ in [*SENSORS.values(), *ACTUATORS.values()]:
            self.devices.setdefault(role, Device(role, self.readings, role == broken))
        for name, (role, method) in SENSORS.items():
            dev = self.devices[role]
            setattr(dev, method, lambda n=name, d=dev: d._read(n))

    def advance(self, dt_s: float) -> None:
        self.clock.advance(dt_s)

    def diagnostics(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass


def stack(broken: str = "") -> tuple[Platform, Executive, list[tuple[str, dict[str, Any]]]]:
    """Platform, executive (shipped FDIR table) and the event list."""
    events: list[tuple[str, dict[str, Any]]] = []

    def emit(e: str, **f: Any) -> None:
        events.append((e, f))

    cfg = MissionConfig(name="t")
    platform = Platform(broken)
    subsystems = Subsystems(cfg)
    fdir: list[Fdir] = []
    seq = Sequencer(cfg, subsystems.apply_modes, emit, fdir_active=lambda: fdir[0].active())
    fdir.append(Fdir(load_fdir(QUICK, cfg), seq.go_safe, emit, fire=seq.fire))
    commander = Commander(seq.fire, {"set_heater_setpoint": subsystems.heater.set_setpoint_k},
                          emit, require_arm=True)

    class NoTelemetry:
        def write(self, *a: Any) -> None:
            pass

    ex = Executive(platform, 10.0, 1.0, SensorReader(platform.devices, emit), subsystems,
                   seq, commander, fdir[0], ActuatorWriter(platform.devices, emit),
                   NoTelemetry())  # type: ignore[arg-type]
    return platform, ex, events


def test_safe_with_a_heater_that_fails_every_write_still_closes_valve_and_stops_stack() -> None:
    platform, ex, events = stack(broken="heater")
    for _ in range(3):
        ex.cycle()
        platform.advance(0.1)
    assert ex.sequencer.state == "IDLE"
    # get the stack running, as if ELECTROLYZE were under way
    ex.sequencer.fire("start_extraction")
    valve, stack_dev = platform.devices["valve"], platform.devices["electrolyzer"]
    ex.writer.apply({**ex.last_commands, "valve_open": True, "electrolyzer_current_a": 5.0})
    assert valve.writes[-1] is True and stack_dev.writes[-1] == 5.0
    for _ in range(3):  # SAFE by command, by FDIR and again: idempotent, never raises
        ex.commander.submit("SAFE")
        ex.cycle()
        platform.advance(0.1)
        ex.sequencer.go_safe("again")
    platform.readings["heater_temp_k"] = 600.0  # an FDIR trip while SAFE
    for _ in range(5):
        ex.cycle()
        platform.advance(0.1)
    assert ex.sequencer.state == "SAFE"
    assert valve.writes[-1] is False
    assert stack_dev.writes[-1] == 0.0
    assert platform.devices["cryocooler"].writes[-1] is False
    assert platform.devices["heater"].writes == []
    failed = [f for e, f in events if e == "actuator_failed"]
    assert failed and {f["command"] for f in failed} == {"heater_enabled", "heater_power_w"}
    assert [f["dest"] for e, f in events if e == "state_change"].count("SAFE") == 1
    # the end-of-run safing of the app: the same writer, forced, never raises
    ex.writer.apply(SAFE_COMMANDS, force=True)
    assert valve.writes[-1] is False and stack_dev.writes[-1] == 0.0

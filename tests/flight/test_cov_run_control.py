"""Ending a run from outside and safing at its end, through the composition root
(:class:`flight.app.FlightSoftware`) over a fake platform: a stop request ends the run
after the cycle in progress with the first reason given; ``safe()`` commands every
actuator off (forced), lets one cycle pass and proves it from the readings, or says
the state is unknown when a device does not acknowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.clock import SteppedClock
from flight.app import FlightSoftware, load_fdir
from flight.channels import ACTUATORS, SAFE_COMMANDS, SENSORS
from flight.config import MissionConfig, TimedCommand
from flight.telemetry import TelemetryWriter
from hal.errors import DeviceError

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"

#: readings at rest, every actuator off (the safing readback accepts them)
REST: dict[str, Any] = {
    "heater_temp_k": 300.0, "sample_temp_k": 250.0, "chamber_pressure_pa": 0.01,
    "trap_temp_k": 120.0, "reservoir_mass_kg": 0.0, "h2_tank_pressure_pa": 1e3,
    "o2_tank_pressure_pa": 1e3, "stack_voltage_v": 1.1, "stack_current_a": 0.0,
    "bus_power_w": 0.0, "bus_cap_w": 45.0, "valve_open": False,
}


class Device:
    """Reads from the platform's readings; writes recorded per command, or refused."""

    def __init__(self, role: str, platform: FakePlatform) -> None:
        self.role = role
        self.platform = platform
        self.writes: list[tuple[str, Any]] = []


class FakePlatform:
    def __init__(self, broken: str = "", settle_error: Exception | None = None) -> None:
        self.clock = SteppedClock()
        self.readings = dict(REST)
        self.settle_error = settle_error
        self.advanced: list[float] = []
        self.devices: dict[str, Device] = {}
        for role, _ in [*SENSORS.values(), *ACTUATORS.values()]:
            self.devices.setdefault(role, Device(role, self))
        for name, (role, method) in SENSORS.items():
            setattr(self.devices[role], method, lambda n=name: self.readings[n])
        for name, (role, method) in ACTUATORS.items():
            dev = self.devices[role]

            def write(value: Any, n: str = name, d: Device = dev) -> None:
                if d.role == broken:
                    raise DeviceError(d.role, "no acknowledgement")
                d.writes.append((n, value))

            setattr(dev, method, write)

    def written(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {name: [] for name in ACTUATORS}
        for dev in self.devices.values():
            for name, value in dev.writes:
                out[name].append(value)
        return out

    def advance(self, dt_s: float) -> None:
        if self.settle_error is not None:
            raise self.settle_error
        self.advanced.append(dt_s)
        self.clock.advance(dt_s)

    def diagnostics(self) -> dict[str, float]:
        return {}

    def close(self) -> None:
        pass


def flight(tmp_path: Path, platform: FakePlatform,
           cfg: MissionConfig | None = None) -> tuple[FlightSoftware, list[tuple[str, Any]]]:
    cfg = cfg or MissionConfig(name="t")
    events: list[tuple[str, Any]] = []
    fsw = FlightSoftware(cfg, load_fdir(QUICK, cfg), platform,
                         lambda e, **f: events.append((e, f)),
                         TelemetryWriter(tmp_path / "telemetry.jsonl"))
    return fsw, events


# ---- stop requests -----------------------------------------------------------------
def test_a_stop_requested_before_the_run_ends_it_after_one_cycle_with_the_first_reason(
        tmp_path: Path) -> None:
    platform = FakePlatform()
    fsw, _ = flight(tmp_path, platform)
    fsw.request_stop("SIGINT")
    fsw.request_stop("SIGTERM")  # a second signal does not overwrite the first reason
    assert fsw.executive.stop_requested == "SIGINT"
    assert fsw.run(end_s=100.0) == "interrupted"
    assert fsw.executive.cycles == 1
    assert platform.advanced == []  # the cycle in progress finished; no time passed after


def test_a_stop_requested_mid_run_ends_it_before_the_time_limit_and_before_completion(
        tmp_path: Path) -> None:
    platform = FakePlatform()
    cfg = MissionConfig(name="t", commands=[TimedCommand(at_s=5.0, name="SAFE")])
    fsw, _ = flight(tmp_path, platform, cfg)
    seen: list[tuple[float, str]] = []

    def progress(now_s: float, state: str, readings: dict[str, Any]) -> None:
        seen.append((now_s, state))
        if now_s >= 2.0:
            fsw.request_stop("operator")

    assert fsw.executive.run(100.0, progress, progress_every_s=1.0) == "interrupted"
    # stopped in the cycle at 2 s: the queued SAFE at 5 s never ran, the run is not SAFE
    assert fsw.platform.clock.now_s() == pytest.approx(2.0)
    assert [round(t, 6) for t, _ in seen] == [0.0, 1.0, 2.0]
    assert fsw.sequencer.state == "IDLE" and not fsw.sequencer.complete
    # the mission's sequence still waits for its SAFE at 5 s
    assert fsw.ops.busy() and fsw.ops.engine.progress()["seq_next_s"] == pytest.approx(5.0)


# ---- safing at the end of a run ----------------------------------------------------
def test_safe_forces_every_actuator_off_lets_one_cycle_pass_and_confirms(
        tmp_path: Path) -> None:
    platform = FakePlatform()
    fsw, _ = flight(tmp_path, platform)
    fsw.executive.cycle()  # the writer has sent the rest position once already
    before = {name: len(values) for name, values in platform.written().items()}
    report = fsw.safe()
    assert report.state == "safe" and report.failed_writes == [] and report.problems == []
    # every SAFE command sent again although unchanged (forced), with its SAFE value
    after = platform.written()
    for name, value in SAFE_COMMANDS.items():
        assert len(after[name]) == before[name] + 1, name
        assert after[name][-1] == value
    assert platform.advanced == [pytest.approx(0.1)]  # one cycle at 10 Hz
    assert report.readback == {"bus_power_w": 0.0, "valve_open": False,
                               "stack_current_a": 0.0}


def test_safe_reads_back_after_the_settling_cycle_not_before(tmp_path: Path) -> None:
    platform = FakePlatform()
    platform.readings["bus_power_w"] = 25.0  # a load still drawing ...
    fsw, _ = flight(tmp_path, platform)
    report = fsw.safe()
    assert report.state == "unconfirmed" and report.commanded
    assert report.problems and report.problems[0].startswith("bus_power_w = 25")
    assert "NOT confirmed" in report.line()


def test_safe_with_an_unacknowledged_device_is_unknown_and_names_its_commands(
        tmp_path: Path) -> None:
    platform = FakePlatform(broken="valve")
    fsw, events = flight(tmp_path, platform)
    report = fsw.safe()
    assert report.state == "unknown" and not report.commanded and not report.confirmed
    assert report.failed_writes == ["valve_open"]
    assert [f["command"] for e, f in events if e == "actuator_failed"] == ["valve_open"]
    # the other actuators were still commanded off
    assert platform.written()["electrolyzer_current_a"] == [0.0]
    assert "payload state UNKNOWN" in report.line() and "valve_open" in report.line()


def test_safe_never_raises_when_the_settling_cycle_fails(tmp_path: Path) -> None:
    platform = FakePlatform(settle_error=DeviceError("link", "board gone"))
    fsw, _ = flight(tmp_path, platform)
    report = fsw.safe()
    assert report.commanded and not report.confirmed and report.state == "unconfirmed"
    assert report.problems[0].startswith("the last cycle failed: DeviceError")

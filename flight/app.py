"""Composition root: a mission YAML + a hardware YAML -> a wired, runnable flight stack.

Everything is validated before the run directory is created, so bad input leaves no
half-made run behind. The same code flies SIL and bench: only the hardware YAML differs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from flight.channels import (
    ACTUATORS,
    REQUIRED_DEVICES,
    SAFE_COMMANDS,
    SENSORS,
    ActuatorWriter,
    SensorReader,
)
from flight.commands import Commander, CommandError, load_dictionary, validate
from flight.config import MissionConfig, load_mission
from flight.executive import Executive, ProgressFn
from flight.fdir.engine import Fdir
from flight.fdir.table import FdirTable, limits_as_monitors, load_table, resolve_path
from flight.safing import safe_the_payload
from flight.sequencer import Sequencer, leaf_states, load_chart
from flight.subsystems import Subsystems
from flight.telemetry import EventLog, TelemetryWriter
from ground.harness.faultplan import (
    FaultPlan,
    FaultScheduler,
    build_time_sample,
    load_plan,
    parse_plan,
)
from ground.harness.injectors import FaultSession, build_injectors, catalogues
from ground.harness.summary import build_summary
from hal.registry import HardwareConfig, build_platform, load_hardware

#: a faulted run keeps flying this long in SAFE, so the oracles see whether SAFE holds
SAFE_SOAK_S = 600.0


@dataclasses.dataclass
class Inputs:
    """Validated inputs of a run."""

    mission_path: Path
    hardware_path: Path
    mission: MissionConfig
    hardware: HardwareConfig
    #: the mission's FDIR table (its ``fdir:`` file plus its ``limits:``); None: load it
    fdir: FdirTable | None = None
    #: a fault plan to inject (``thermine run --faults``); None: a clean run
    faults: FaultPlan | None = None
    faults_path: Path | None = None


def state_names(chart: dict[str, Any] | None = None) -> set[str]:
    """Every state and phase name of the chart (``EXTRACT`` and ``EXTRACT_HEAT``)."""
    chart = chart or load_chart()
    return set(leaf_states(chart)) | {s["name"] for s in chart["states"]}


def load_fdir(mission_path: str | Path, mission: MissionConfig) -> FdirTable:
    """The mission's FDIR table: its ``fdir:`` file (validated) plus its ``limits:``.

    Raises:
        hal.errors.ConfigError: naming the table file and entry of the first problem.
    """
    path = resolve_path(mission_path, mission.fdir)
    table = load_table(path, set(SENSORS), set(ACTUATORS), state_names())
    return table.with_monitors(limits_as_monitors(mission.limits))


def load_inputs(mission_path: str | Path, hardware_path: str | Path,
                seed: int | None = None, faults_path: str | Path | None = None) -> Inputs:
    """Load and validate both YAMLs (and a fault plan); ``seed`` overrides the mission's.

    Raises:
        hal.errors.ConfigError: naming the file and key path of the first problem.
    """
    chart = load_chart()
    timed = {name for name, leaf in leaf_states(chart).items() if leaf.get("on_timeout")}
    mission = load_mission(mission_path, set(SENSORS), timed, set(load_dictionary()))
    dictionary = load_dictionary()
    for i, c in enumerate(mission.commands):
        try:
            validate(dictionary, c.name, c.args)
        except CommandError as exc:
            raise ConfigError(f"{mission_path}: commands[{i}].args", str(exc)) from None
    fdir = load_fdir(mission_path, mission)
    if seed is not None:
        mission = dataclasses.replace(mission, seed=seed)
    hardware = load_hardware(hardware_path, REQUIRED_DEVICES)
    plan = None
    if faults_path is not None:
        plan = load_plan(faults_path, set(SENSORS), state_names(chart),
                         set(REQUIRED_DEVICES), catalogues())
    return Inputs(Path(mission_path), Path(hardware_path), mission, hardware, fdir, plan,
                  None if faults_path is None else Path(faults_path))


def with_plan(inputs: Inputs, data: Mapping[str, Any], where: str) -> Inputs:
    """``inputs`` with the fault plan ``data`` (``{faults: [...]}``, built in memory by a
    campaign), validated as a plan file would be; ``where`` names it in errors.

    Raises:
        hal.errors.ConfigError: naming ``where`` and the fault entry of the first problem.
    """
    plan = parse_plan(dict(data), where, set(SENSORS), state_names(), set(REQUIRED_DEVICES),
                      catalogues())
    return dataclasses.replace(inputs, faults=plan, faults_path=Path(where))


class Run:
    """One flight of a mission into a run directory."""

    def __init__(self, inputs: Inputs, out_dir: Path) -> None:
        cfg = inputs.mission
        self.inputs = inputs
        self.out_dir = out_dir
        sample = dataclasses.asdict(cfg.sample)
        if inputs.faults is not None:
            sample = build_time_sample(inputs.faults, sample)  # an ice-poor scoop
        self.platform = build_platform(inputs.hardware_path, inputs.hardware, sample, cfg.seed,
                                       capture_dir=out_dir)
        injectors = {}
        if inputs.faults is not None:  # before anything binds the ports
            injectors = build_injectors(inputs.faults, self.platform, cfg.seed,
                                        f"{inputs.faults_path}:")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(out_dir / "events.jsonl", self.platform.clock.now_s)
        emit = self.events.emit
        devices = self.platform.devices
        self.subsystems = Subsystems(cfg)
        self.fdir: Fdir
        self.sequencer = Sequencer(cfg, self.subsystems.apply_modes, emit,
                                   fdir_active=lambda: self.fdir.active())
        table = inputs.fdir if inputs.fdir is not None else load_fdir(inputs.mission_path, cfg)
        self.fdir = Fdir(table, self.sequencer.go_safe, emit, fire=self.sequencer.fire)
        self.commander = Commander(
            self.sequencer.fire,
            {"set_heater_setpoint": self.subsystems.heater.set_setpoint_k}, emit,
            require_arm=True)
        for c in cfg.commands:
            self.commander.submit(c.name, c.args, at_s=c.at_s, source="mission")
        self.telemetry = TelemetryWriter(out_dir / "telemetry.jsonl")
        self.writer = ActuatorWriter(devices, emit)
        scheduler = None
        if inputs.faults is not None:
            scheduler = FaultScheduler(inputs.faults, injectors, emit)
            clock = self.platform.clock
            self.events.listeners.append(
                lambda e, f: scheduler.on_event(e, f, clock.now_s()))  # type: ignore[union-attr]
        # the oracles read the plant's truth every second in a faulted run, every 10 s
        # in a clean one (a whole-plant snapshot is not free)
        self.faults = FaultSession(scheduler, self.platform,
                                   round(cfg.cycle_hz * (1.0 if scheduler else 10.0)))
        self.executive = Executive(
            self.platform, cfg.cycle_hz, cfg.telemetry_hz, SensorReader(devices, emit),
            self.subsystems, self.sequencer, self.commander, self.fdir, self.writer,
            self.telemetry, observers=[self.faults.observe],
            safe_soak_s=SAFE_SOAK_S if scheduler else 0.0)

    def request_stop(self, why: str) -> None:
        """End the run safely after the cycle in progress (signal-handler safe)."""
        self.executive.request_stop(why)

    def fly(self, until_s: float | None = None, progress: ProgressFn | None = None,
            wall_clock: Callable[[], float] = time.perf_counter) -> dict[str, Any]:
        """Fly to completion, SAFE, the time limit or a stop request; leave the payload
        safe and say whether the board confirmed it; write summary.json; return it.

        Raises:
            Exception: a bug in a cycle, after the payload was safed and summary.json
                written with ``end_reason: error`` (and the error).
        """
        cfg = self.inputs.mission
        end_s = cfg.max_duration_s if until_s is None else min(until_s, cfg.max_duration_s)
        self.events.emit("run_start", mission=cfg.name, seed=cfg.seed,
                         hardware=str(self.inputs.hardware_path),
                         backend=self.inputs.hardware.backend)
        t0 = wall_clock()
        error: Exception | None = None
        try:
            reason = self.executive.run(end_s, progress)
        except Exception as exc:  # a bug: still safe the payload and say how it ended
            reason, error = "error", exc
        finally:
            wall_s = wall_clock() - t0
            self.telemetry.close()
            # leave the payload safe whatever happened (a bench board keeps its last
            # commands after the flight software stops), and prove it
            now = self.platform.clock.now_s()
            truth = self.platform.truth()  # (before the read-back cycle moves the plant)
            safing = safe_the_payload(
                lambda: self.writer.apply(SAFE_COMMANDS, force=True),
                lambda: self.platform.advance(self.executive.dt_s),
                self.executive.reader.read_all)
        self.events.emit("safing", **safing.as_dict())
        self.events.emit("run_end", reason=reason, state=self.sequencer.state,
                         stop=self.executive.stop_requested)
        self.events.close()
        summary = build_summary(self.sequencer, truth, cfg.seed, now, wall_s)
        summary["end_reason"] = reason
        summary["stop_signal"] = self.executive.stop_requested
        summary["safing"] = safing.as_dict()
        if error is not None:
            summary["error"] = f"{type(error).__name__}: {error}"
        summary["fdir_records"] = self.fdir.records
        summary.update(self.faults.finish(now, self.sequencer.state, self.sequencer.complete))
        (self.out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        self.platform.close()
        if error is not None:
            raise error
        return summary

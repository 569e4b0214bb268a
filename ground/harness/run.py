"""One run of the flight software into a run directory: the harness around flight.app.

Loads and validates the mission, hardware and fault-plan YAMLs (everything before the
run directory is created, so bad input leaves no half-made run behind), builds the
platform from the hardware YAML (with the plan's injectors), composes the flight
software (:class:`flight.app.FlightSoftware`), flies it, and writes summary.json with
what flight saw, how it ended, the safing read-back and, in SIL, the plant's truth and
the oracles' verdicts. The same code flies SIL and bench: only the hardware YAML differs.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from flight.app import FlightSoftware, load_fdir, state_names
from flight.channels import REQUIRED_DEVICES, SENSORS
from flight.commands import CommandError, check_source, load_dictionary, validate
from flight.config import MissionConfig, load_mission
from flight.executive import ProgressFn
from flight.fdir.table import FdirTable
from flight.operations import mission_sequence
from flight.sequencer import leaf_states, load_chart
from flight.sequences.model import Sequence
from flight.storage import Rotation
from flight.telemetry import EventLog, TelemetryWriter, jsonable
from flight.tmtc.downlink import Downlink
from ground.harness.faultplan import (
    FaultPlan,
    FaultScheduler,
    build_time_sample,
    load_plan,
    parse_plan,
)
from ground.harness.ground_link import DownlinkFile, UdpReceiver, UdpSender, parse_udp
from ground.harness.injectors import FaultSession, build_injectors, catalogues
from ground.harness.pacing import Pacer
from ground.harness.payload_check import check_payload
from ground.harness.summary import build_summary, scoop_lines
from hal.interfaces import truth_of
from hal.registry import HardwareConfig, build_platform, load_hardware
from hal.sim.backend import mission_sample, mission_samples, resolved_sample

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
    #: the mission's stored sequence (its ``sequence:`` file or its ``commands:``)
    sequence: Sequence | None = None
    #: the resolved sample parameters of scoops 2, 3, ... (SIL: LOAD_SAMPLE)
    samples: list[dict[str, Any]] = dataclasses.field(default_factory=list)


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
            check_source(dictionary, c.name, "mission")
        except CommandError as exc:
            raise ConfigError(f"{mission_path}: commands[{i}].args", str(exc)) from None
    fdir = load_fdir(mission_path, mission)
    mission = dataclasses.replace(mission, sample=mission_sample(
        mission.sample, f"{mission_path}: sample"))
    if seed is not None:
        mission = dataclasses.replace(mission, seed=seed)
    sequence = _mission_sequence(Path(mission_path), mission)
    hardware = load_hardware(hardware_path, REQUIRED_DEVICES)
    samples = mission_samples(mission.sample, mission.samples, hardware.plant,
                              f"{mission_path}:")
    if hardware.backend == "sim":
        check_payload(mission.payload, hardware.plant, str(mission_path), str(hardware_path))
    plan = None
    if faults_path is not None:
        plan = load_plan(faults_path, set(SENSORS), state_names(chart),
                         set(REQUIRED_DEVICES), catalogues())
    return Inputs(Path(mission_path), Path(hardware_path), mission, hardware, fdir, plan,
                  None if faults_path is None else Path(faults_path), sequence, samples)


def _mission_sequence(mission_path: Path, mission: MissionConfig) -> Sequence | None:
    """The mission's stored sequence, validated (its ``sequence:`` file, relative to the
    mission, or its ``commands:``).

    Raises:
        ConfigError: naming the file, the step and the key of the first problem.
    """
    if mission.sequence and mission.commands:
        raise ConfigError(f"{mission_path}: sequence", "a mission gives its commands as "
                          "`commands:` or a `sequence:` file, not both")
    text: bytes | None = None
    where = f"{mission_path}: commands"
    if mission.sequence:
        path = mission_path.parent / mission.sequence
        try:
            text = path.read_bytes()  # (checked as UTF-8 with the rest of it)
        except OSError as exc:
            raise ConfigError(f"{mission_path}: sequence", f"cannot read {path}: "
                              f"{exc.strerror or exc}") from None
        where = str(path)
    return mission_sequence(mission, text, where)  # (a SequenceError is a ConfigError)


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
    """One flight of a mission into a run directory (telemetry.jsonl, events.jsonl,
    downlink.bin, summary.json).

    ``downlink_bin``: write downlink.bin (False, with no live link: no packets are made at
    all; only to measure what the downlink costs).
    ``rotation`` rolls telemetry.jsonl, events.jsonl and downlink.bin over by size
    (:mod:`flight.storage`); ``service`` (``thermine fly``): the run does not end when a
    scoop completes, and SAFE waits for the ground.
    ``ground`` / ``uplink`` (``udp://HOST:PORT``) open the live link: every TM packet is
    also sent to ``ground``, telecommands are taken from ``uplink`` (and a SAFE run then
    waits for the ground instead of ending). ``speed`` paces a SIL run at that multiple
    of the wall clock (None: as fast as it goes; with an uplink, 1: real time).

    Raises:
        ConfigError: a bad link URL, a port in use, or ``speed`` on a serial backend.
    """

    def __init__(self, inputs: Inputs, out_dir: Path, ground: str | None = None,
                 uplink: str | None = None, speed: float | None = None,
                 downlink_bin: bool = True, rotation: Rotation | None = None,
                 service: bool = False) -> None:
        cfg = inputs.mission
        self.inputs = inputs
        self.out_dir = out_dir
        sim = inputs.hardware.backend == "sim"
        if speed is not None and not sim:
            raise ConfigError("--speed", "for a SIL run (on the serial backend the board "
                              "emulator's --speed sets the pace)")
        if uplink and sim and speed is None:
            speed = 1.0  # with an operator on the uplink, SIL follows the wall clock
        self.pacer = Pacer(speed, 1.0 / cfg.cycle_hz) if speed is not None else None
        # the sockets first: a port in use is refused before anything is built or written
        tm_to = parse_udp(ground, "--ground") if ground else None
        tc_from = parse_udp(uplink, "--uplink") if uplink else None
        self.tc_receiver = UdpReceiver(tc_from) if tc_from else None
        try:
            self.tm_sender = UdpSender(tm_to) if tm_to else None
        except ConfigError:
            if self.tc_receiver is not None:
                self.tc_receiver.close()
            raise
        sample = resolved_sample(inputs.hardware.plant, cfg.sample)
        if inputs.faults is not None:
            sample = build_time_sample(inputs.faults, sample)  # an ice-poor scoop
        self.platform = build_platform(inputs.hardware_path, inputs.hardware, sample, cfg.seed,
                                       capture_dir=out_dir, samples=inputs.samples)
        injectors = {}
        if inputs.faults is not None:  # before anything binds the ports
            injectors = build_injectors(inputs.faults, self.platform, cfg.seed,
                                        f"{inputs.faults_path}:")
        out_dir.mkdir(parents=True, exist_ok=True)
        self.events = EventLog(out_dir / "events.jsonl", self.platform.clock.now_s, rotation)
        emit = self.events.emit
        # a service writes each sample as it comes (a batch of 64 is a minute at 1 Hz)
        self.telemetry = TelemetryWriter(out_dir / "telemetry.jsonl", 1 if service else 64,
                                         rotation=rotation, now_s=self.platform.clock.now_s)
        # the ground link: downlink.bin always, the live link on request (before the
        # flight software is built: its first events go down too)
        self.downlink_file = (DownlinkFile(out_dir / "downlink.bin", rotation,
                                           self.platform.clock.now_s) if downlink_bin
                              else None)
        sinks = [self.downlink_file.write] if self.downlink_file is not None else []
        if self.tm_sender is not None:
            sinks.append(self.tm_sender.send)
        self.downlink = Downlink(sinks)
        if sinks or self.tc_receiver is not None:  # (no sink, no uplink: no packets made)
            now_s = self.platform.clock.now_s
            self.events.listeners.append(lambda e, f: self.downlink.event(now_s(), e, f))
        emit("run_start", mission=cfg.name, seed=cfg.seed, hardware=str(inputs.hardware_path),
             backend=inputs.hardware.backend,
             mission_path=str(Path(inputs.mission_path).resolve()))
        table = inputs.fdir if inputs.fdir is not None else load_fdir(inputs.mission_path, cfg)
        # the harness watches every cycle through the platform flight steps (fault
        # triggers, oracles); flight sees the same platform port either way
        self.flight = FlightSoftware(cfg, table, _Observed(self.platform, self._observe),
                                     emit, self.telemetry, inputs.sequence)
        # SIL: the plant's truth when each scoop was loaded and when it completed, to put
        # beside flight's own accounting in the summary
        self.start_truth = truth_of(self.platform)
        self.scoop_truths: list[tuple[dict[str, float], dict[str, float] | None]] | None = None
        if self.start_truth is not None:
            self.scoop_truths = [(self.start_truth, None)]
            self.events.listeners.append(self._scoop_truth)
        self.executive = self.flight.executive
        self.sequencer = self.flight.sequencer
        self.fdir = self.flight.fdir
        scheduler = None
        if inputs.faults is not None:
            scheduler = FaultScheduler(inputs.faults, injectors, emit)
            clock = self.platform.clock
            self.events.listeners.append(
                lambda e, f: scheduler.on_event(e, f, clock.now_s()))
        # the oracles read the plant's truth every second in a faulted run, every 10 s
        # in a clean one (a whole-plant snapshot is not free)
        self.faults = FaultSession(scheduler, self.platform,
                                   round(cfg.cycle_hz * (1.0 if scheduler else 10.0)))
        self.soak_s = SAFE_SOAK_S if scheduler else 0.0
        self.uplink = None
        if sinks or self.tc_receiver is not None:
            self.uplink = self.flight.attach_ground(
                self.downlink, self.tc_receiver.receive if self.tc_receiver else None)
        if self.uplink is not None or service:
            self.soak_s = math.inf  # SAFE waits for the ground's RECOVER (or a stop)
        #: a service (thermine fly) runs until SHUTDOWN or a signal, scoop after scoop
        self.executive.service = service

    def _scoop_truth(self, event: str, _fields: dict[str, Any]) -> None:
        """A yield line began or ended (flight.accounting's ``scoop_started`` and
        ``scoop_complete``): the plant's truth now (SIL)."""
        truths = self.scoop_truths
        if truths is None or event not in ("scoop_started", "scoop_complete"):
            return
        now = truth_of(self.platform)
        assert now is not None
        if event == "scoop_complete":
            truths[-1] = (truths[-1][0], now)
        else:
            truths.append((now, None))

    def _observe(self) -> None:
        """After every cycle (before time advances): the fault scheduler and the oracles."""
        now = self.platform.clock.now_s()
        self.faults.observe(now, self.sequencer.state, self.flight.reader.readings)
        if self.pacer is not None:  # paced SIL: the next cycle waits for the wall clock
            self.pacer.wait(now)

    def request_stop(self, why: str) -> None:
        """End the run safely after the cycle in progress (signal-handler safe)."""
        self.flight.request_stop(why)

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
        t0 = wall_clock()
        error: Exception | None = None
        try:
            reason = self.executive.run(end_s, progress, hold_safe_s=self.soak_s)
        except Exception as exc:  # a bug: still safe the payload and say how it ended
            reason, error = "error", exc
        finally:
            wall_s = wall_clock() - t0
            self.telemetry.close()
            # leave the payload safe whatever happened (a bench board keeps its last
            # commands after the flight software stops), and prove it
            now = self.platform.clock.now_s()
            truth = truth_of(self.platform)  # (before the read-back cycle moves the plant)
            safing = self.flight.safe()
        safing_block = safing.as_dict()
        self.events.emit("safing", **safing_block)
        self.events.emit("run_end", reason=reason, state=self.sequencer.state,
                         stop=self.executive.stop_requested)
        self.events.close()
        self._close_link()
        readings = self.flight.reader.readings
        accounting = self.flight.ops.accountant.summary(readings)
        summary = build_summary(self.sequencer, truth, cfg.seed, now, wall_s, accounting,
                                self.start_truth)
        summary["scoops"] = scoop_lines(accounting, self.scoop_truths, truth)
        summary["end_reason"] = reason
        summary["stop_signal"] = self.executive.stop_requested
        summary["safing"] = safing_block
        if error is not None:
            summary["error"] = f"{type(error).__name__}: {error}"
        summary["downlink"] = self._link_summary()
        if self.pacer is not None:
            summary["pacing"] = self.pacer.as_dict()
        summary["fdir_records"] = self.fdir.records
        summary.update(self.faults.finish(now, self.sequencer.state, self.sequencer.complete))
        text = json.dumps(jsonable(summary), indent=2, allow_nan=False)  # (NaN: null)
        (self.out_dir / "summary.json").write_text(text + "\n")
        self.platform.close()
        if error is not None:
            raise error
        return summary


    def _close_link(self) -> None:
        for end in (self.downlink_file, self.tm_sender, self.tc_receiver):
            if end is not None:
                end.close()

    def _link_summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"packets_by_apid": {f"{a:#05x}": n for a, n in
                                                   sorted(self.downlink.packets.items())},
                               "sink_errors": self.downlink.sink_errors}
        if self.downlink_file is not None:
            out.update(file=self.downlink_file.path.name, bytes=self.downlink_file.bytes)
        if self.tm_sender is not None:
            out["udp_dropped"] = self.tm_sender.dropped
        if self.uplink is not None:
            out["tc_received"] = self.uplink.received
            out["tc_rejected"] = self.uplink.rejected
            out["tc_dropped"] = self.uplink.dropped
        return out


class _Observed:
    """The platform as flight sees it, calling ``observe`` after each cycle, just before
    time advances; everything else is the platform's own."""

    def __init__(self, platform: Any, observe: Callable[[], None]) -> None:
        self._platform = platform
        self._observe = observe
        # what the cycle calls every time, bound once (not through __getattr__)
        self.devices = platform.devices
        self.clock = platform.clock
        self.diagnostics = platform.diagnostics

    def advance(self, dt_s: float) -> None:
        self._observe()
        self._platform.advance(dt_s)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._platform, name)

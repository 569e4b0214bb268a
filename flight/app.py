"""Composition root of the flight software: a validated mission config, its FDIR table
and a platform (the HAL's devices and clock) -> the wired flight stack.

:class:`FlightSoftware` is what flies: the controllers, the state chart, FDIR, the one
command path, the sensor reader and actuator writer, and the executive that cycles them.
It knows nothing of run directories, fault plans or plant truth: the ground harness
(:mod:`ground.harness.run`) builds the platform, hands it over and writes the outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.channels import ACTUATORS, SAFE_COMMANDS, SENSORS, ActuatorWriter, SensorReader
from flight.commands import ARM_COMMAND, Commander
from flight.config import MissionConfig
from flight.executive import Executive, ProgressFn
from flight.fdir.engine import Fdir
from flight.fdir.responses import FDIR_COMMANDS
from flight.fdir.table import FdirTable, limits_as_monitors, load_table, resolve_path
from flight.operations import Operations, mission_sequence
from flight.safing import SafingReport, safe_the_payload
from flight.sequencer import Sequencer, leaf_states, load_chart
from flight.sequences.model import Sequence
from flight.subsystems import Subsystems
from flight.telemetry import TelemetryWriter
from flight.tmtc.downlink import Downlink
from flight.tmtc.uplink import Uplink
from hal.interfaces import Platform


def state_names(chart: dict[str, Any] | None = None) -> set[str]:
    """Every state and phase name of the chart (``EXTRACT`` and ``EXTRACT_HEAT``)."""
    chart = chart or load_chart()
    return set(leaf_states(chart)) | {s["name"] for s in chart["states"]}


def load_fdir(mission_path: str | Path, mission: MissionConfig) -> FdirTable:
    """The mission's FDIR table: its ``fdir:`` file (validated) plus its ``limits:``.

    Raises:
        common.errors.ConfigError: naming the table file and entry of the first problem.
    """
    path = resolve_path(mission_path, mission.fdir)
    table = load_table(path, set(SENSORS), set(ACTUATORS), state_names())
    return table.with_monitors(limits_as_monitors(mission.limits))


def check_command_path(table: Mapping[str, Mapping[str, Any]],
                       handlers: Mapping[str, Any], triggers: set[str]) -> None:
    """Every command's handler is wired, and FDIR's commands accept source ``fdir`` (a
    dictionary copy, THERMINE_DICTIONARY, could lose either).

    Raises:
        ConfigError: naming commands.yaml, the command and what is missing.
    """
    where = str(DICTIONARY.source / "commands.yaml")
    for name, spec in table.items():
        if "handler" in spec and spec["handler"] not in handlers and name != ARM_COMMAND:
            raise ConfigError(f"{where}: {name}.handler", f"{spec['handler']!r} is not a "
                              f"flight handler; known: {', '.join(sorted(handlers))}")
    for name in ("SAFE", *FDIR_COMMANDS):
        if name not in table or "fdir" not in table[name].get("sources", ["fdir"]):
            raise ConfigError(f"{where}: {name}", "FDIR acts through this command: it must "
                              "exist and accept source fdir")
    if "abort" not in triggers:
        raise ConfigError(f"{where}", "FDIR aborts a phase through a command whose trigger "
                          "is 'abort' (ABORT)")


class FlightSoftware:
    """The flight stack over ``platform``, recording events through ``emit`` and
    housekeeping through ``telemetry``. The mission's stored sequence (``sequence``, or
    by default its ``commands:``: :func:`flight.operations.mission_sequence`) runs from
    the first cycle the payload is in its start state.

    Raises:
        flight.sequences.schema.SequenceError: the mission's ``commands:`` do not make a
            valid sequence (the harness checks them before anything is built).
    """

    def __init__(self, cfg: MissionConfig, table: FdirTable, platform: Platform,
                 emit: Callable[..., None], telemetry: TelemetryWriter,
                 sequence: Sequence | None = None) -> None:
        devices = platform.devices
        self.platform = platform
        self.telemetry = telemetry
        self.emit = emit
        self.subsystems = Subsystems(cfg, emit)
        self.fdir: Fdir
        self.sequencer = Sequencer(cfg, self.subsystems.apply_modes, emit,
                                   fdir_active=lambda: self.fdir.active(),
                                   cap_in_force=self.subsystems.cap_in_force)
        handlers: dict[str, Callable[..., None]] = {
            "set_heater_setpoint": self.subsystems.heater.set_setpoint_k}
        self.commander = Commander(self.sequencer.fire, handlers, emit, require_arm=True,
                                   state=lambda: self.sequencer.state)
        self.ops = Operations(
            cfg, platform, self.subsystems, self.sequencer,
            lambda name, source, args: self.commander.execute_now(
                name, source, args=args, now_s=platform.clock.now_s()),
            emit, self.request_stop, self._sequence_safe)
        handlers.update(self.ops.handlers())
        self.sequencer.on_enter_safe = self.ops.on_safe
        seq = sequence if sequence is not None else mission_sequence(cfg)
        if seq is not None:
            self.ops.install_mission(seq)
        # FDIR's actions are commands with source 'fdir' through the one command path
        # (as cFS LC requests an RTS): every autonomous action is a logged command
        by_trigger = {spec["trigger"]: name for name, spec in
                      self.commander.dictionary.items() if "trigger" in spec}
        self.fdir = Fdir(table, self._fdir_safe, emit,
                         fire=lambda trigger, reason: self.commander.execute_now(
                             by_trigger[trigger], "fdir", reason),
                         command=lambda name, args: self.commander.execute_now(
                             name, "fdir", args=args))
        handlers.update(self.fdir.responder.handlers())
        check_command_path(self.commander.dictionary, handlers, set(by_trigger))
        self.writer = ActuatorWriter(devices, emit)
        self.reader = SensorReader(devices, emit)
        self.executive = Executive(
            platform, cfg.cycle_hz, cfg.telemetry_hz, self.reader, self.subsystems,
            self.sequencer, self.commander, self.fdir, self.writer, telemetry, self.ops)

    def attach_ground(self, downlink: Downlink,
                      receive: Callable[[], bytes | None] | None = None,
                      emit: Callable[..., None] | None = None) -> Uplink | None:
        """Send housekeeping on ``downlink`` too and, with ``receive`` (a datagram or
        None), take telecommands each cycle (answered on ``downlink``, logged through
        ``emit``). Returns the uplink, if any."""
        self.telemetry.downlink = downlink
        if receive is None:
            return None
        uplink = Uplink(receive, self.commander, downlink, emit or self.emit,
                        self.platform.clock.now_s, precheck=self.ops.precheck)
        self.executive.uplink = uplink.poll
        return uplink

    def _fdir_safe(self, reason: str) -> None:
        """FDIR's SAFE: the SAFE command from source ``fdir`` (nothing if already SAFE)."""
        if self.sequencer.state != "SAFE":
            self.commander.execute_now("SAFE", "fdir", reason)

    def _sequence_safe(self, reason: str) -> None:
        """A stored sequence's ``on_timeout: safe``: the SAFE command from the sequence."""
        if self.sequencer.state != "SAFE":
            self.commander.execute_now("SAFE", "sequence", reason)

    def request_stop(self, why: str) -> None:
        """End the run after the cycle in progress (signal-handler safe)."""
        self.executive.request_stop(why)

    def run(self, end_s: float, progress: ProgressFn | None = None,
            hold_safe_s: float = 0.0) -> str:
        """Cycle until complete, ``end_s``, SAFE (held ``hold_safe_s``) or a stop request;
        returns the reason (:meth:`flight.executive.Executive.run`)."""
        return self.executive.run(end_s, progress, hold_safe_s=hold_safe_s)

    def safe(self) -> SafingReport:
        """Command every actuator off, let one cycle pass, read back (never raises on a
        HAL failure: a dead link gives state ``unknown``)."""
        return safe_the_payload(
            lambda: self.writer.apply(SAFE_COMMANDS, force=True),
            lambda: self.platform.advance(self.executive.dt_s),
            self.reader.read_all)

"""The executive: one fixed-rate cycle, the only place where mission time advances.

    read sensors (through FDIR's sensor substitutions) -> the accounting of the interval
    just past -> the uplink's telecommands (a bounded number, queued through the command
    path) -> due commands, the stored sequence's due steps and the state chart (modes and
    phases) -> controllers, once -> FDIR monitors (raw readings, last cycle's commands,
    platform diagnostics) -> apply actuator commands (through FDIR's caps and
    power-cycles) -> emit telemetry (HK and OPS packets on the downlink) -> advance time
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flight.channels import ActuatorWriter, SensorReader
from flight.commands import Commander
from flight.fdir.engine import Fdir
from flight.sequencer import Sequencer
from flight.subsystems import Subsystems
from flight.telemetry import TelemetryWriter
from hal.interfaces import Platform

ProgressFn = Callable[[float, str, dict[str, Any]], None]
#: the stop request of the SHUTDOWN command (the run ends with ``shutdown``)
SHUTDOWN = "SHUTDOWN command"


class _Ops(Protocol):
    """What the executive asks of the operations layer (flight.app wires it): the
    stored sequences, the accounting and the OPS telemetry."""

    def account(self, now_s: float, state: str, r: Mapping[str, Any],
                last: Mapping[str, Any]) -> None: ...

    def tick(self, now_s: float, state: str, r: Mapping[str, Any]) -> None: ...

    def state_changed(self, now_s: float, src: str, dst: str, r: Mapping[str, Any]) -> None: ...

    def busy(self) -> bool: ...

    def values(self, r: Mapping[str, Any]) -> dict[str, Any]: ...


class Executive:
    """Runs the cycle at ``cycle_hz`` until the mission completes or time runs out."""

    def __init__(self, platform: Platform, cycle_hz: float, telemetry_hz: float,
                 reader: SensorReader, subsystems: Subsystems, sequencer: Sequencer,
                 commander: Commander, fdir: Fdir, writer: ActuatorWriter,
                 telemetry: TelemetryWriter, ops: _Ops | None = None) -> None:
        self.platform = platform
        self.dt_s = 1.0 / cycle_hz
        self.telemetry_every = max(1, round(cycle_hz / telemetry_hz))
        self.reader = reader
        self.subsystems = subsystems
        self.sequencer = sequencer
        self.commander = commander
        self.fdir = fdir
        self.writer = writer
        self.telemetry = telemetry
        self.cycles = 0
        self.end_reason = ""
        #: set by :meth:`request_stop` (e.g. from a signal handler): the run ends after
        #: the cycle in progress
        self.stop_requested: str | None = None
        #: what was sent to the actuators last cycle (FDIR reads it as ``cmd_*``)
        self.last_commands: dict[str, Any] = dict(subsystems.outputs)
        #: called at the start of each cycle's commanding: the uplink's telecommands
        self.uplink: Callable[[], None] | None = None
        #: the stored sequences, the accounting, the OPS telemetry (None: none of them)
        self.ops = ops
        #: a service (thermine fly) does not end when a scoop completes
        self.service = False

    def cycle(self) -> None:
        """One cycle at the current mission time (does not advance time)."""
        now = self.platform.clock.now_s()
        seq = self.sequencer
        fdir = self.fdir
        state_before = seq.state
        raw = self.reader.read_all()
        r = fdir.substitute(raw)
        ops = self.ops
        if ops is not None:  # the interval just past: its readings, last cycle's commands
            ops.account(now, state_before, r, self.last_commands)
        # modes first: due commands and the state chart (its entry actions set the modes)
        seq.observe(now, r)
        if self.uplink is not None:
            self.uplink()
        self.commander.execute_due(now)
        if ops is not None and seq.state != "SAFE":  # (no sequence step runs in SAFE)
            ops.tick(now, seq.state, r)
        seq.step()
        state_planned = seq.state
        subsystems = self.subsystems
        out = subsystems.update(r, self.dt_s)  # then the controllers, once
        diagnostics = self.platform.diagnostics()
        fdir.check(now, state_planned, raw, self.last_commands, diagnostics)
        state = seq.state
        changed = state != state_before
        entered_safe = changed and state == "SAFE"
        if state != state_planned:
            # FDIR moved the state (to SAFE): its modes act in this very cycle; no time
            # passes (dt 0), so no integrator advances twice
            out = subsystems.update(r, 0.0)
        if changed and ops is not None:
            ops.state_changed(now, state_before, state, r)
        if entered_safe:  # (the stored sequences were cancelled the moment it was entered)
            self.commander.disarm_all("entered SAFE")
        out, force = fdir.shape(out)
        self.writer.apply(out, force=force or entered_safe)
        self.last_commands = out
        if changed or self.cycles % self.telemetry_every == 0:
            self.telemetry.write(now, state, raw, out, diagnostics,
                                 None if ops is None else ops.values(r))
        self.cycles += 1

    def request_stop(self, why: str) -> None:
        """End the run after the cycle in progress (safe to call from a signal handler:
        it only sets a flag the loop reads between cycles)."""
        if self.stop_requested is None:
            self.stop_requested = why

    def run(self, end_s: float, progress: ProgressFn | None = None,
            progress_every_s: float = 600.0, hold_safe_s: float = 0.0) -> str:
        """Cycle until complete, ``end_s`` of mission time, SAFE with nothing queued, or a
        stop request.

        Returns the reason the run ended: ``complete`` (a scoop completed and no stored
        sequence is left to run; never for a :attr:`service`), ``safe``, ``time_limit``,
        ``shutdown`` (the SHUTDOWN command) or ``interrupted`` (a signal). In SAFE the
        loop goes on cycling (housekeeping, FDIR) for ``hold_safe_s`` [s] before it ends:
        the ground can watch that SAFE holds.
        """
        ops = self.ops
        busy = ops.busy if ops is not None else (lambda: False)
        now_s, cycle, seq = self.platform.clock.now_s, self.cycle, self.sequencer
        advance, dt_s = self.platform.advance, self.dt_s
        next_progress = 0.0
        safe_since: float | None = None
        while True:
            cycle()
            now = now_s()
            if progress is not None and now >= next_progress:
                progress(now, seq.state, self.reader.readings)
                next_progress = now + progress_every_s
            if seq.complete and not self.service and not busy():
                self.end_reason = "complete"
                break
            if self.stop_requested is not None:
                self.end_reason = ("shutdown" if self.stop_requested == SHUTDOWN
                                   else "interrupted")
                break
            if seq.state != "SAFE":
                safe_since = None
            elif safe_since is None:
                safe_since = now
            if (safe_since is not None and self.commander.due() is None and not busy()
                    and now - safe_since >= hold_safe_s - 1e-9):
                self.end_reason = "safe"
                break
            if now + dt_s > end_s + 1e-9:
                self.end_reason = "time_limit"
                break
            advance(dt_s)
        return self.end_reason

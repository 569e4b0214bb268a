"""The stored-sequence engine: slots of uploaded and loaded sequences, one running at a
time, stepped once per cycle before the state chart.

A sequence is uploaded in chunks into a slot (1..255), loaded (parsed and validated as a
whole, :mod:`flight.sequences.schema`), then started in its ``start_state``. Every cycle
:meth:`SequenceEngine.tick` runs the steps due at that cycle's mission time, in order: a
command in the very cycle its tag names, a wait evaluated on that cycle's state and
readings. Never two sequences at once; SAFE cancels the one running. Commands go through
the one command path (``execute``, source ``sequence``); what happens is told by two
events: ``sequence`` (id, action, step, detail) and ``sequence_failed`` (id, step, reason).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.errors import ConfigError
from flight.commands import CommandError, in_state
from flight.sequences.checks import EPS_S
from flight.sequences.model import Sequence, Step

#: slot numbers
FIRST_SLOT, LAST_SLOT = 1, 255
#: the most bytes a slot holds
MAX_BYTES = 16384
#: ``seq_status`` values
NONE, RUNNING, WAITING, PAUSED = 0, 1, 2, 3


@dataclass
class _Slot:
    buffer: bytearray = field(default_factory=bytearray)
    loaded: Sequence | None = None
    late_ok: bool = False  # (the mission's: a tag past at its start runs late, at once)


@dataclass
class _Run:
    """The sequence running: its next step ``index``, when that step is due (while
    ``waiting``: when the wait times out) [s], when it was paused [s] (None: not)."""

    seq_id: int
    seq: Sequence
    due_s: float
    index: int = 0
    waiting: bool = False
    paused_at_s: float | None = None


class SequenceEngine:
    """Runs stored sequences (see the module's doc).

    ``execute(name, args)`` runs a command now and returns whether it was accepted;
    ``go_safe(reason)`` safes the payload (a wait's ``on_timeout: safe``);
    ``emit(event, **fields)`` records an event; ``parse(text,
    where, now_s)`` validates a slot's text into a :class:`Sequence` (raising
    :class:`~flight.sequences.schema.SequenceError`).
    """

    def __init__(self, execute: Callable[[str, dict[str, Any]], bool],
                 go_safe: Callable[[str], None], emit: Callable[..., None],
                 parse: Callable[[bytes, str, float], Sequence]) -> None:
        self.execute = execute
        self.go_safe = go_safe
        self.emit = emit
        self.parse = parse
        self._slots: dict[int, _Slot] = {}
        self._run: _Run | None = None
        self._autostart: tuple[int, str] | None = None
        #: a sequence runs, is paused or waits to autostart: the one test an idle tick makes
        self._live = False

    # ---- slots -----------------------------------------------------------------------
    def upload(self, seq_id: int, offset: int, data: bytes, now_s: float) -> None:
        """Put a chunk of a sequence file's text into slot ``seq_id`` at ``offset``
        [bytes]: 0 starts the slot's buffer again, otherwise it must be the bytes already
        received. ``now_s`` [s] is the mission time.

        Raises:
            CommandError: a bad slot, the slot runs, a wrong offset (saying the one
                expected), or more than :data:`MAX_BYTES` in all.
        """
        slot = self._free_slot(seq_id, "upload into")
        have = 0 if offset == 0 else len(slot.buffer)
        if offset != have:
            raise CommandError(f"slot {seq_id}: a chunk at offset {offset}, expected offset "
                               f"{have} (the bytes received so far; 0 starts again)")
        if have + len(data) > MAX_BYTES:
            raise CommandError(f"slot {seq_id}: {have + len(data)} bytes is over the "
                               f"{MAX_BYTES} a slot holds")
        if offset == 0:
            slot.buffer = bytearray()
            slot.loaded = None  # (a new text: the old sequence is not startable meanwhile)
        slot.buffer += data
        self.emit("sequence", id=seq_id, action="uploaded", step=None,
                  detail=f"{len(data)} bytes at offset {offset}, {len(slot.buffer)} in all")

    def load(self, seq_id: int, now_s: float) -> None:
        """Parse and validate slot ``seq_id``'s text (at mission time ``now_s`` [s]) into
        its loaded sequence, in place of the one before.

        Raises:
            CommandError: a bad slot, the slot runs, nothing uploaded, or the text is
                rejected (the message names the step and key).
        """
        slot = self._free_slot(seq_id, "load")
        if not slot.buffer:
            raise CommandError(f"slot {seq_id}: nothing uploaded")
        try:
            seq = self.parse(bytes(slot.buffer), f"slot {seq_id}", now_s)
        except ConfigError as exc:  # (a SequenceError)
            slot.loaded = None  # (rejected: nothing of this slot is startable)
            raise CommandError(str(exc)) from None
        self._loaded(seq_id, slot, seq)

    def install(self, seq_id: int, seq: Sequence, late_ok: bool = False) -> None:
        """Put an already validated sequence (the mission's) in slot ``seq_id``;
        ``late_ok``: absolute tags past at its start run at once instead of refusing it.

        Raises:
            CommandError: a bad slot, or the slot runs.
        """
        slot = self._free_slot(seq_id, "install into")
        slot.late_ok = late_ok
        self._loaded(seq_id, slot, seq)

    def _loaded(self, seq_id: int, slot: _Slot, seq: Sequence) -> None:
        slot.loaded = seq
        self.emit("sequence", id=seq_id, action="loaded", step=None,
                  detail=f"{seq.name}: {len(seq.steps)} steps from {seq.start_state}, "
                  f"at most {seq.duration_s:g} s")

    def _free_slot(self, seq_id: int, what: str) -> _Slot:
        if not FIRST_SLOT <= seq_id <= LAST_SLOT:
            raise CommandError(f"no slot {seq_id} (slots {FIRST_SLOT}..{LAST_SLOT})")
        if self._run is not None and self._run.seq_id == seq_id:
            raise CommandError(f"cannot {what} slot {seq_id}: its sequence is running")
        if self._autostart is not None and self._autostart[0] == seq_id:
            raise CommandError(f"cannot {what} slot {seq_id}: it is armed to autostart")
        return self._slots.setdefault(seq_id, _Slot())

    # ---- start and stop --------------------------------------------------------------
    def start(self, seq_id: int, now_s: float, state: str) -> None:
        """Start slot ``seq_id``'s sequence at mission time ``now_s`` [s] with the payload
        in leaf ``state``; its steps run from the next :meth:`tick`.

        Raises:
            CommandError: another sequence runs or is paused (never interleaved), the slot
                has nothing loaded, ``state`` is not its start_state, or an absolute tag is
                in the past (naming the step).
        """
        if self._autostart is not None and self._autostart[0] != seq_id:
            raise CommandError(f"refused, never interleaved: sequence {self._autostart[0]} "
                               "(the mission's) is about to start")
        if self._run is not None:
            raise CommandError(f"refused, never interleaved: sequence {self._run.seq_id} "
                               f"({self._run.seq.name}) is "
                               f"{'paused' if self._run.paused_at_s is not None else 'running'}")
        slot = self._slots.get(seq_id) if FIRST_SLOT <= seq_id <= LAST_SLOT else None
        seq = None if slot is None else slot.loaded
        if slot is None or seq is None:
            raise CommandError(f"slot {seq_id} has no sequence loaded")
        if not in_state(state, seq.start_state):
            raise CommandError(f"sequence {seq_id} ({seq.name}) starts in {seq.start_state}; "
                               f"the payload is in {state}")
        for step in seq.steps:
            if step.at_s is not None and step.at_s < now_s - EPS_S and not slot.late_ok:
                raise CommandError(f"sequence {seq_id} ({seq.name}): steps[{step.index}].at_s "
                                   f"{step.at_s:g} s is in the past (now {now_s:g} s)")
        self._run = _Run(seq_id, seq, _due(seq.steps[0], now_s))
        self._live = True
        self.emit("sequence", id=seq_id, action="started", step=0,
                  detail=f"{seq.name} in {state}")

    def autostart(self, seq_id: int, state: str) -> None:
        """Start slot ``seq_id`` the first cycle :meth:`tick` sees the payload in
        ``state`` (a parent covers its children) with no sequence running (the mission's).

        Raises:
            CommandError: the slot has nothing loaded.
        """
        slot = self._slots.get(seq_id)
        if slot is None or slot.loaded is None:
            raise CommandError(f"slot {seq_id} has no sequence loaded")
        self._autostart = (seq_id, state)
        self._live = True

    def cancel(self, reason: str) -> None:
        """Cancel the running or paused sequence (or the one armed to autostart) with
        ``reason``: a ``sequence_failed`` event.

        Raises:
            CommandError: no sequence is running.
        """
        if self._run is not None:
            self._fail(self._run, reason)
        elif self._autostart is not None:
            self._drop_autostart(reason)
        else:
            raise CommandError("no sequence is running")

    def on_safe(self) -> None:
        """Entering SAFE cancels the running or paused sequence, and the one armed to
        autostart (both, when both are there); nothing if none."""
        if self._run is not None:
            self._fail(self._run, "entered SAFE")
        if self._autostart is not None:
            self._drop_autostart("entered SAFE")

    def _drop_autostart(self, reason: str) -> None:
        assert self._autostart is not None
        seq_id, self._autostart = self._autostart[0], None
        self._live = self._run is not None
        self.emit("sequence_failed", id=seq_id, step=None, reason=reason)

    def _fail(self, run: _Run, reason: str) -> None:
        self._run = None
        self._live = self._autostart is not None
        self.emit("sequence_failed", id=run.seq_id, step=run.index, reason=reason)

    # ---- pause, resume, step ---------------------------------------------------------
    def pause(self, now_s: float) -> None:
        """Hold the running sequence at mission time ``now_s`` [s]: no step runs, no wait
        is evaluated until :meth:`resume`.

        Raises:
            CommandError: no sequence is running, or it is paused already.
        """
        run = self._running("pause")
        if run.paused_at_s is not None:
            raise CommandError(f"sequence {run.seq_id} is paused already")
        run.paused_at_s = now_s
        self.emit("sequence", id=run.seq_id, action="paused", step=run.index, detail="")

    def resume(self, now_s: float) -> None:
        """Go on at mission time ``now_s`` [s]: a relative due time (and a wait's timeout)
        keeps the time it had left; an absolute one stays, and one that passed runs at the
        next :meth:`tick`.

        Raises:
            CommandError: no sequence is paused.
        """
        run = self._paused("resume")
        assert run.paused_at_s is not None
        if run.waiting or run.seq.steps[run.index].at_s is None:
            run.due_s += now_s - run.paused_at_s
        run.paused_at_s = None
        self.emit("sequence", id=run.seq_id, action="resumed", step=run.index, detail="")

    def step(self, now_s: float, state: str, readings: Mapping[str, Any]) -> None:
        """While paused, run the next step now (mission time ``now_s`` [s], the payload in
        ``state``); a wait ends as if satisfied. The sequence stays paused; the step after
        keeps its whole relative tag for :meth:`resume`.

        Raises:
            CommandError: no sequence is paused.
        """
        run = self._paused("step")
        step = run.seq.steps[run.index]
        what = step.command if step.wait is None else f"wait_until {step.wait.describe()}"
        self.emit("sequence", id=run.seq_id, action="stepped", step=run.index, detail=what)
        if step.wait is not None:
            self._next(run, now_s)
        else:
            self._execute(run, step, now_s)
        if self._run is run:
            run.paused_at_s = now_s

    def _running(self, what: str) -> _Run:
        if self._run is None:
            raise CommandError(f"cannot {what}: no sequence is running")
        return self._run

    def _paused(self, what: str) -> _Run:
        run = self._running(what)
        if run.paused_at_s is None:
            raise CommandError(f"cannot {what}: sequence {run.seq_id} is not paused")
        return run

    # ---- the cycle -------------------------------------------------------------------
    def tick(self, now_s: float, state: str, readings: Mapping[str, Any]) -> None:
        """Run every step due at mission time ``now_s`` [s], in order, with the payload
        in leaf ``state`` and this cycle's ``readings``; called once per cycle before the
        state chart steps. Once a command has run in this call, ``state`` may be stale (a
        trigger moves the chart at once): a ``wait_until {state: ...}`` reached after it
        is first evaluated on the next cycle's state."""
        if not self._live:
            return
        run = self._run
        if run is None:
            run = self._try_autostart(now_s, state)
            if run is None:
                return
        if run.paused_at_s is not None:
            return
        steps = run.seq.steps
        state_known = True  # until a command runs: it may have moved the chart
        while self._run is run:
            step = steps[run.index]
            if run.waiting:
                wait = step.wait
                assert wait is not None
                if (state_known or wait.telemetry is not None) and wait.holds(state, readings):
                    self._next(run, now_s)
                elif now_s >= run.due_s - EPS_S:
                    self._timed_out(run, step, now_s)
                else:
                    return
            elif run.due_s > now_s + EPS_S:
                return
            elif step.wait is not None:
                assert step.timeout_s is not None
                run.waiting = True
                run.due_s = now_s + step.timeout_s
            else:
                self._execute(run, step, now_s)
                state_known = False

    def _try_autostart(self, now_s: float, state: str) -> _Run | None:
        assert self._autostart is not None
        seq_id, want = self._autostart
        if not in_state(state, want):
            return None
        self._autostart = None
        self._live = False
        try:
            self.start(seq_id, now_s, state)
        except CommandError as exc:
            self.emit("sequence_failed", id=seq_id, step=None, reason=f"autostart: {exc}")
        return self._run

    def _execute(self, run: _Run, step: Step, now_s: float) -> None:
        assert step.command is not None
        try:
            accepted = self.execute(step.command, dict(step.args))
        except CommandError:
            accepted = False
        if self._run is not run:  # the command ended it (it entered SAFE)
            return
        if not accepted and run.seq.on_refused == "cancel":
            self._fail(run, f"steps[{step.index}] {step.command} was refused")
            return
        self._next(run, now_s)

    def _timed_out(self, run: _Run, step: Step, now_s: float) -> None:
        assert step.wait is not None
        why = (f"steps[{step.index}] wait_until {step.wait.describe()} timed out after "
               f"{step.timeout_s:g} s")
        if step.on_timeout == "continue":
            self._next(run, now_s)
        elif step.on_timeout == "safe":
            self._run = None  # safed by its own doing: on_safe finds nothing to cancel
            self._live = self._autostart is not None
            self.go_safe(why)
            self.emit("sequence_failed", id=run.seq_id, step=step.index,
                      reason=f"{why}: safed")
        else:
            self._fail(run, why)

    def _next(self, run: _Run, now_s: float) -> None:
        """Step ``run.index`` ended at ``now_s`` [s]: the next one is due, or it is done."""
        run.index += 1
        run.waiting = False
        if run.index < len(run.seq.steps):
            run.due_s = _due(run.seq.steps[run.index], now_s)
            return
        self._run = None
        self._live = self._autostart is not None
        self.emit("sequence", id=run.seq_id, action="completed", step=run.index - 1,
                  detail=run.seq.name)

    # ---- telemetry -------------------------------------------------------------------
    def busy(self) -> bool:
        """Whether a sequence runs, is paused or is armed to autostart."""
        return self._live

    def progress(self) -> dict[str, Any]:
        """The OPS telemetry: ``seq_id`` (0: none), ``seq_status`` (NONE, RUNNING,
        WAITING, PAUSED), ``seq_step`` (the next step), ``seq_next_s`` (when it is due [s];
        NaN while waiting, paused on a relative tag, or none)."""
        run = self._run
        if run is None:
            return {"seq_id": 0, "seq_status": NONE, "seq_step": 0, "seq_next_s": math.nan}
        if run.paused_at_s is not None:
            at_s = run.seq.steps[run.index].at_s
            status, next_s = PAUSED, (math.nan if run.waiting or at_s is None else at_s)
        elif run.waiting:
            status, next_s = WAITING, math.nan
        else:
            status, next_s = RUNNING, run.due_s
        return {"seq_id": run.seq_id, "seq_status": status, "seq_step": run.index,
                "seq_next_s": next_s}


def _due(step: Step, prev_end_s: float) -> float:
    """When ``step`` is due [s], the step before it having ended at ``prev_end_s`` [s]."""
    return step.at_s if step.at_s is not None else prev_end_s + step.after_s

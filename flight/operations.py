"""Operations: the stored sequences, the scoops, the power cap and the payload's own
accounting, wired to the command path (docs/operations.md).

:class:`Operations` owns the sequence engine (:mod:`flight.sequences`) and the
accountant (:mod:`flight.accounting`); it gives the command path the handlers of
LOAD_SAMPLE, SHUTDOWN, SET_POWER_CAP and the SEQ_* telecommands, and the executive what
it calls each cycle (:class:`flight.executive._Ops`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from common.dictionary import DICTIONARY
from flight.accounting import Accountant
from flight.commands import CommandError, check_state
from flight.config import MissionConfig
from flight.executive import SHUTDOWN
from flight.sequencer import Sequencer
from flight.sequences.engine import PAUSED, RUNNING, WAITING, SequenceEngine
from flight.sequences.model import Sequence
from flight.sequences.schema import parse_sequence_text, sequence_from_commands
from flight.subsystems import Subsystems
from hal.errors import HalError
from hal.interfaces import Platform, sample_exchange_of

#: the OPS channels, in the dictionary's order (:meth:`Operations.values`' keys)
DERIVED = tuple(c.name for c in DICTIONARY.channels.derived)
#: the slot the mission's own sequence (its ``commands:`` or ``sequence:``) runs in
MISSION_SLOT = 255


def mission_sequence(cfg: MissionConfig, text: str | bytes | None = None,
                     where: str = "mission") -> Sequence | None:
    """The mission's stored sequence: the file ``text`` its ``sequence:`` names, or its
    ``commands:`` (absolute time tags), validated; None if it has neither. It starts in
    IDLE (BOOT when ``auto_boot`` is false: its PROCEEDs walk the payload there).

    Raises:
        flight.sequences.schema.SequenceError: naming the step and key of the problem.
    """
    cycle_s = 1.0 / cfg.cycle_hz
    if text is not None:
        return parse_sequence_text(text, where, cycle_s=cycle_s,
                                   max_duration_s=cfg.max_duration_s, source="mission")
    if not cfg.commands:
        return None
    return sequence_from_commands(
        [(c.at_s, c.name, dict(c.args)) for c in cfg.commands], where,
        start_state="IDLE" if cfg.auto_boot else "BOOT", cycle_s=cycle_s,
        max_duration_s=cfg.max_duration_s)


class Operations:
    """Stored sequences, scoops, the power cap and the accounting of one flight."""

    def __init__(self, cfg: MissionConfig, platform: Platform, subsystems: Subsystems,
                 sequencer: Sequencer, execute: Callable[[str, str, dict[str, Any]], bool],
                 emit: Callable[..., None], request_stop: Callable[[str], None],
                 go_safe: Callable[[str], None]) -> None:
        self.cfg = cfg
        self.platform = platform
        self.subsystems = subsystems
        self.sequencer = sequencer
        self.emit = emit
        self._request_stop = request_stop
        self.cycle_s = 1.0 / cfg.cycle_hz
        self.accountant = Accountant(cfg.payload, self.cycle_s, emit)
        self._now_s = platform.clock.now_s
        self.engine = SequenceEngine(
            lambda name, args: execute(name, self._source(), args), go_safe, emit,
            self._parse)
        #: handler commands' ``states:`` (the uplink's precheck)
        self.states = {name: spec["states"] for name, spec in DICTIONARY.command_table.items()
                       if "states" in spec}
        #: the executive's calls each cycle: the accounting, the sequence's due steps
        self.account = self.accountant.update
        self.state_changed = self.accountant.state_changed
        self.tick = self.engine.tick

    # ---- the executive's calls ---------------------------------------------------------
    def on_safe(self) -> None:
        """Entering SAFE cancels the running sequence."""
        self.engine.on_safe()

    def busy(self) -> bool:
        """A stored sequence is running, paused or about to start."""
        return self.engine.busy()

    def values(self, r: Mapping[str, Any]) -> dict[str, Any]:
        """The OPS telemetry, in the dictionary's order (:data:`DERIVED`): the
        accounting, the power cap in force, the sequence's progress; no value: None."""
        acc = self.accountant.values(r)
        out = {"scoop": acc["scoop"], "power_cap_w": self.subsystems.cap_w}
        out.update(acc)
        out.update(self.engine.progress())
        if out["seq_next_s"] != out["seq_next_s"]:
            out["seq_next_s"] = None  # (no value: null, as a failed reading is)
        return out

    # ---- the mission's own sequence ----------------------------------------------------
    def install_mission(self, seq: Sequence) -> None:
        """Run the mission's sequence from the first cycle the payload is in its
        start_state."""
        self.engine.install(MISSION_SLOT, seq, late_ok=True)
        self.engine.autostart(MISSION_SLOT, seq.start_state)

    def _source(self) -> str:
        return "mission" if self.engine.progress()["seq_id"] == MISSION_SLOT else "sequence"

    def _parse(self, text: bytes, where: str, now_s: float) -> Sequence:
        return parse_sequence_text(text, where, cycle_s=self.cycle_s, now_s=now_s,
                                   max_duration_s=self.cfg.max_duration_s)

    # ---- handlers (commands.yaml) ------------------------------------------------------
    def handlers(self) -> dict[str, Callable[..., None]]:
        """Handler name -> callable, for the command path."""
        e = self.engine
        return {
            "load_sample": self.load_sample,
            "shutdown": lambda: self._request_stop(SHUTDOWN),
            "set_power_cap": self.subsystems.set_power_cap,
            "seq_upload": lambda seq_id, offset, length, data: e.upload(
                seq_id, offset, bytes(data[:length]), self._now_s()),
            "seq_load": lambda seq_id: e.load(seq_id, self._now_s()),
            "seq_start": lambda seq_id: e.start(seq_id, self._now_s(), self.sequencer.state),
            "seq_pause": lambda: e.pause(self._now_s()),
            "seq_resume": lambda: e.resume(self._now_s()),
            "seq_step": lambda: e.step(self._now_s(), self.sequencer.state,
                                     self.sequencer.readings),
            "seq_cancel": lambda: e.cancel("CANCEL command"),
        }

    def precheck(self, name: str, args: Mapping[str, Any]) -> str | None:
        """Why a telecommand would be refused now, where that is certain at receipt (a
        sequence command with nothing to act on, a command outside its ``states:``);
        None otherwise (the command path decides when it runs)."""
        status = self.engine.progress()["seq_status"]
        if name == "SEQ_CANCEL" and not self.engine.busy():
            return "no sequence is running"
        if name == "SEQ_PAUSE" and status not in (RUNNING, WAITING, PAUSED):
            return "no sequence is running"
        if name in ("SEQ_RESUME", "SEQ_STEP") and status != PAUSED:
            return "no sequence is paused"
        states = self.states.get(name)
        if states:
            try:
                check_state(name, states, self.sequencer.state)
            except CommandError as exc:
                return str(exc)
        return None

    def load_sample(self) -> None:
        """LOAD_SAMPLE: the platform exchanges the scoop (the sim plant, or the board);
        the accounting starts the next yield line.

        Raises:
            CommandError: the platform cannot exchange samples, or the exchange failed.
        """
        exchange = sample_exchange_of(self.platform)
        if exchange is None:
            raise CommandError("this platform cannot exchange samples")
        try:
            scoop = exchange.load_sample()
        except (HalError, RuntimeError) as exc:
            raise CommandError(f"sample exchange failed: {exc}") from None
        self.accountant.sample_loaded(scoop, self._now_s(), self.sequencer.readings)
        self.emit("sample_loaded", scoop=scoop)

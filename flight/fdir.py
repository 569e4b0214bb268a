"""FDIR: monitors (tables) -> trips with persistence -> responses that escalate.

The tables are data (configs/fdir.yaml, plus the mission's ``limits:``), validated at
load (:mod:`flight.fdir_config`). Each cycle :meth:`Fdir.check` samples every monitor
enabled in the current state (:mod:`flight.fdir_monitors`); a monitor trips after
``persistence`` consecutive bad samples, stays tripped (active) until a good sample and
its response is carried out, escalated after its cooldown or budget
(:mod:`flight.fdir_responses`). RECOVER is refused while any monitor is active.

Events: ``fdir_trip``, ``fdir_response``, ``fdir_escalate``, ``fdir_cleared`` (monitor
id, value, response, mission time ``mission_time_s``), ``fdir_budget_reset``.
:attr:`Fdir.records` keeps one ``{monitor, tripped_at_s, response, cleared_at_s}`` per
trip for the run summary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flight.fdir_config import FdirTable, enabled, watched
from flight.fdir_monitors import Monitor, build
from flight.fdir_responses import Episode, Responder


def inputs_of(readings: Mapping[str, Any], commands: Mapping[str, Any] | None = None,
              diagnostics: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What monitors see: readings, last cycle's commands as ``cmd_*``, diagnostics."""
    out = dict(readings)
    if commands:
        out.update({f"cmd_{k}": v for k, v in commands.items()})
    if diagnostics:
        out.update(diagnostics)
    return out


class Fdir:
    """The FDIR engine of one run.

    ``go_safe(reason)`` enters SAFE (idempotent); ``fire(trigger, reason)`` fires a state
    chart trigger (``abort``) and returns whether the state changed; ``emit(event,
    **fields)`` records events.
    """

    def __init__(self, table: FdirTable, go_safe: Callable[[str], None],
                 emit: Callable[..., None],
                 fire: Callable[[str, str], bool] = lambda trigger, reason: False) -> None:
        self.table = table
        self.emit = emit
        self.monitors: list[Monitor] = [build(m) for m in table.monitors]
        self.episodes: dict[str, Episode] = {}
        self.records: list[dict[str, Any]] = []
        self.responder = Responder(table.responses, go_safe, fire, emit)
        self._state: str | None = None
        self._enabled: list[Monitor] = []
        self._enabled_by_state: dict[str, list[Monitor]] = {}

    # ---- queries ---------------------------------------------------------------------
    def active(self) -> bool:
        """True while any monitor is tripped (RECOVER's guard)."""
        return bool(self.episodes)

    def tripped(self) -> list[str]:
        """Ids of the tripped monitors, in trip order."""
        return list(self.episodes)

    # ---- what the cycle sees ---------------------------------------------------------
    def substitute(self, readings: dict[str, Any]) -> dict[str, Any]:
        """Readings for controllers and sequencer, after any ``switch_sensor``."""
        return self.responder.substitute(readings)

    def shape(self, commands: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Actuator commands after any ``retry`` power-cycle, and whether to force them."""
        return self.responder.shape(commands)

    # ---- the cycle -------------------------------------------------------------------
    def check(self, now_s: float, state: str, readings: Mapping[str, Any],
              commands: Mapping[str, Any] | None = None,
              diagnostics: Mapping[str, Any] | None = None) -> None:
        """Sample every monitor enabled in ``state`` at mission time ``now_s`` [s]."""
        if state != self._state:
            self._enter(state, now_s)
        inputs = inputs_of(readings, commands, diagnostics)
        episodes = self.episodes
        for mon in self._enabled:
            if mon.when or mon.id in episodes:
                self._sample(mon, now_s, inputs)
                continue
            # the common case, inlined (this runs every cycle): untripped, unconditional
            mon.idle = False
            bad, value = mon.evaluate(now_s, inputs)
            if bad is False:
                mon.count = 0
            elif bad:
                mon.count += 1
                if mon.count >= mon.persistence:
                    self._trip(mon, now_s, value)

    def _enter(self, state: str, now_s: float) -> None:
        if self._state == "SAFE" and self.responder.used:
            self.responder.reset_budgets()
            self.emit("fdir_budget_reset", state=state, mission_time_s=now_s)
        self._state = state
        if state not in self._enabled_by_state:
            self._enabled_by_state[state] = [m for m in self.monitors if enabled(m.cfg, state)]
        self._enabled = self._enabled_by_state[state]
        on = {id(m) for m in self._enabled}
        for mon in self.monitors:
            if id(mon) not in on and not mon.idle:
                self._rest(mon, now_s, None, f"disabled in {state}")

    def _rest(self, mon: Monitor, now_s: float, value: Any, why: str) -> None:
        """Forget a monitor's history; clear it if it was tripped."""
        mon.reset()
        mon.count = 0
        mon.idle = True
        if mon.id in self.episodes:
            self._clear(mon, now_s, value, why)

    def _sample(self, mon: Monitor, now_s: float, inputs: Mapping[str, Any]) -> None:
        ep = self.episodes.get(mon.id)
        if mon.when:
            cond = mon.conditions(inputs)
            if cond is False:
                if not mon.idle:
                    self._rest(mon, now_s, None, "condition no longer holds")
                return
            if cond is None:
                if ep is not None:
                    self.responder.follow_up(ep, now_s, None, inputs)
                return
        mon.idle = False
        bad, value = mon.evaluate(now_s, inputs)
        if bad is False:
            mon.count = 0
            if ep is not None:
                self._clear(mon, now_s, value, mon.detail(now_s, value))
            return
        if bad:
            mon.count += 1
        if ep is not None:
            self.responder.follow_up(ep, now_s, value, inputs)
        elif bad and mon.count >= mon.persistence:
            self._trip(mon, now_s, value)

    def _trip(self, mon: Monitor, now_s: float, value: Any) -> None:
        cfg, detail = mon.cfg, mon.detail(now_s, value)
        finite = isinstance(value, int | float) and math.isfinite(value)
        record: dict[str, Any] = {"monitor": cfg.id, "kind": cfg.kind, "tripped_at_s": now_s,
                                  "value": value if finite else None, "response": cfg.response,
                                  "cleared_at_s": None}
        self.records.append(record)
        self.emit("fdir_trip", monitor=cfg.id, kind=cfg.kind,
                  telemetry=watched(cfg), value=value, detail=detail,
                  response=cfg.response, mission_time_s=now_s)
        ep = Episode(cfg.id, f"{cfg.id}: {detail}", cfg.response, now_s, record)
        self.episodes[cfg.id] = ep
        self.responder.start(ep, now_s, value)

    def _clear(self, mon: Monitor, now_s: float, value: Any, why: str) -> None:
        cfg = mon.cfg
        ep = self.episodes.pop(cfg.id)
        ep.record["cleared_at_s"] = now_s
        restored = self.responder.cleared(ep)
        extra = {"restored": restored} if restored else {}
        self.emit("fdir_cleared", monitor=cfg.id, telemetry=watched(cfg),
                  value=value, why=why, mission_time_s=now_s, **extra)

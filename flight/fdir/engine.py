"""FDIR: monitors (tables) -> trips with persistence -> responses that escalate.

The tables are data (common/dictionary/fdir.yaml, plus the mission's ``limits:``), validated at
load (:mod:`flight.fdir.table`). Each cycle :meth:`Fdir.check` samples every monitor
enabled in the current state (:mod:`flight.fdir.monitors`); a monitor trips after
``persistence`` consecutive bad samples, stays tripped (active) until a good sample and
its response is carried out, escalated after its cooldown or budget
(:mod:`flight.fdir.responses`). RECOVER is refused while any monitor is active.

Events: ``fdir_trip``, ``fdir_response``, ``fdir_escalate``, ``fdir_cleared`` (monitor
id, value, response, mission time ``mission_time_s``), ``fdir_budget_reset``.
:attr:`Fdir.records` keeps one ``{monitor, tripped_at_s, response, cleared_at_s}`` per
trip for the run summary.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from flight.fdir.monitors import (
    NO_TRIP,
    CrosscheckMonitor,
    LimitMonitor,
    LinkMonitor,
    Monitor,
    StaleMonitor,
    build,
)
from flight.fdir.responses import Episode, Responder
from flight.fdir.table import FdirTable, enabled, watched

#: one state's monitors, for the cycle with nothing tripped (index: the monitor's place
#: in the table; bounds and conditions with NaN for "none"):
#: unconditional limits ``(index, monitor, telemetry, above, below)``; unconditional
#: stale checks ``(index, monitor, telemetry)``; monitors under one condition or none
#: ``(index, monitor, condition telemetry (None: no condition), above, below, evaluate,
#: telemetry, bad at or above, bad at or below)`` (``evaluate`` None for a crosscheck of
#: a value against a bound, which is inlined; the last three only for those) and the
#: monitors under several conditions ``(index, monitor)``. The last two twice: without
#: the unconditional link monitors (they know nothing while the platform reports no
#: diagnostics, e.g. SIL) and with them. Last, the stale checks' readings in one call (a
#: tuple; KeyError if one is missing), None without stale checks.
_Conditional = list[tuple[int, Monitor, str | None, float, float,
                          Callable[..., Any] | None, str, float, float]]
_Others = list[tuple[int, Monitor]]
_Plan = tuple[list[tuple[int, LimitMonitor, str, float, float]],
              list[tuple[int, StaleMonitor, str]],
              tuple[_Conditional, _Others], tuple[_Conditional, _Others],
              Callable[[Mapping[str, Any]], tuple[Any, ...]] | None]
_NO_PLAN: _Plan = ([], [], ([], []), ([], []), None)
_NAN = math.nan


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
                 fire: Callable[[str, str], bool] = lambda trigger, reason: False,
                 command: Callable[[str, dict[str, Any]], object] | None = None) -> None:
        self.table = table
        self.emit = emit
        self.monitors: list[Monitor] = [build(m) for m in table.monitors]
        self.episodes: dict[str, Episode] = {}
        self.records: list[dict[str, Any]] = []
        self.responder = Responder(table.responses, go_safe, fire, emit, command)
        self._state: str | None = None
        self._enabled: list[Monitor] = []
        self._enabled_by_state: dict[str, list[Monitor]] = {}
        self._plan: _Plan = _NO_PLAN
        self._plans: dict[str, _Plan] = {}
        # the last cycle when every stale check of the plan had a fresh reading, not yet
        # written to the monitors' fresh_s (_write_stales_fresh_s), and whether a stale
        # check may have counted a stale sample since their counts were last cleared
        self._stales_fresh_s: float | None = None
        self._stales_counted = False
        # the cmd_* inputs some monitor (or a substitution) reads: (input, command)
        names = {n for m in self.monitors for n in _inputs_read(m)}
        names |= {r.substitute for r in table.responses.values() if r.substitute}
        self._cmd_inputs = sorted((n, n[4:]) for n in names if n.startswith("cmd_"))

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
        if not self.responder.substitutions:  # (the usual cycle: the same dict)
            return readings
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
        inputs = dict(readings)  # inputs_of(), with only the commands a monitor reads
        if commands:
            for name, command in self._cmd_inputs:
                if command in commands:
                    inputs[name] = commands[command]
        if diagnostics:
            inputs.update(diagnostics)
        if self.episodes:
            self._check_tripped(now_s, inputs)
            return
        # nothing tripped (the usual cycle): every monitor gives its verdict, then the
        # trips are carried out in table order (a verdict never depends on another
        # monitor's trip), as the general loop below would have
        trips: list[tuple[int, Monitor, Any]] = []
        get = inputs.get
        limits, stales, (conditional, others), links, stale_values = self._plan
        if diagnostics:
            conditional, others = links
        for i, lim, name, above, below in limits:  # LimitMonitor.evaluate, inlined
            v = get(name)
            if v is None or v != v:
                continue
            if v > above or v < below:
                lim.count += 1
                if lim.count >= lim.persistence:
                    trips.append((i, lim, v))
            elif lim.count:
                lim.count = 0
        if stale_values is not None:
            # every stale check's reading fresh (the usual cycle): their sum is a number
            # (None fails it, NaN makes it NaN); noted once for all of them
            try:
                total = sum(stale_values(inputs))
                all_fresh = total == total
            except (TypeError, KeyError):
                all_fresh = False
            if all_fresh:
                self._stales_fresh_s = now_s
                if self._stales_counted:  # fresh again: their counts restart
                    for _, stale, _ in stales:
                        stale.count = 0
                    self._stales_counted = False
            else:  # one by one (each fresh reading inlined: StaleMonitor.evaluate)
                self._write_stales_fresh_s()
                self._stales_counted = True
                for i, stale, name in stales:
                    v = get(name)
                    if v is not None and v == v:
                        stale.fresh_s = now_s
                        if stale.count:
                            stale.count = 0
                    else:
                        value = stale.sample(now_s, inputs)
                        if value is not NO_TRIP:
                            trips.append((i, stale, value))
        for i, mon, cname, above, below, evaluate, name, bad_above, bad_below in conditional:
            if cname is not None:  # Monitor.sample under one condition (or none), inlined
                v = get(cname)
                if v is None or v != v:
                    continue
                if v <= above or v >= below:
                    if not mon.idle:  # the condition stopped holding: forget
                        mon.reset()
                        mon.count = 0
                        mon.idle = True
                    continue
                mon.idle = False
            if evaluate is None:  # CrosscheckMonitor.evaluate for a bound, inlined
                # (this branch holds crosschecks only; no cast() call in the hot loop)
                xcheck: CrosscheckMonitor = mon  # type: ignore[assignment]
                since_s = xcheck.since_s
                if since_s is None:
                    xcheck.since_s = since_s = now_s
                value = get(name)
                if value is None or value != value or now_s - since_s < xcheck.held_s:
                    continue
                value = float(value)
                bad = value >= bad_above or value <= bad_below
            else:
                bad, value = evaluate(now_s, inputs)
            if bad:
                mon.count += 1
                if mon.count >= mon.persistence:
                    trips.append((i, mon, value))
            elif bad is False:
                mon.count = 0
        for i, mon in others:  # several conditions (rare): Monitor.sample itself
            value = mon.sample(now_s, inputs)
            if value is not NO_TRIP:
                trips.append((i, mon, value))
        if trips:
            trips.sort(key=lambda trip: trip[0])
            for _, mon, value in trips:
                self._trip(mon, now_s, value)

    def _write_stales_fresh_s(self) -> None:
        """Give the plan's stale checks the last cycle when all their readings were fresh
        (the fast path notes it once for all; each monitor's ``fresh_s`` is the later of
        that and its own), before anything reads or moves them one by one."""
        fresh_s = self._stales_fresh_s
        if fresh_s is not None:
            for _, mon, _ in self._plan[1]:
                if mon.fresh_s is None or mon.fresh_s < fresh_s:
                    mon.fresh_s = fresh_s
            self._stales_fresh_s = None

    def _check_tripped(self, now_s: float, inputs: Mapping[str, Any]) -> None:
        """The cycle while a monitor is tripped: every monitor in table order."""
        self._write_stales_fresh_s()
        self._stales_counted = True  # (their counts move here, one by one)
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
        self._write_stales_fresh_s()  # (to the old plan's stale checks)
        self._stales_counted = True
        if self._state == "SAFE" and self.responder.used:
            self.responder.reset_budgets()
            self.emit("fdir_budget_reset", state=state, mission_time_s=round(now_s, 6))
        self._state = state
        if state not in self._enabled_by_state:
            self._enabled_by_state[state] = [m for m in self.monitors if enabled(m.cfg, state)]
        self._enabled = self._enabled_by_state[state]
        if state not in self._plans:
            self._plans[state] = self._plan_for(self._enabled)
        self._plan = self._plans[state]
        on = {id(m) for m in self._enabled}
        for mon in self.monitors:
            if id(mon) not in on and not mon.idle:
                self._rest(mon, now_s, None, f"disabled in {state}")
        for mon in self._enabled:
            if not mon.when:  # sampled from this cycle on (the fast loops leave idle be)
                mon.idle = False

    def _plan_for(self, enabled_now: list[Monitor]) -> _Plan:
        index = {id(m): i for i, m in enumerate(self.monitors)}
        limits: list[tuple[int, LimitMonitor, str, float, float]] = []
        stales: list[tuple[int, StaleMonitor, str]] = []
        plain: tuple[_Conditional, _Others] = ([], [])
        links: tuple[_Conditional, _Others] = ([], [])
        for mon in enabled_now:
            i, when = index[id(mon)], mon.when_checks
            if type(mon) is LimitMonitor and not when:
                limits.append((i, mon, mon.telemetry, mon.hi, mon.lo))
                continue
            if type(mon) is StaleMonitor and not when:
                stales.append((i, mon, mon.telemetry))
                continue
            if len(when) <= 1:
                cond = when[0] if when else (None, _NAN, _NAN)
                if type(mon) is CrosscheckMonitor and mon.bounds is not None:
                    entry: Any = (i, mon, *cond, None, mon.expect.telemetry, *mon.bounds)
                else:
                    entry = (i, mon, *cond, mon.evaluate, "", _NAN, _NAN)
                kind = 0
            else:
                entry, kind = (i, mon), 1
            unconditional_link = type(mon) is LinkMonitor and not when
            for plan in (links,) if unconditional_link else (plain, links):
                plan[kind].append(entry)
        # (itemgetter of one name gives the value, not a tuple: the first name twice)
        names = [name for _, _, name in stales]
        stale_values = operator.itemgetter(*names, *names[:1]) if names else None
        return limits, stales, plain, links, stale_values

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
        # (times to the microsecond, as events stamp them: no 247.10000000000002 s)
        record: dict[str, Any] = {"monitor": cfg.id, "kind": cfg.kind,
                                  "tripped_at_s": round(now_s, 6),
                                  "value": value if finite else None, "response": cfg.response,
                                  "cleared_at_s": None}
        self.records.append(record)
        self.emit("fdir_trip", monitor=cfg.id, kind=cfg.kind,
                  telemetry=watched(cfg), value=value, detail=detail,
                  response=cfg.response, mission_time_s=round(now_s, 6))
        ep = Episode(cfg.id, f"{cfg.id}: {detail}", cfg.response, now_s, record)
        self.episodes[cfg.id] = ep
        self.responder.start(ep, now_s, value)

    def _clear(self, mon: Monitor, now_s: float, value: Any, why: str) -> None:
        cfg = mon.cfg
        ep = self.episodes.pop(cfg.id)
        ep.record["cleared_at_s"] = round(now_s, 6)
        restored = self.responder.cleared(ep)
        extra = {"restored": restored} if restored else {}
        self.emit("fdir_cleared", monitor=cfg.id, telemetry=watched(cfg),
                  value=value, why=why, mission_time_s=round(now_s, 6), **extra)


def _inputs_read(m: Monitor) -> list[str]:
    """Every input name ``m`` reads."""
    c = m.cfg
    names = [c.telemetry, c.counter, *(w.telemetry for w in c.when)]
    if c.expect is not None:
        names += [c.expect.telemetry, c.expect.fraction_of or ""]
    return [n for n in names if n]

"""Fault plans: which fault, where (plant, device, link), when, for how long.

A plan is a YAML list of faults, each ``{id, layer, target, kind, params, trigger,
duration_s}``; a trigger is a mission time (``at_s``), entering a state (``on_state``) or
a value crossing (``when: {telemetry, above | below}``), optionally ``after_s`` seconds
after that first held (``{on_state: EXTRACT_HEAT, after_s: 120}``: two minutes into
HEAT, even if HEAT has ended by then). The scheduler installs the
injectors before the run (device wrappers, the link wrapper, the plant's fault switches)
and switches faults on and off from the cycle. Flight code cannot tell: it only sees
its ports misbehave. Every injection and clearing is an event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from common.schema import load, param, read_yaml
from flight.fdir.table import ConditionConfig
from sims.faults import ice_poor_fraction

LAYERS = ("plant", "device", "link")
#: plant faults that change the sample itself: applied when the plant is built
BUILD_TIME_FAULTS = {"ice_poor_sample": ("factor", 0.3, 0.0, 1.0)}


@dataclass(frozen=True)
class TriggerConfig:
    at_s: float | None = param(None, lo=0.0, doc="mission time")
    on_state: str | None = param(None, doc="entering this state")
    when: ConditionConfig | None = param(None, doc="a value crossing (as FDIR's conditions)")
    after_s: float = param(0.0, lo=0.0, doc="wait this long after the condition first holds")


@dataclass(frozen=True)
class FaultConfig:
    id: str = param(doc="unique name of this fault in the plan")
    layer: str = param(choices=LAYERS, doc="where it is injected")
    kind: str = param(doc="what goes wrong (see docs/faults.md)")
    target: str = param("", doc="device role (device layer); unused for plant and link")
    params: dict[str, float] = param({}, doc="kind-specific parameters")
    trigger: TriggerConfig = param(TriggerConfig(at_s=0.0), doc="when it starts")
    duration_s: float | None = param(None, lo=0.0, doc="how long it lasts (null: forever)")


@dataclass(frozen=True)
class FaultPlan:
    faults: list[FaultConfig] = param([], doc="the faults")


@dataclass
class FaultRecord:
    """What happened to one fault: for summary.json's ``faults`` list."""

    id: str
    layer: str
    kind: str
    injected_at_s: float | None = None
    cleared_at_s: float | None = None
    detected_at_s: float | None = None
    monitor: str | None = None
    response: str | None = None
    outcome: str = "not injected"
    state_at_injection: str | None = None
    _safe_at_s: float | None = field(default=None, repr=False)

    def as_summary(self) -> dict[str, Any]:
        return {"id": self.id, "layer": self.layer, "kind": self.kind,
                "injected_at_s": self.injected_at_s, "detected_at_s": self.detected_at_s,
                "monitor": self.monitor, "response": self.response, "outcome": self.outcome,
                "cleared_at_s": self.cleared_at_s}


def load_plan(path: str | Path, telemetry: set[str], states: set[str], roles: set[str],
              catalogues: Mapping[str, Mapping[str, Mapping[str, tuple[Any, float, float]]]],
              ) -> FaultPlan:
    """Read and validate a fault plan. ``catalogues`` maps layer -> kind -> param ->
    (default, lo, hi).

    Raises:
        ConfigError: naming the file and ``faults[i].key`` of the first problem.
    """
    return parse_plan(read_yaml(path), str(path), telemetry, states, roles, catalogues)


def parse_plan(data: Any, where: str, telemetry: set[str], states: set[str], roles: set[str],
               catalogues: Mapping[str, Mapping[str, Mapping[str, tuple[Any, float, float]]]],
               ) -> FaultPlan:
    """Validate plan data (a mapping with ``faults:``) that came from ``where`` (a file or
    a campaign case), exactly as :func:`load_plan` does.

    Raises:
        ConfigError: naming ``where`` and ``faults[i].key`` of the first problem.
    """
    path = where
    plan = load(FaultPlan, data, f"{path}:")
    seen: set[str] = set()
    for i, f in enumerate(plan.faults):
        at = f"{path}: faults[{i}]"
        if f.id in seen:
            raise ConfigError(f"{at}.id", f"duplicate id {f.id!r}")
        seen.add(f.id)
        kinds = dict(catalogues.get(f.layer, {}))
        if f.layer == "plant":
            kinds.update({k: {p: (d, lo, hi)} for k, (p, d, lo, hi) in BUILD_TIME_FAULTS.items()})
        if f.kind not in kinds:
            raise ConfigError(f"{at}.kind", f"unknown {f.layer} fault {f.kind!r}; known: "
                              f"{', '.join(sorted(kinds))}")
        allowed = kinds[f.kind]
        for name, value in f.params.items():
            if name not in allowed:
                raise ConfigError(f"{at}.params.{name}", f"{f.kind} takes "
                                  f"{', '.join(sorted(allowed)) or 'no parameters'}")
            _, lo, hi = allowed[name]
            if not lo <= value <= hi:
                raise ConfigError(f"{at}.params.{name}", f"{value!r} is out of [{lo}, {hi}]")
        if f.layer == "device" and f.target not in roles:
            raise ConfigError(f"{at}.target", f"unknown device role {f.target!r}; known: "
                              f"{', '.join(sorted(roles))}")
        t = f.trigger
        if sum(x is not None for x in (t.at_s, t.on_state, t.when)) != 1:
            raise ConfigError(f"{at}.trigger", "give exactly one of at_s, on_state, when")
        if t.on_state is not None and t.on_state not in states:
            raise ConfigError(f"{at}.trigger.on_state", f"unknown state {t.on_state!r}")
        if t.when is not None:
            if t.when.telemetry not in telemetry:
                raise ConfigError(f"{at}.trigger.when.telemetry",
                                  f"unknown telemetry {t.when.telemetry!r}")
            if (t.when.above is None) == (t.when.below is None):
                raise ConfigError(f"{at}.trigger.when", "give exactly one of above, below")
        if f.kind in BUILD_TIME_FAULTS and (t.at_s != 0.0 or t.after_s):
            raise ConfigError(f"{at}.trigger", f"{f.kind} changes the sample: only at_s: 0")
    return plan


def build_time_sample(plan: FaultPlan, sample: dict[str, Any]) -> dict[str, Any]:
    """The plant's whole sample (:func:`hal.sim.backend.resolved_sample`) with the
    build-time plant faults (an ice-poor scoop, :func:`sims.faults.ice_poor_fraction`)
    applied."""
    out = dict(sample)
    for f in plan.faults:
        if f.kind == "ice_poor_sample":
            out["ice_mass_fraction"] = ice_poor_fraction(out["ice_mass_fraction"], f.params.get(
                "factor", BUILD_TIME_FAULTS["ice_poor_sample"][1]))
    return out


@dataclass
class Injector:
    """How to switch one fault on and off (built by the app from the HAL and sims APIs)."""

    activate: Callable[[], None]
    clear: Callable[[], None]


class FaultScheduler:
    """Switches each fault on at its trigger and off after its duration.

    ``injectors`` maps fault id -> :class:`Injector`. Call :meth:`tick` once per cycle;
    it emits ``fault_injected`` / ``fault_cleared`` events and keeps :attr:`records`.
    """

    def __init__(self, plan: FaultPlan, injectors: Mapping[str, Injector],
                 emit: Callable[..., None]) -> None:
        self.plan = plan
        self.injectors = dict(injectors)
        self.emit = emit
        self.records = {f.id: FaultRecord(f.id, f.layer, f.kind) for f in plan.faults}
        self._pending = [f for f in plan.faults if f.kind not in BUILD_TIME_FAULTS]
        self._active: list[tuple[FaultConfig, float]] = []
        self._held_since: dict[str, float] = {}  # when each trigger condition first held
        for f in plan.faults:
            if f.kind in BUILD_TIME_FAULTS:
                rec = self.records[f.id]
                rec.injected_at_s, rec.outcome, rec.state_at_injection = 0.0, "injected", "BOOT"

    def _due(self, f: FaultConfig, now_s: float, state: str, r: Mapping[str, Any]) -> bool:
        """The trigger's condition has held (once is enough) for its ``after_s``."""
        since = self._held_since.get(f.id)
        if since is None:
            if not self._holds(f.trigger, now_s, state, r):
                return False
            since = self._held_since[f.id] = now_s
        return now_s - since >= f.trigger.after_s - 1e-9

    @staticmethod
    def _holds(t: TriggerConfig, now_s: float, state: str, r: Mapping[str, Any]) -> bool:
        if t.at_s is not None:
            return now_s >= t.at_s
        if t.on_state is not None:
            return state == t.on_state
        w = t.when
        assert w is not None
        v = r.get(w.telemetry)
        if v is None or v != v:
            return False
        return (w.above is not None and v > w.above) or (w.below is not None and v < w.below)

    def tick(self, now_s: float, state: str, readings: Mapping[str, Any]) -> None:
        """Inject what is due, clear what has run its duration."""
        for f, started in list(self._active):
            if f.duration_s is not None and now_s - started >= f.duration_s:
                self.injectors[f.id].clear()
                self._active.remove((f, started))
                self.records[f.id].cleared_at_s = round(now_s, 6)
                self.emit("fault_cleared", fault=f.id, kind=f.kind, layer=f.layer)
        for f in list(self._pending):
            if self._due(f, now_s, state, readings):
                self.injectors[f.id].activate()
                self._pending.remove(f)
                self._active.append((f, now_s))
                rec = self.records[f.id]
                rec.injected_at_s, rec.outcome, rec.state_at_injection = (
                    round(now_s, 6), "injected", state)  # (mission time to the us)
                self.emit("fault_injected", fault=f.id, kind=f.kind, layer=f.layer,
                          target=f.target, params=dict(f.params))

    def on_event(self, event: str, fields: dict[str, Any], now_s: float) -> None:
        """Listen to flight events: the first FDIR trip after an injection detects it."""
        if event == "fdir_trip":
            for rec in self.records.values():
                if rec.injected_at_s is not None and rec.detected_at_s is None:
                    rec.detected_at_s = round(now_s, 6)
                    rec.monitor = fields.get("monitor") or fields.get("telemetry")
                    rec.response = fields.get("response")
        elif event == "state_change" and fields.get("dest") == "SAFE":
            for rec in self.records.values():
                if rec.injected_at_s is not None and rec._safe_at_s is None:
                    rec._safe_at_s = now_s

    def finish(self, final_state: str, complete: bool) -> list[dict[str, Any]]:
        """Outcomes for the summary: safed, completed, detected, undetected, not injected."""
        for rec in self.records.values():
            if rec.injected_at_s is None:
                continue
            if rec._safe_at_s is not None:
                rec.outcome = "safed"
            elif complete:
                rec.outcome = "completed" if rec.detected_at_s is None else "detected, completed"
            elif rec.detected_at_s is not None:
                rec.outcome = "detected"
            else:
                rec.outcome = "undetected"
        return [r.as_summary() for r in self.records.values()]

"""The mission sequencer: a ``transitions`` hierarchical machine built from statechart.yaml.

The chart is data (:data:`CHART_PATH`). Guards are the methods of :class:`Sequencer`
named in it; they read the latest sensor readings. Timeouts are checked against the
mission clock in :meth:`Sequencer.step`, never with threads (transitions' ``Timeout``
state would use the wall clock). Every state change is an event.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from transitions.extensions import HierarchicalMachine

from common.dictionary import DICTIONARY
from flight.config import MissionConfig

CHART_PATH = DICTIONARY.source / "statechart.yaml"
SEP = "_"


@dataclass
class Phase:
    state: str
    entered_s: float
    left_s: float | None = None


def load_chart(path: Path = CHART_PATH) -> dict[str, Any]:
    """The state chart as plain data: ``states`` and ``transitions``."""
    with open(path, encoding="utf-8") as f:
        chart: dict[str, Any] = yaml.safe_load(f)
    return chart


def leaf_states(chart: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Leaf states by full name (``EXTRACT_HEAT``) with their modes and timeouts."""
    out: dict[str, dict[str, Any]] = {}
    for st in chart["states"]:
        for child in st.get("children", []):
            out[f"{st['name']}{SEP}{child['name']}"] = child
        if not st.get("children"):
            out[st["name"]] = st
    return out


def machine_spec(chart: Mapping[str, Any]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Translate the chart into ``transitions`` states and transitions arguments."""
    def state(st: Mapping[str, Any]) -> dict[str, Any]:
        d: dict[str, Any] = {"name": st["name"]}
        if st.get("children"):
            d["children"] = [state(c) for c in st["children"]]
            d["initial"] = st["initial"]
        return d

    trans = []
    for t in chart["transitions"]:
        d = {"trigger": t["trigger"], "source": t["source"], "dest": t["dest"],
             "conditions": list(t.get("guards", []))}
        if t.get("complete"):
            d["after"] = "mark_complete"
        trans.append(d)
    return [state(s) for s in chart["states"]], trans


class Sequencer:
    """Mission state machine with guards on readings and deadlines on mission time.

    ``on_modes(modes)`` is called with the modes of every state entered; ``emit(event,
    **fields)`` records events; ``fdir_active()`` tells whether any monitor is tripped.
    """

    # set on the instance by the HierarchicalMachine (model=self): the current state's
    # full name and the model's trigger-by-name method (declared here for the type checker)
    state: str
    trigger: Callable[..., bool]

    def __init__(
        self,
        cfg: MissionConfig,
        on_modes: Callable[[dict[str, str]], None],
        emit: Callable[..., None],
        fdir_active: Callable[[], bool] = lambda: False,
        chart: Mapping[str, Any] | None = None,
        cap_in_force: Callable[[Any], float | None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.g = cfg.guards
        self.on_modes = on_modes
        self.emit = emit
        self.fdir_active = fdir_active
        #: the power cap in force given the power monitor's reading (the lower of it and
        #: the rover's SET_POWER_CAP allocation); default: the reading itself
        self.cap_in_force = cap_in_force or (lambda cap_w: cap_w)
        self.chart = chart or load_chart()
        self.leaves = leaf_states(self.chart)
        self.readings: Mapping[str, Any] = {}
        self.now_s = 0.0
        self.entered_s = 0.0
        self.complete = False
        #: called the moment SAFE is entered (the stored sequences are cancelled)
        self.on_enter_safe: Callable[[], None] | None = None
        self.safe_reason: str | None = None
        self.phases: list[Phase] = []
        self._pending_reason: str | None = None
        self._trigger_name = ""
        states, trans = machine_spec(self.chart)
        self.machine = HierarchicalMachine(
            model=self, states=states, transitions=trans, initial="BOOT",
            ignore_invalid_triggers=True, auto_transitions=False,
            after_state_change="_entered", model_override=False,
        )
        self._auto = self._auto_table()
        self._timeouts: dict[str, tuple[float | None, str | None]] = {
            name: (cfg.timeouts[name].timeout_s if name in cfg.timeouts else leaf.get("timeout_s"),
                   leaf.get("on_timeout"))
            for name, leaf in self.leaves.items()
        }
        self.phases.append(Phase("BOOT", 0.0))
        on_modes(dict(self.leaves["BOOT"]["modes"]))

    # ---- tables --------------------------------------------------------------------
    def _auto_table(self) -> dict[str, list[tuple[str, list[Callable[[], bool]]]]]:
        """For each leaf, the automatic triggers to try and their guard methods."""
        table: dict[str, list[tuple[str, list[Callable[[], bool]]]]] = {n: [] for n in self.leaves}
        for t in self.chart["transitions"]:
            if not t.get("auto"):
                continue
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            guards = [getattr(self, g) for g in t.get("guards", [])]
            for leaf in self.leaves:
                if any(leaf == s or leaf.startswith(s + SEP) for s in sources):
                    table[leaf].append((t["trigger"], guards))
        return table

    # ---- the cycle -----------------------------------------------------------------
    def observe(self, now_s: float, readings: Mapping[str, Any]) -> None:
        """Take this cycle's time and readings (before commands and :meth:`step`)."""
        self.now_s = now_s
        self.readings = readings

    def step(self) -> None:
        """Check the current phase's deadline, then try its automatic transitions."""
        now_s = self.now_s
        limit_s, on_timeout = self._timeouts[self.state]
        if limit_s is not None and now_s - self.entered_s >= limit_s:
            self.emit("phase_timeout", state=self.state, limit_s=limit_s, fires=on_timeout)
            if on_timeout == "safe":
                self.go_safe(f"timeout in {self.state} after {limit_s:g} s")
            elif on_timeout is not None:  # (a chart's timeout always names its trigger)
                self.fire(on_timeout, f"timeout in {self.state} after {limit_s:g} s")
            return
        for trig, guards in self._auto[self.state]:
            for guard in guards:
                if not guard():
                    break
            else:
                self.fire(trig)
                return

    def fire(self, trigger: str, reason: str | None = None) -> bool:
        """Fire a commanded trigger; True if the machine changed state."""
        before = self.state
        self._pending_reason = reason
        self._trigger_name = trigger
        self.trigger(trigger)
        self._pending_reason = None
        return self.state != before

    def go_safe(self, reason: str) -> None:
        """Enter SAFE with ``reason``; idempotent (already SAFE: nothing happens)."""
        if self.state != "SAFE":
            self.fire("safe", reason)

    # ---- callbacks -----------------------------------------------------------------
    def _entered(self) -> None:
        src, dst = self.phases[-1].state, self.state
        if self.phases:
            self.phases[-1].left_s = self.now_s
        self.phases.append(Phase(dst, self.now_s))
        self.entered_s = self.now_s
        if dst.startswith("EXTRACT") and not src.startswith("EXTRACT"):
            self.complete = False  # a new scoop's extraction: not complete until it ends
        if dst == "SAFE":
            self.safe_reason = self._pending_reason or self._trigger_name
        elif src == "SAFE":
            self.safe_reason = None
        self.emit("state_change", source=src, dest=dst, trigger=self._trigger_name,
                  reason=self._pending_reason)
        if dst == "SAFE" and self.on_enter_safe is not None:
            self.on_enter_safe()  # (at once: nothing queued behind it runs in SAFE)
        if self.complete and dst == "IDLE":
            self.emit("mission_complete")
        self.on_modes(dict(self.leaves[dst]["modes"]))

    def mark_complete(self) -> None:
        """Transition action of the completing transition (runs before the state-change
        callback): the event is emitted after the state change, in :meth:`_entered`."""
        self.complete = True

    # ---- guards (names used in statechart.yaml) -----------------------------------
    def _r(self, key: str) -> float:
        v = self.readings.get(key)
        return math.nan if v is None else float(v)

    def auto_boot(self) -> bool:
        return self.cfg.auto_boot

    def sensors_valid(self) -> bool:
        """Every reading present and finite."""
        return bool(self.readings) and all(v is not None and v == v
                                           for v in self.readings.values())

    def power_available(self) -> bool:
        """The cap in force (power monitor and SET_POWER_CAP) leaves ``min_power_w``."""
        cap_w = self.cap_in_force(self.readings.get("bus_cap_w"))
        return cap_w is not None and cap_w >= self.g.min_power_w

    def chamber_pressurised(self) -> bool:
        return self._r("chamber_pressure_pa") >= self.g.vapour_seen_pa

    def trap_cold(self) -> bool:
        return self._r("trap_temp_k") <= self.g.trap_ready_k

    def capture_min_elapsed(self) -> bool:
        return self.now_s - self.entered_s >= self.g.capture_min_s

    def outgassing_ended(self) -> bool:
        return (self._r("chamber_pressure_pa") <= self.g.capture_end_pa
                and self._r("sample_temp_k") >= self.g.capture_end_temp_k)

    def valve_closed(self) -> bool:
        return self.readings.get("valve_open") is False

    def trap_melted(self) -> bool:
        return self._r("trap_temp_k") >= self.g.melted_temp_k

    def reservoir_empty(self) -> bool:
        return self._r("reservoir_mass_kg") <= self.g.water_left_kg

    def cause_cleared(self) -> bool:
        return not self.fdir_active()

"""The checks of a sequence's walk, step by step: the predicted state against the chart,
ARM before hazardous commands, the time tags and their bounds.

The walk (:class:`Walk`) carries what is known after each step: the set of leaf states
the payload may be in (predicted strictly: only a command's transition and a
``wait_until {state: ...}`` move it; guards, timers and sensors are not assumed), a lower
and an upper bound of the step's mission time, and the open ARMs. A check that fails
raises the exception ``fail(key, message)`` makes (:mod:`flight.sequences.schema` names
the step and file in it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flight.commands import ARM_WINDOW_S
from flight.sequencer import SEP, leaf_states

#: a time tag must be a whole number of cycles to within this [s]
TAG_RESOLUTION_S = 1e-6
#: tolerance [s] of time comparisons (an absolute tag in the past or going back)
EPS_S = 1e-9
#: ``fail(key, message)``: the exception to raise for the step being checked
Fail = Callable[[str, str], Exception]
_FLOW = "the chart moves on by itself only through a wait_until {state: ...}"


class ChartIndex:
    """The chart as the walk needs it: which leaves a state name covers, where a trigger
    moves each leaf (a parent as a destination means its initial child)."""

    def __init__(self, chart: Mapping[str, Any]) -> None:
        self._covers = {leaf: frozenset({leaf}) for leaf in leaf_states(chart)}
        dest = dict(self._covers)
        for st in chart["states"]:
            if st.get("children"):
                name = st["name"]
                self._covers[name] = frozenset(f"{name}{SEP}{c['name']}"
                                               for c in st["children"])
                dest[name] = frozenset({f"{name}{SEP}{st['initial']}"})
        self._moves: dict[tuple[str, str], frozenset[str]] = {}
        for t in chart["transitions"]:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            for src in sources:
                for leaf in self._covers.get(src, ()):
                    key = (t["trigger"], leaf)
                    self._moves[key] = self._moves.get(key, frozenset()) | dest[t["dest"]]

    def covers(self, name: str) -> frozenset[str] | None:
        """The leaves state ``name`` stands for (None: no such state)."""
        return self._covers.get(name)

    def moves(self, trigger: str, leaf: str) -> frozenset[str]:
        """Where ``trigger`` may take the chart from ``leaf`` (empty: it is refused)."""
        return self._moves.get((trigger, leaf), frozenset())

    def names(self) -> list[str]:
        """Every state name, leaves and parents."""
        return sorted(self._covers)

    def label(self, states: frozenset[str]) -> str:
        """``states`` by name: a parent's when they are all its children."""
        for name, leaves in self._covers.items():
            if leaves == states:
                return name
        return ", ".join(sorted(states))


@dataclass
class Arm:
    """An ARM step passed in the walk: its index, a lower bound of its mission time [s]
    (None: unknown), an upper bound of the time since [s] (None: unknown, ``why``), the
    first wait step after it (None: none)."""

    index: int
    lower_s: float | None
    since_s: float | None = 0.0
    why: str = ""
    wait: int | None = None


@dataclass
class Walk:
    """What is known after the steps walked so far (times are mission time [s])."""

    states: frozenset[str]
    ctx: str
    lower_s: float | None = None
    worst_s: float = 0.0
    last_at: tuple[int, float] | None = None
    arms: dict[str, Arm] = field(default_factory=dict)


def on_cycle(t_s: float, cycle_s: float, key: str, fail: Fail) -> None:
    """Check that ``t_s`` [s] is a whole number of cycles of ``cycle_s`` [s]."""
    if abs(round(t_s / cycle_s) * cycle_s - t_s) > TAG_RESOLUTION_S:
        raise fail(key, f"{t_s:g} s is not a whole number of cycles ({cycle_s:g} s)")


def time_tag(i: int, at_s: float | None, after_s: float | None, walk: Walk, fail: Fail,
             cycle_s: float, now_s: float | None) -> None:
    """Check step ``i``'s tag (absolute ``at_s`` or relative ``after_s`` [s]) and move the
    walk's time bounds and open ARMs to the time the step is due."""
    if at_s is not None and after_s is not None:
        raise fail("at_s", "at most one of at_s and after_s")
    if at_s is None:
        after = after_s or 0.0
        on_cycle(after, cycle_s, "after_s", fail)
        walk.lower_s = None if walk.lower_s is None else walk.lower_s + after
        walk.worst_s += after
        for arm in walk.arms.values():
            arm.since_s = None if arm.since_s is None else arm.since_s + after
        return
    on_cycle(at_s, cycle_s, "at_s", fail)
    if now_s is not None and at_s < now_s - EPS_S:
        raise fail("at_s", f"{at_s:g} s is in the past (now {now_s:g} s)")
    if walk.last_at is not None and at_s < walk.last_at[1] - EPS_S:
        raise fail("at_s", f"{at_s:g} s goes back from steps[{walk.last_at[0]}].at_s "
                   f"{walk.last_at[1]:g} s; absolute tags must not decrease")
    walk.last_at = (i, at_s)
    walk.lower_s = at_s if walk.lower_s is None else max(at_s, walk.lower_s)
    walk.worst_s = max(walk.worst_s, at_s)
    for arm in walk.arms.values():
        if arm.lower_s is None:
            arm.since_s, arm.why = None, (
                f"steps[{i}] has an absolute tag (at_s) while the ARM at steps[{arm.index}] "
                "is timed from the start or a wait (relative tags), so the time between "
                "them cannot be known")
        elif arm.since_s is not None:
            # it runs at its tag, or late behind the steps before it
            arm.since_s = max(arm.since_s, at_s - arm.lower_s)


def wait_passed(i: int, walk: Walk, timeout_s: float) -> None:
    """A wait step ``i`` of ``timeout_s`` [s]: the worst case grows by its timeout; the
    open ARMs cannot be timed across it."""
    walk.worst_s += timeout_s
    for arm in walk.arms.values():
        if arm.wait is None:
            arm.wait = i


def predict(i: int, name: str, spec: Mapping[str, Any], last: bool, walk: Walk,
            fail: Fail, index: ChartIndex) -> None:
    """Check command ``name`` (its dictionary ``spec``) against the predicted state and
    move the prediction: a trigger needs a transition from every state the payload may
    be in; a handler with ``states:`` needs every one of them among those."""
    refused = f"where the sequence is {walk.ctx}; {_FLOW}"
    if "trigger" in spec:
        dests: set[str] = set()
        for leaf in sorted(walk.states):
            moved = index.moves(spec["trigger"], leaf)
            if not moved:
                in_ = index.label(walk.states)
                in_ = in_ if len(walk.states) == 1 else f"{leaf} (one of {in_})"
                raise fail("command", f"{name} is refused in {in_}, {refused}")
            dests |= moved
        walk.states, walk.ctx = frozenset(dests), f"after steps[{i}] ({name})"
        if "SAFE" in dests and not last:
            raise fail("command", f"{name} enters SAFE, and the sequence is cancelled on "
                       f"entering SAFE; steps[{i + 1}:] would never run")
    elif spec.get("states"):
        allowed: set[str] = set()
        for st in spec["states"]:
            allowed |= index.covers(st) or set()
        if not walk.states <= allowed:
            raise fail("command", f"{name} is refused in {index.label(walk.states)} "
                       f"(accepted only in {', '.join(spec['states'])}), {refused}")


def check_armed(name: str, spec: Mapping[str, Any], walk: Walk, fail: Fail) -> None:
    """Hazardous ``name`` uses up its open ARM, which must exist, have no wait after it
    and be at most ``arm_window_s`` [s] before (upper bound of the time between)."""
    window = float(spec.get("arm_window_s", ARM_WINDOW_S))
    arm = walk.arms.pop(name, None)  # an arm is used up by one attempt
    if arm is None:
        raise fail("command", f"not armed: {name} is hazardous; put ARM {{command: {name}}} "
                   f"before it (after any earlier {name}), at most {window:g} s before, "
                   "with no wait_until between")
    if arm.wait is not None:
        raise fail("command", f"the wait_until at steps[{arm.wait}] lies between the ARM at "
                   f"steps[{arm.index}] and {name}, so the time between them cannot be "
                   "known; ARM after the wait")
    if arm.since_s is None:
        raise fail("command", f"{name}: {arm.why}; its ARM must come at most {window:g} s "
                   "before it")
    if arm.since_s > window + EPS_S:
        raise fail("command", f"{name} may come {arm.since_s:g} s after its ARM at "
                   f"steps[{arm.index}]; the arm window is {window:g} s")

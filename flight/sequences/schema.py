"""Stored sequences: the file format, parsed and validated as a whole before anything runs.

A sequence file (YAML) names the sequence, the state it starts in and what a refused
step does, then lists its steps; each step is a command or a wait, with a time tag::

    name: three-scoops
    start_state: IDLE             # a leaf (EXTRACT_HEAT) or a parent (EXTRACT); default IDLE
    on_refused: cancel            # cancel (default) | continue
    steps:
      - {after_s: 1.0, command: ARM, args: {command: START_EXTRACTION}, comment: arm it}
      - {after_s: 0.5, command: START_EXTRACTION}
      - {wait_until: {state: IDLE}, timeout_s: 43200, on_timeout: cancel}
      - {at_s: 7200.0, command: SET_POWER_CAP, args: {cap_w: 30.0}}
      - {wait_until: {telemetry: chamber_pressure_pa, above: 2.0}, timeout_s: 600}

``at_s`` is absolute mission time [s]; ``after_s`` [s] counts from the end of the step
before (a command executed, a wait ended; the first step: the start); default
``after_s: 0``. Every tag is a whole number of cycles. :func:`parse_sequence` checks the
commands and their arguments, the order of states against the chart (the state is
predicted strictly: only commands and ``wait_until {state: ...}`` move it), ARM before
every hazardous command within its window, the time tags and the worst-case duration,
and raises :class:`SequenceError` (``<where>: steps[3].command: ...``) at the first
problem.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from common.schema import load, param
from flight.commands import (
    ARM_COMMAND,
    CommandError,
    check_source,
    is_hazardous,
    load_dictionary,
    validate,
)
from flight.sequencer import load_chart
from flight.sequences.checks import (
    EPS_S,
    Arm,
    ChartIndex,
    Fail,
    Walk,
    check_armed,
    on_cycle,
    predict,
    time_tag,
    wait_passed,
)
from flight.sequences.model import (
    MAX_STEPS,
    ON_REFUSED,
    ON_TIMEOUT,
    SOURCE,
    Condition,
    Sequence,
    SequenceError,
    Step,
)


@dataclass(frozen=True)
class WaitFile:
    state: str | None = param(None, doc="a state: a leaf, or a parent (any of its children)")
    telemetry: str | None = param(None, doc="a reading (channels.yaml sensors)")
    above: float | None = param(None, doc="with telemetry: holds above this")
    below: float | None = param(None, doc="with telemetry: holds below this")


@dataclass(frozen=True)
class StepFile:
    command: str | None = param(None, doc="a command of common/dictionary/commands.yaml")
    args: dict[str, Any] = param({}, doc="the command's arguments")
    wait_until: WaitFile | None = param(None, doc="a condition to wait for, in place of a "
                                        "command")
    at_s: float | None = param(None, 0.0, 1e9, "absolute mission time [s]")
    after_s: float | None = param(None, 0.0, 1e9, "after the previous step ended [s]")
    timeout_s: float | None = param(None, 0.0, 1e9, "a wait gives up after this [s]")
    on_timeout: str | None = param(None, choices=ON_TIMEOUT, doc="cancel | continue | safe")
    comment: str = param("", doc="what the step is for")


@dataclass(frozen=True)
class SequenceFile:
    name: str = param(doc="the sequence's name")
    steps: list[StepFile] = param(doc="1..1000 steps, in order")
    start_state: str = param("IDLE", doc="the state it starts in (a parent: any child)")
    on_refused: str = param("cancel", choices=ON_REFUSED, doc="what a refused step does")


def parse_sequence(data: Any, where: str, *, cycle_s: float, now_s: float | None = None,
                   max_duration_s: float = 7 * 86400.0,
                   dictionary: Mapping[str, Mapping[str, Any]] | None = None,
                   chart: Mapping[str, Any] | None = None, source: str = SOURCE) -> Sequence:
    """Validate a sequence file's data (from ``yaml.safe_load``) as a whole.

    ``cycle_s`` [s]: every time tag must be a whole number of cycles; ``now_s`` [s]: an
    absolute tag before it is in the past (None: not checked), and the worst-case
    duration counts from it (None: from 0); ``max_duration_s`` [s] caps that duration.
    ``dictionary`` (:func:`flight.commands.load_dictionary`) and ``chart``
    (:func:`flight.sequencer.load_chart`) default to those in force.

    Raises:
        SequenceError: naming the step and key of the first problem: an unknown key,
            command or argument, a step in a state that refuses it, a hazardous command
            without an ARM within its window, a time tag off the cycle, in the past or
            going back, a duration over ``max_duration_s``.
    """
    dictionary = load_dictionary() if dictionary is None else dictionary
    index = ChartIndex(load_chart() if chart is None else chart)
    try:
        raw = load(SequenceFile, data, f"{where}:")
    except ConfigError as exc:
        raise _from_config(exc, where) from None
    if not 1 <= len(raw.steps) <= MAX_STEPS:
        raise SequenceError(where, f"expected 1 to {MAX_STEPS} steps, got {len(raw.steps)}",
                            key="steps")
    start = index.covers(raw.start_state)
    if start is None:
        raise SequenceError(where, f"unknown state {raw.start_state!r}; known: "
                            f"{', '.join(index.names())}", key="start_state")
    if "SAFE" in start:
        raise SequenceError(where, "a sequence cannot run in SAFE (it is cancelled on "
                            "entering SAFE; SAFE is left by a ground RECOVER)", key="start_state")
    t0_s = 0.0 if now_s is None else now_s
    walk = Walk(states=start, ctx=f"at its start (start_state {raw.start_state})",
                worst_s=t0_s)
    steps = []
    last = len(raw.steps) - 1
    for i, s in enumerate(raw.steps):

        def fail(key: str, message: str, i: int = i) -> Exception:
            return SequenceError(where, message, i, key)

        steps.append(_step(i, s, i == last, walk, fail, cycle_s, now_s, dictionary, index,
                           source))
        if walk.worst_s - t0_s > max_duration_s + EPS_S:
            key = "timeout_s" if s.wait_until is not None else (
                "at_s" if s.at_s is not None else "after_s")
            raise fail(key, f"the sequence may last {walk.worst_s - t0_s:g} s by this step "
                       "(worst case: relative tags plus every wait's timeout), over "
                       f"max_duration_s {max_duration_s:g} s")
    return Sequence(raw.name, raw.start_state, raw.on_refused, tuple(steps),
                    round(walk.worst_s - t0_s, 6))


def _step(i: int, s: StepFile, last: bool, walk: Walk, fail: Fail, cycle_s: float,
          now_s: float | None, dictionary: Mapping[str, Mapping[str, Any]],
          index: ChartIndex, source: str = SOURCE) -> Step:
    """Check step ``i`` and move the walk past it (see :func:`parse_sequence`)."""
    if (s.command is None) == (s.wait_until is None):
        raise fail("command", "a step is exactly one of command and wait_until")
    if s.wait_until is None:
        for key in ("timeout_s", "on_timeout"):
            if getattr(s, key) is not None:
                raise fail(key, "only a wait_until step has it")
    elif s.args:
        raise fail("args", "only a command step has args")
    time_tag(i, s.at_s, s.after_s, walk, fail, cycle_s, now_s)
    after_s = s.after_s or 0.0
    if s.command is not None:
        name = s.command
        try:
            typed = validate(dictionary, name, s.args)
        except CommandError as exc:
            raise fail("args" if name in dictionary else "command", str(exc)) from None
        try:
            check_source(dictionary, name, source)
        except CommandError as exc:
            raise fail("command", str(exc)) from None
        spec = dictionary[name]
        predict(i, name, spec, last, walk, fail, index)
        if is_hazardous(spec, typed):
            check_armed(name, spec, walk, fail)
        if name == ARM_COMMAND:
            walk.arms[typed["command"]] = Arm(i, walk.lower_s)
        return Step(i, name, MappingProxyType(typed), s.at_s, after_s, None, None, "cancel",
                    s.comment)
    assert s.wait_until is not None
    if s.timeout_s is None or not s.timeout_s > 0:
        raise fail("timeout_s", "a wait_until needs timeout_s > 0 [s]")
    on_cycle(s.timeout_s, cycle_s, "timeout_s", fail)
    wait_passed(i, walk, s.timeout_s)
    cond = _condition(s.wait_until, fail, index)
    if cond.state is not None:
        walk.states, walk.ctx = cond.states, f"after steps[{i}] (wait_until state {cond.state})"
    return Step(i, None, MappingProxyType({}), s.at_s, after_s, cond, s.timeout_s,
                s.on_timeout or "cancel", s.comment)


def _condition(w: WaitFile, fail: Fail, index: ChartIndex) -> Condition:
    if (w.state is None) == (w.telemetry is None):
        raise fail("wait_until", "expected exactly one of {state: NAME} and "
                   "{telemetry: NAME, above|below: X}")
    if w.state is not None:
        if w.above is not None or w.below is not None:
            raise fail("wait_until.above" if w.above is not None else "wait_until.below",
                       "only a telemetry condition has a threshold")
        states = index.covers(w.state)
        if states is None:
            raise fail("wait_until.state", f"unknown state {w.state!r}; known: "
                       f"{', '.join(index.names())}")
        if "SAFE" in states:
            raise fail("wait_until.state", "the sequence is cancelled on entering SAFE; "
                       "it can never see SAFE")
        return Condition(state=w.state, states=states)
    sensors = DICTIONARY.sensors
    if w.telemetry not in sensors:
        raise fail("wait_until.telemetry", f"unknown telemetry {w.telemetry!r}; known: "
                   f"{', '.join(sensors)}")
    if (w.above is None) == (w.below is None):
        raise fail("wait_until", "a telemetry condition needs exactly one of above and below")
    for key, x in (("above", w.above), ("below", w.below)):
        if x is not None and not math.isfinite(x):
            raise fail(f"wait_until.{key}", f"must be a finite number, got {x!r}")
    return Condition(telemetry=w.telemetry, above=w.above, below=w.below)


_PATH = re.compile(r"steps\[(\d+)\]\.?(.*)")


def _from_config(exc: ConfigError, where: str) -> SequenceError:
    """A schema error (``<where>: steps[3].foo: ...``) as a SequenceError."""
    message = str(exc)[len(exc.where) + 2:]
    path = exc.where[len(where) + 2:] if exc.where.startswith(f"{where}:") else exc.where
    m = _PATH.fullmatch(path)
    if m:
        return SequenceError(where, message, int(m.group(1)), m.group(2))
    return SequenceError(where, message, None, path)


# ---- text, files and a mission's commands ----------------------------------------------
class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping."""


def _mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key if isinstance(key, str) else id(key_node))
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_sequence_text(text: str | bytes, where: str, **kw: Any) -> Sequence:
    """Parse YAML text (UTF-8 if bytes) and validate it (``kw``: :func:`parse_sequence`).

    Raises:
        SequenceError: not UTF-8, not YAML (naming the line), a key given twice, or
            anything :func:`parse_sequence` rejects.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SequenceError(where, f"not UTF-8 text at byte {exc.start}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # (_Loader is a SafeLoader)
    except _UNREADABLE as exc:  # (nesting too deep for the parser, say)
        raise SequenceError(where, _unreadable(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}" if mark is not None else ""
        col = f" (column {mark.column + 1})" if mark is not None else ""
        raise SequenceError(where, f"not valid YAML{col}: {getattr(exc, 'problem', exc)}",
                            key=at) from None
    if not isinstance(data, dict):
        raise SequenceError(where, f"expected a mapping at the top level, got "
                            f"{type(data).__name__}")
    try:
        return parse_sequence(data, where, **kw)
    except _UNREADABLE as exc:  # (a number too large for a float, say): never a crash
        raise SequenceError(where, _unreadable(exc)) from None


#: what odd input can raise below the schema's own checks (an uploaded file must never
#: take the flight software down: each is a rejected file)
_UNREADABLE = (RecursionError, OverflowError, TypeError, ValueError, MemoryError)


def _unreadable(exc: BaseException) -> str:
    return f"cannot be read: {type(exc).__name__}: {str(exc)[:120]}"


def load_sequence_file(path: str | Path, **kw: Any) -> Sequence:
    """Read and validate a sequence file (``kw``: :func:`parse_sequence`).

    Raises:
        SequenceError: the file cannot be read, or :func:`parse_sequence_text` rejects it.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SequenceError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return parse_sequence_text(data, str(path), **kw)


def sequence_from_commands(commands: list[tuple[float, str, dict[str, Any]]], where: str, *,
                           start_state: str, cycle_s: float, **kw: Any) -> Sequence:
    """A mission's time-tagged commands ``(at_s [s], name, args)`` as the Sequence
    ``mission`` (absolute tags, sorted by time, stable; ``on_refused: continue``),
    validated like a file (``kw``: :func:`parse_sequence`).

    Raises:
        SequenceError: naming ``commands[i]`` (the index in the given list) and the key
            (``name``, ``args``, ``at_s``).
    """
    order = sorted(range(len(commands)), key=lambda k: commands[k][0])
    kw.setdefault("source", "mission")
    data = {"name": "mission", "start_state": start_state, "on_refused": "continue",
            "steps": [{"at_s": commands[k][0], "command": commands[k][1],
                       "args": dict(commands[k][2])} for k in order]}
    try:
        return parse_sequence(data, where, cycle_s=cycle_s, **kw)
    except SequenceError as exc:
        if exc.step is None:
            raise
        key = "name" if exc.key == "command" else exc.key
        message = _STEP_REF.sub(lambda m: f"commands[{order[int(m.group(1))]}]", exc.message)
        message = message.replace(f"steps[{exc.step + 1}:]", "the commands after it")
        raise SequenceError(where, message, order[exc.step], key, "commands") from None


_STEP_REF = re.compile(r"steps\[(\d+)\]")

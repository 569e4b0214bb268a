"""The FDIR table (common/dictionary/fdir.yaml): schema, loading and validation at load.

A table holds ``monitors`` (what is watched, how it trips, in which states) and
``responses`` (what is done, its cooldown, its budget of automatic actions and what it
escalates to). Everything is checked before a run starts; an error names the file and
the entry (``common/dictionary/fdir.yaml: monitors[3].telemetry: unknown telemetry ...``).

The stale monitors are the dictionary's (a sensor's ``stale: {after_s, response}`` in
common/dictionary/channels.yaml), added after the file's monitors as
``<name without unit>_stale``. The mission YAML's ``limits:`` are added as extra ``limit`` monitors
(:func:`limits_as_monitors`) with the built-in responses ``SAFE`` and ``LOG``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY, Stale
from common.errors import ConfigError
from common.schema import load, param, read_yaml
from flight.config import LimitConfig

KINDS = ("limit", "stale", "rate", "noise", "crosscheck", "link")
ACTIONS = ("log", "retry", "switch_sensor", "abort_phase", "safe")
#: the table beside the dictionary in force (missions default to it)
SHIPPED_PATH = DICTIONARY.source / "fdir.yaml"
#: a mission's ``fdir:`` that names the shipped table (the default)
DEFAULT_MISSION_FDIR = "shipped"
_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ConditionConfig:
    """``telemetry`` above and/or below a value (booleans count as 0/1)."""

    telemetry: str = param(doc="reading or cmd_* name")
    above: float | None = param(None, doc="holds above this")
    below: float | None = param(None, doc="holds below this")


@dataclass(frozen=True)
class ExpectConfig:
    """What a crosscheck expects of ``telemetry`` once its condition has held ``for_s``."""

    telemetry: str = param(doc="reading checked")
    below: float | None = param(None, doc="expected below this")
    above: float | None = param(None, doc="expected above this")
    rises_by: float | None = param(None, 0.0, 1e9, "expected rise over the last for_s")
    falls_by: float | None = param(None, 0.0, 1e9, "expected fall over the last for_s")
    fraction_of: str | None = param(None, doc="expected >= min_fraction x this input")
    min_fraction: float = param(0.5, 0.0, 10.0, "with fraction_of")


@dataclass(frozen=True)
class MonitorConfig:
    """One monitor; which fields apply depends on ``kind`` (see docs/fdir.md)."""

    id: str = param(doc="unique name, lower_snake_case")
    kind: str = param(choices=KINDS, doc="how it trips")
    response: str = param(doc="name of a response (or the built-in SAFE / LOG)")
    telemetry: str = param("", doc="the watched reading (limit, stale, rate, crosscheck)")
    enabled_in: Any = param("all", doc="'all' or a list of states (EXTRACT = its phases)")
    persistence: int = param(1, 1, 100000, "consecutive bad samples before a trip")
    when: list[ConditionConfig] = param([], doc="only evaluated while all of these hold")
    above: float | None = param(None, doc="limit: bad above this")
    below: float | None = param(None, doc="limit: bad below this")
    stale_s: float | None = param(None, 0.0, 1e6, "stale: no fresh reading for this long")
    window_s: float | None = param(None, 0.0, 1e6, "rate, noise, link: the window")
    sigma_above: float | None = param(None, 0.0, 1e12,
                                      "noise: standard deviation over the window above this")
    sigma_below: float | None = param(None, 0.0, 1e12,
                                      "noise: ... or below this (a reading frozen: a live "
                                      "sensor always shows its own noise)")
    rate_above: float | None = param(None, 0.0, 1e12, "rate: |d value/dt| above this, per s")
    direction: str = param("either", choices=("rising", "falling", "either"), doc="rate")
    for_s: float | None = param(None, 0.0, 1e7, "crosscheck: condition held this long")
    expect: ExpectConfig | None = param(None, doc="crosscheck: the expectation")
    counter: str = param("", doc="link: a link_* diagnostics counter")
    max_count: int | None = param(None, 0, 10**9, "link: trips above this many per window")
    doc: str = param("", doc="what the fault is")


@dataclass(frozen=True)
class ResponseConfig:
    """One response; ``escalate_to`` is taken when the budget is spent or the monitor is
    still tripped ``cooldown_s`` after the action."""

    action: str = param(choices=ACTIONS, doc="what is done")
    cooldown_s: float = param(30.0, 0.0, 1e7, "wait this long for the fault to clear")
    budget: int | None = param(1, 0, 100000, "automatic actions per monitor (null: no limit)")
    escalate_to: str = param("SAFE", doc="next response, or 'none'")
    power_cycle: list[str] = param([], doc="retry: actuators commanded off for one cycle")
    sensor: str = param("", doc="switch_sensor: the reading replaced ...")
    substitute: str = param("", doc="switch_sensor: ... by this one")
    cap: dict[str, float] | None = param(
        None, doc="switch_sensor: actuator -> the most it may be commanded while the "
        "substitution holds, proven safe whatever the substitute reads (required for "
        "switch_sensor; {} only where no controller acts on the sensor)")
    doc: str = param("", doc="what it does")


@dataclass(frozen=True)
class FdirFile:
    monitors: list[MonitorConfig] = param([], doc="the monitors, evaluated in order")
    responses: dict[str, ResponseConfig] = param({}, doc="responses by name")


#: always present; a table may not redefine them
BUILTIN_RESPONSES: dict[str, ResponseConfig] = {
    "SAFE": ResponseConfig(action="safe", budget=None, escalate_to="none",
                           doc="go SAFE with the monitor's reason"),
    "LOG": ResponseConfig(action="log", budget=None, escalate_to="none",
                          doc="an event, nothing else"),
}


@dataclass(frozen=True)
class FdirTable:
    """Validated monitors and responses (built-ins included), ready for :class:`Fdir`."""

    monitors: tuple[MonitorConfig, ...] = ()
    responses: Mapping[str, ResponseConfig] = dataclasses.field(
        default_factory=lambda: dict(BUILTIN_RESPONSES))
    source: str = ""

    def with_monitors(self, extra: Iterable[MonitorConfig]) -> FdirTable:
        """This table plus ``extra`` monitors (their responses must exist)."""
        return dataclasses.replace(self, monitors=(*self.monitors, *extra))


def limits_as_monitors(limits: Iterable[LimitConfig]) -> list[MonitorConfig]:
    """The mission's ``limits:`` as ``limit`` monitors ``limits[i]`` (response SAFE/LOG)."""
    return [MonitorConfig(id=f"limits[{i}]", kind="limit", response=lim.response,
                          telemetry=lim.telemetry, above=lim.above, below=lim.below,
                          persistence=lim.persistence, doc="mission limit")
            for i, lim in enumerate(limits)]


def resolve_path(mission_path: str | Path, fdir: str) -> Path | None:
    """The table file of a mission: ``shipped`` (the default) -> the table beside the
    dictionary (common/dictionary/fdir.yaml); "" -> none; else ``fdir`` relative to the
    mission file."""
    if not fdir:
        return None
    if fdir == DEFAULT_MISSION_FDIR:
        return SHIPPED_PATH
    return Path(os.path.normpath(Path(mission_path).parent / fdir))


def stale_monitors(stale: Mapping[str, Stale]) -> list[MonitorConfig]:
    """The dictionary's per-sensor stale times as ``stale`` monitors."""
    return [MonitorConfig(id=s.monitor, kind="stale", telemetry=name, stale_s=s.after_s,
                          response=s.response, enabled_in=s.enabled_in,
                          doc=f"no {name} reading for {s.after_s:g} s (the dictionary's)")
            for name, s in stale.items()]


def _with_stale(path: str, monitors: list[MonitorConfig],
                responses: Mapping[str, ResponseConfig],
                stale: Mapping[str, Stale]) -> tuple[MonitorConfig, ...]:
    """The table's monitors with the dictionary's stale monitors, placed before the link
    monitors (where the table used to list them). A sensor the table already watches with
    a stale monitor of its own keeps that one; a response the table lacks is SAFE when the
    table is a mission's own, an error when it is the shipped one (a typo).

    Raises:
        ConfigError: a dictionary stale response the shipped table does not have.
    """
    watched_stale = {m.telemetry for m in monitors if m.kind == "stale"}
    rows = []
    for m in stale_monitors(stale):
        if m.telemetry in watched_stale:
            continue
        if m.response not in responses:
            if Path(path).resolve() == SHIPPED_PATH.resolve():
                raise ConfigError(f"{DICTIONARY.source / 'channels.yaml'}: {m.telemetry}"
                                  ".stale.response", f"unknown response {m.response!r}; "
                                  f"known: {', '.join(sorted(responses))}")
            m = dataclasses.replace(m, response="SAFE")
        rows.append(m)
    at = next((i for i, m in enumerate(monitors) if m.kind == "link"), len(monitors))
    return (*monitors[:at], *rows, *monitors[at:])


def load_table(path: str | Path | None, telemetry: Collection[str],
               actuators: Collection[str], states: Collection[str],
               stale: Mapping[str, Stale] | None = None) -> FdirTable:
    """Read and validate a table file (``None``: only the built-in responses, no
    monitors), and add the stale monitors of ``stale`` (default: the dictionary's).

    ``telemetry`` are the reading names, ``actuators`` the command names (monitors may
    read them as ``cmd_<name>``), ``states`` every state and phase name.

    Raises:
        ConfigError: naming the file and entry of the first problem.
    """
    if path is None:
        return FdirTable()
    where = f"{path}:"
    raw = load(FdirFile, read_yaml(path), where)
    for name in raw.responses:
        if name in BUILTIN_RESPONSES:
            raise ConfigError(f"{path}: responses.{name}", "is built in and cannot be redefined")
    responses = {**BUILTIN_RESPONSES, **raw.responses}
    _check_responses(str(path), responses, telemetry, actuators)
    check_monitors(str(path), raw.monitors, responses, telemetry, actuators, states)
    monitors = _with_stale(str(path), list(raw.monitors), responses,
                           DICTIONARY.stale if stale is None else stale)
    # (again with the dictionary's stale monitors in: an id both use, say)
    check_monitors(f"{path} + the dictionary's stale monitors", monitors, responses,
                   telemetry, actuators, states)
    return FdirTable(monitors, responses, str(path))


def check_monitors(path: str, monitors: Iterable[MonitorConfig],
                   responses: Mapping[str, ResponseConfig], telemetry: Collection[str],
                   actuators: Collection[str], states: Collection[str]) -> None:
    """Check every monitor against the names it may refer to.

    Raises:
        ConfigError: ``<path>: monitors[i].<field>`` and what is wrong.
    """
    inputs = set(telemetry) | {f"cmd_{a}" for a in actuators}
    seen: set[str] = set()
    for i, m in enumerate(monitors):
        at = f"{path}: monitors[{i}]"

        def need(fld: str, ok: bool, what: str, at: str = at) -> None:
            if not ok:
                raise ConfigError(f"{at}.{fld}", what)

        need("id", bool(_ID.fullmatch(m.id)) or m.id.startswith("limits["),
             f"{m.id!r} must be lower_snake_case")
        need("id", m.id not in seen, f"duplicate monitor id {m.id!r}")
        seen.add(m.id)
        need("response", m.response in responses, f"unknown response {m.response!r}; "
             f"known: {', '.join(sorted(responses))}")
        _check_states(f"{at}.enabled_in", m.enabled_in, states)
        for j, c in enumerate(m.when):
            _check_name(f"{at}.when[{j}].telemetry", c.telemetry, inputs)
            need(f"when[{j}]", c.above is not None or c.below is not None,
                 "a condition needs 'above' or 'below'")
        if m.kind not in ("link", "crosscheck") or m.telemetry:
            _check_name(f"{at}.telemetry", m.telemetry, inputs)
        if m.kind == "limit":
            need("above", m.above is not None or m.below is not None,
                 "a limit needs 'above' or 'below'")
            need("below", m.above is None or m.below is None or m.below < m.above,
                 "must be below 'above'")
        elif m.kind == "stale":
            need("stale_s", m.stale_s is not None and m.stale_s > 0, "a stale monitor needs "
                 "stale_s > 0 [s]")
        elif m.kind == "rate":
            need("window_s", m.window_s is not None and m.window_s > 0, "a rate monitor needs "
                 "window_s > 0 [s]")
            need("rate_above", m.rate_above is not None and m.rate_above > 0,
                 "a rate monitor needs rate_above > 0 [units/s]")
        elif m.kind == "noise":
            need("window_s", m.window_s is not None and m.window_s > 0, "a noise monitor needs "
                 "window_s > 0 [s]")
            need("sigma_above", (m.sigma_above is not None and m.sigma_above > 0)
                 or (m.sigma_below is not None and m.sigma_below > 0),
                 "a noise monitor needs sigma_above > 0 or sigma_below > 0 [units]")
        elif m.kind == "crosscheck":
            need("when", bool(m.when), "a crosscheck needs at least one 'when' condition")
            need("for_s", m.for_s is not None, "a crosscheck needs for_s [s]")
            need("expect", m.expect is not None, "a crosscheck needs 'expect'")
            if m.expect is not None:  # (need() raised otherwise)
                _check_expect(f"{at}.expect", m.expect, inputs)
        elif m.kind == "link":
            need("counter", m.counter.startswith("link_"),
                 f"{m.counter!r} is not a link_* diagnostics counter")
            need("window_s", m.window_s is not None and m.window_s > 0, "a link monitor needs "
                 "window_s > 0 [s]")
            need("max_count", m.max_count is not None, "a link monitor needs max_count")


def _check_expect(at: str, e: ExpectConfig, inputs: set[str]) -> None:
    _check_name(f"{at}.telemetry", e.telemetry, inputs)
    kinds = ("below", "above", "rises_by", "falls_by", "fraction_of")
    given = [k for k in kinds if getattr(e, k) is not None]
    if len(given) != 1:
        raise ConfigError(at, f"expect exactly one of {', '.join(kinds)}; "
                          f"got {', '.join(given) or 'none'}")
    if e.fraction_of is not None:
        _check_name(f"{at}.fraction_of", e.fraction_of, inputs)


def _check_responses(path: str, responses: Mapping[str, ResponseConfig],
                     telemetry: Collection[str], actuators: Collection[str]) -> None:
    for name, r in responses.items():
        at = f"{path}: responses.{name}"
        if r.escalate_to != "none" and r.escalate_to not in responses:
            raise ConfigError(f"{at}.escalate_to", f"unknown response {r.escalate_to!r}; "
                              f"known: none, {', '.join(sorted(responses))}")
        for j, a in enumerate(r.power_cycle):
            if a not in actuators:
                raise ConfigError(f"{at}.power_cycle[{j}]", f"unknown actuator {a!r}; known: "
                                  f"{', '.join(sorted(actuators))}")
        if r.action == "switch_sensor":
            _check_name(f"{at}.sensor", r.sensor, telemetry)
            _check_name(f"{at}.substitute", r.substitute, telemetry)
            if r.sensor == r.substitute:
                raise ConfigError(f"{at}.substitute", "must differ from sensor")
            if r.cap is None:
                raise ConfigError(f"{at}.cap", "a switch_sensor needs the actuator limits "
                                  "that are safe whatever the substitute reads, e.g. "
                                  "{heater_power_w: 0.8} (docs/fdir.md, 'Substitutions')")
        if r.cap and r.action != "switch_sensor":
            raise ConfigError(f"{at}.cap", "only a switch_sensor response caps actuators")
        for a, limit in (r.cap or {}).items():
            if a not in actuators:
                raise ConfigError(f"{at}.cap.{a}", f"unknown actuator {a!r}; known: "
                                  f"{', '.join(sorted(actuators))}")
            if not 0.0 <= limit < float("inf"):
                raise ConfigError(f"{at}.cap.{a}", f"must be a finite number >= 0, got {limit}")
        # the escalation chain must end (in a safe action or 'none'), never loop
        chain, nxt = [name], r
        while nxt.action != "safe" and nxt.escalate_to != "none":
            if nxt.escalate_to in chain:
                raise ConfigError(f"{at}.escalate_to", "escalation loops: "
                                  f"{' -> '.join([*chain, nxt.escalate_to])}")
            chain.append(nxt.escalate_to)
            nxt = responses[nxt.escalate_to]


def _check_name(at: str, name: str, known: Collection[str]) -> None:
    if name not in known:
        raise ConfigError(at, f"unknown telemetry {name!r}; known: {', '.join(sorted(known))}")


def _check_states(at: str, value: Any, states: Collection[str]) -> None:
    if value == "all":
        return
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise ConfigError(at, f"expected 'all' or a list of states, got {value!r}")
    for j, s in enumerate(value):
        if s not in states:
            raise ConfigError(f"{at}[{j}]", f"unknown state {s!r}; known: "
                              f"{', '.join(sorted(states))}")


def watched(m: MonitorConfig) -> str:
    """The input a monitor is about, for events: telemetry, expectation or counter."""
    if m.telemetry:
        return m.telemetry
    if m.expect is not None:
        return m.expect.telemetry
    return m.counter


def enabled(m: MonitorConfig, state: str) -> bool:
    """Whether ``m`` is evaluated in ``state`` (a parent name covers its phases)."""
    if m.enabled_in == "all":
        return True
    return any(state == s or state.startswith(s + "_") for s in m.enabled_in)


def detection_bound_s(m: MonitorConfig, cycle_s: float) -> float:
    """Worst-case time [s] from the onset of a fault to the trip, with ``cycle_s`` per
    sample, while the monitor is enabled and its ``when`` conditions hold.

    limit: persistence samples. stale: stale_s plus persistence samples. rate, noise: a
    full window (for a rate or spread just above the threshold) plus persistence.
    crosscheck: for_s plus persistence. link: a full window plus persistence.
    """
    n = m.persistence * cycle_s
    if m.kind == "limit":
        return n
    if m.kind == "stale":
        return float(m.stale_s or 0.0) + n
    if m.kind == "crosscheck":
        return float(m.for_s or 0.0) + n
    return float(m.window_s or 0.0) + n

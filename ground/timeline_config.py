"""The limits and setpoints in force for a run, for its timeline's bands and lines.

The run directory names its mission and the file it flew (``run_start``'s ``mission``
and ``mission_path``); the mission YAML is the one given (``thermine plot --mission``),
else that file while it is there and still that mission, else
``configs/missions/<name>.yaml`` (in the working directory, then in the source tree)
when its ``name:`` matches. Its FDIR table (``fdir:``, the shipped
common/dictionary/fdir.yaml by default) plus its ``limits:`` give the limit bands, its
``heater:`` and ``capture:`` the setpoints, the state chart the states each applies in.
Without a mission file the bands are the shipped table's and there is no setpoint line;
:attr:`RunConfig.source` says which, and the picture prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.app import load_fdir, state_names
from flight.channels import ACTUATORS, SENSORS
from flight.config import MissionConfig, load_mission
from flight.fdir.table import SHIPPED_PATH, FdirTable, load_table, resolve_path
from flight.sequencer import leaf_states, load_chart

#: where a mission named in a run is looked for (the working directory's, the source's)
MISSION_DIRS = (Path("configs/missions"),
                Path(__file__).resolve().parents[1] / "configs" / "missions")


@dataclass(frozen=True)
class Limit:
    """An FDIR limit monitor: ``telemetry`` beyond ``above``/``below`` (SI units) trips
    ``monitor`` in the states of ``enabled_in`` ("all", or names; a parent such as
    EXTRACT covers its phases); ``origin``: "FDIR" (the table) or "mission" (its
    ``limits:``)."""

    monitor: str
    telemetry: str
    above: float | None
    below: float | None
    enabled_in: str | tuple[str, ...]
    response: str
    origin: str = "FDIR"

    def enabled(self, state: str) -> bool:
        """Whether the limit is watched in ``state``."""
        if self.enabled_in == "all":
            return True
        return any(state == s or state.startswith(s + "_") for s in self.enabled_in)


@dataclass(frozen=True)
class Setpoint:
    """A controller's target for ``telemetry`` [SI unit] while the state is one of
    ``states``; ``changes``: (mission time [s], new value) from accepted commands."""

    telemetry: str
    label: str
    value: float
    states: frozenset[str]
    changes: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class RunConfig:
    """The limits and setpoints of a run and where they came from (``source``: text
    for the picture)."""

    source: str
    limits: tuple[Limit, ...]
    setpoints: tuple[Setpoint, ...]


def _limits(table: FdirTable) -> tuple[Limit, ...]:
    out = []
    for m in table.monitors:
        if m.kind == "limit" and m.telemetry and (m.above is not None or m.below is not None):
            where = m.enabled_in if m.enabled_in == "all" else tuple(m.enabled_in)
            origin = "mission" if m.doc == "mission limit" else "FDIR"
            out.append(Limit(m.id, m.telemetry, m.above, m.below, where, m.response, origin))
    return tuple(out)


def _states_with(mode: str, value: str) -> frozenset[str]:
    """The leaf states whose modes set ``mode`` to ``value`` (the state chart)."""
    return frozenset(name for name, leaf in leaf_states(load_chart()).items()
                     if str(leaf.get("modes", {}).get(mode)) == value)


def _setpoints(cfg: MissionConfig, events: list[dict[str, Any]]) -> tuple[Setpoint, ...]:
    changes = tuple((float(e["t_s"]), float(e["args"]["setpoint_k"])) for e in events
                    if e.get("event") == "command" and e.get("name") == "SET_HEATER_SETPOINT"
                    and e.get("accepted") and isinstance(e.get("args"), dict)
                    and isinstance(e["args"].get("setpoint_k"), int | float))
    return (Setpoint("heater_temp_k", "plate setpoint", cfg.heater.setpoint_k,
                     _states_with("heater", "ON"), changes),
            Setpoint("trap_temp_k", "trap melt setpoint", cfg.capture.melt_setpoint_k,
                     _states_with("trap_heater", "MELT")))


def _load(path: Path) -> tuple[MissionConfig, FdirTable]:
    timed = {name for name, leaf in leaf_states(load_chart()).items() if leaf.get("on_timeout")}
    cfg = load_mission(path, set(SENSORS), timed, set(DICTIONARY.command_table))
    return cfg, load_fdir(path, cfg)


def _shipped(why: str) -> RunConfig:
    table = load_table(SHIPPED_PATH, set(SENSORS), set(ACTUATORS), state_names())
    return RunConfig(f"limits: shipped FDIR table {_short(SHIPPED_PATH)} ({why}); "
                     "no setpoint line (thermine plot --mission YAML draws them)",
                     _limits(table), ())


def _short(path: Path) -> str:
    """``path`` relative to the working directory or the source tree when inside."""
    p = Path(path).resolve()
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        try:
            return str(p.relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def run_config(mission_name: str | None, events: list[dict[str, Any]],
               mission_path: Path | None = None) -> RunConfig:
    """The limits and setpoints for a run of ``mission_name`` (``events``: its
    events.jsonl, for setpoint commands).

    ``mission_path`` given: that file, whatever its name. Else the file the run flew
    (``run_start``'s ``mission_path``) if it is still there and still that mission, else
    the mission file found by name; none found (or one no longer valid): the shipped
    FDIR table, no setpoints.

    Raises:
        ConfigError: ``mission_path`` (given) or its FDIR table is not valid.
    """
    if mission_path is not None:
        cfg, table = _load(mission_path)
        return _found(mission_path, cfg, table, events)
    if not mission_name:
        return _shipped("the run does not name its mission")
    start = next((e for e in events if e.get("event") == "run_start"), {})
    flown = [Path(str(start["mission_path"]))] if start.get("mission_path") else []
    # the file the run flew (while it is there), then the mission's name in the dirs
    for path in flown + [d / f"{mission_name}.yaml" for d in MISSION_DIRS]:
        if not path.is_file():
            continue
        try:
            cfg, table = _load(path)
        except ConfigError as exc:
            return _shipped(f"{_short(path)} is not valid now: {exc}")
        if cfg.name == mission_name:
            return _found(path, cfg, table, events)
    return _shipped(f"no configs/missions/{mission_name}.yaml")


def _found(path: Path, cfg: MissionConfig, table: FdirTable,
           events: list[dict[str, Any]]) -> RunConfig:
    fdir = resolve_path(path, cfg.fdir)
    where = f"FDIR table {_short(fdir)}" if fdir is not None else "no FDIR table"
    extra = f" + {len(cfg.limits)} mission limits" if cfg.limits else ""
    return RunConfig(f"limits and setpoints: {_short(path)} ({where}{extra}), as the "
                     "file reads now", _limits(table), _setpoints(cfg, events))

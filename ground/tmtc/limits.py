"""The console's limit colours: a value is ``red`` beyond an FDIR limit monitor that
watches it in the current state (common/dictionary/fdir.yaml, or a mission's table and
``limits:``), ``yellow`` outside the dictionary's plausible range (a sensor's
``plausible: [lo, hi]``; switches have none) or without a value (a failed reading),
else ``ok`` (``none`` for text)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.dictionary import DICTIONARY
from flight.app import load_fdir, state_names
from flight.channels import ACTUATORS, SENSORS
from flight.config import load_mission
from flight.fdir.table import SHIPPED_PATH, FdirTable, load_table
from flight.sequencer import leaf_states, load_chart
from ground.tmtc.packets import BOOLEANS

RED, YELLOW, OK, NONE = "red", "yellow", "ok", "none"


@dataclass(frozen=True)
class Limit:
    """One limit monitor's bound on a telemetry value."""

    monitor: str
    above: float | None
    below: float | None
    enabled_in: Any

    def violated(self, value: float, state: str | None) -> str:
        """Why ``value`` breaks this limit in ``state`` ("" when it does not)."""
        if state is not None and self.enabled_in != "all" and not any(
                state == s or state.startswith(s + "_") for s in self.enabled_in):
            return ""  # (as flight.fdir.table.enabled: a parent covers its phases)
        if self.above is not None and value > self.above:
            return f">{self.above:g} {self.monitor}"
        if self.below is not None and value < self.below:
            return f"<{self.below:g} {self.monitor}"
        return ""

    def text(self) -> str:
        """``<=480``, ``>=20 in EXTRACT,TRANSFER``."""
        parts = []
        if self.below is not None:
            parts.append(f">={self.below:g}")
        if self.above is not None:
            parts.append(f"<={self.above:g}")
        where = "" if self.enabled_in == "all" else " in " + ",".join(self.enabled_in)
        return " ".join(parts) + where


class LimitTable:
    """The limits of every telemetry value: :meth:`check` says its colour."""

    def __init__(self, table: FdirTable) -> None:
        self.limits: dict[str, list[Limit]] = {}
        for m in table.monitors:
            if m.kind == "limit" and (m.above is not None or m.below is not None):
                self.limits.setdefault(m.telemetry, []).append(
                    Limit(m.id, m.above, m.below, m.enabled_in))
        self.plausible = {name: (lo, hi) for name, (_u, lo, hi) in DICTIONARY.plausible.items()
                          if name not in BOOLEANS}

    def check(self, name: str, value: Any, state: str | None = None) -> tuple[str, str]:
        """(colour, why) of ``value`` of telemetry ``name`` in ``state``."""
        if value is None:
            return YELLOW, "no value (a failed reading)"
        if isinstance(value, str):
            return NONE, ""
        v = float(value)
        if math.isnan(v):
            return YELLOW, "no value (a failed reading)"
        for lim in self.limits.get(name, ()):
            why = lim.violated(v, state)
            if why:
                return RED, why
        rng = self.plausible.get(name)
        if rng is not None and not rng[0] <= v <= rng[1]:
            return YELLOW, f"outside [{rng[0]:g}, {rng[1]:g}]"
        return OK, ""


    def bounds(self, name: str) -> str:
        """The limits and plausible range of ``name`` as short text ("" if none)."""
        parts = [lim.text() for lim in self.limits.get(name, ())]
        rng = self.plausible.get(name)
        if rng is not None:
            parts.append(f"[{rng[0]:g}, {rng[1]:g}]")
        return " ".join(parts[-1:] + parts[:-1]) if rng is not None else " ".join(parts)


def load_limits(mission: str | Path | None = None) -> LimitTable:
    """The shipped FDIR table's limits, or a mission's (its table and ``limits:``).

    Raises:
        ConfigError: the mission or its FDIR table is not valid.
    """
    if mission is None:
        table = load_table(SHIPPED_PATH, set(SENSORS), set(ACTUATORS), state_names())
        return LimitTable(table)
    timed = {name for name, leaf in leaf_states(load_chart()).items() if leaf.get("on_timeout")}
    cfg = load_mission(mission, set(SENSORS), timed, set(DICTIONARY.command_table))
    return LimitTable(load_fdir(mission, cfg))

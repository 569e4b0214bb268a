"""Safety oracles: invariants checked on the plant's truth, not on what flight saw.

Only a simulated platform has a truth (the ``hal.interfaces.PlantTruth`` capability, not
part of the Platform port flight sees); on real hardware the
oracles have nothing to check. Each invariant is recorded the first time it is broken,
with the time, the value and the limit, and counted every time after.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Invariant:
    name: str
    check: Callable[[Mapping[str, float]], tuple[float, float, bool]]  # value, limit, ok
    doc: str
    #: the truth entries ``check`` reads (default: the one named like the invariant)
    keys: tuple[str, ...] = ()

    def reads(self) -> tuple[str, ...]:
        return self.keys or (self.name,)


def _below(key: str, limit: float) -> Callable[[Mapping[str, float]], tuple[float, float, bool]]:
    return lambda t: (t[key], limit, t[key] <= limit)


def _no_dry_electrolysis(t: Mapping[str, float]) -> tuple[float, float, bool]:
    current = t["stack_current_a"]
    return current, 0.0, not (current > 0.01 and t["reservoir_kg"] <= 0.0)


#: The payload's safety invariants (limits: design maxima, above the FDIR thresholds).
INVARIANTS: tuple[Invariant, ...] = (
    Invariant("sample_max_temp_k", _below("sample_max_temp_k", 520.0),
              "no node of the plate or sample above 520 K (materials)"),
    Invariant("heater_temp_k", _below("heater_temp_k", 520.0), "heater plate below 520 K"),
    Invariant("h2_tank_pressure_pa", _below("h2_tank_pressure_pa", 3.5e6),
              "H2 tank below its 3.5 MPa proof limit"),
    Invariant("o2_tank_pressure_pa", _below("o2_tank_pressure_pa", 3.5e6),
              "O2 tank below its 3.5 MPa proof limit"),
    Invariant("chamber_pressure_pa", _below("chamber_pressure_pa", 2.0e4),
              "chamber below 20 kPa (its seals)"),
    Invariant("no_dry_electrolysis", _no_dry_electrolysis,
              "no stack current with an empty reservoir",
              keys=("stack_current_a", "reservoir_kg")),
)


class Oracles:
    """Check every invariant on each truth sample; keep the first violation of each."""

    def __init__(self, invariants: tuple[Invariant, ...] = INVARIANTS) -> None:
        self.invariants = invariants
        self.violations: dict[str, dict[str, Any]] = {}
        #: every truth entry some invariant reads (ask the platform for these alone)
        self.keys: tuple[str, ...] = tuple(sorted({k for i in invariants for k in i.reads()}))

    def check(self, now_s: float, truth: Mapping[str, float] | None) -> None:
        if truth is None:
            return
        for inv in self.invariants:
            if any(k not in truth for k in inv.reads()):
                continue  # (a truth without that entry: nothing to check)
            value, limit, ok = inv.check(truth)
            if ok:
                continue
            rec = self.violations.get(inv.name)
            if rec is None:
                self.violations[inv.name] = {"invariant": inv.name, "at_s": now_s,
                                             "value": value, "limit": limit, "count": 1}
            else:
                rec["count"] += 1

    def summary(self) -> list[dict[str, Any]]:
        """``violations`` for summary.json: ``[{invariant, at_s, value, limit, count}]``."""
        return list(self.violations.values())

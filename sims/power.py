"""The payload power bus: loads granted in priority order up to the rover's cap."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Grant:
    """What the bus gave each load this step [W], and whether it had to cut any."""

    cryocooler_w: float
    stack_fraction: float
    trap_heater_w: float
    heater_w: float
    total_w: float
    brownout: bool


def allocate(
    cap_w: float, cryocooler_w: float, stack_w: float, trap_heater_w: float, heater_w: float
) -> Grant:
    """Grant loads in priority order (cryocooler, stack, trap heater, heater) up to ``cap_w``.

    The cryocooler is all-or-nothing; the stack keeps a fraction of its current; the
    heaters are resistive and get what is left. ``brownout`` is True when anything was cut.
    """
    left = cap_w
    cut = False
    cryo = cryocooler_w if cryocooler_w <= left else 0.0
    cut |= cryo < cryocooler_w
    left -= cryo
    frac = 1.0 if stack_w <= left else (max(left, 0.0) / stack_w)
    cut |= frac < 1.0
    left -= stack_w * frac
    trap = min(trap_heater_w, max(left, 0.0))
    cut |= trap < trap_heater_w
    left -= trap
    heat = min(heater_w, max(left, 0.0))
    cut |= heat < heater_w
    total = cryo + stack_w * frac + trap + heat
    return Grant(cryo, frac, trap, heat, total, cut)

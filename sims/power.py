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
    return Grant(*allocate_w(cap_w, cryocooler_w, stack_w, trap_heater_w, heater_w))


def allocate_w(cap_w: float, cryocooler_w: float, stack_w: float, trap_heater_w: float,
               heater_w: float) -> tuple[float, float, float, float, float, bool]:
    """:func:`allocate` as a plain tuple in :class:`Grant`'s field order (the plant's
    per-cycle call: no object built)."""
    # (``0.0 if 0.0 > x else x`` is ``max(x, 0.0)`` and ``b if b < a else a`` is
    # ``min(a, b)``, to the last bit, NaN and -0.0 included, without the calls)
    left = cap_w
    cryo = cryocooler_w if cryocooler_w <= left else 0.0
    cut = cryo < cryocooler_w
    left -= cryo
    frac = 1.0 if stack_w <= left else ((0.0 if 0.0 > left else left) / stack_w)
    cut |= frac < 1.0
    left -= stack_w * frac
    room = 0.0 if 0.0 > left else left
    trap = room if room < trap_heater_w else trap_heater_w
    cut |= trap < trap_heater_w
    left -= trap
    room = 0.0 if 0.0 > left else left
    heat = room if room < heater_w else heater_w
    cut |= heat < heater_w
    total = cryo + stack_w * frac + trap + heat
    return cryo, frac, trap, heat, total, cut

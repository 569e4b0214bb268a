"""Electrolysis controller: ramped current setpoint within voltage, pressure and power limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flight.config import ElectrolysisConfig

_MIN_CELL_V = 1.4  # below any operating voltage: used to bound current by power


class ElectrolysisController:
    """Stack current toward ``current_a``.

    READS: stack_voltage_v, h2_tank_pressure_pa, o2_tank_pressure_pa, bus_power_w,
    bus_cap_w. COMMANDS: electrolyzer_current_a [A]. MODES: RUN, OFF. The current
    backs off 10 %/s while the stack voltage is above its limit (and recovers 2 %/s once
    it is 50 mV below), drops to 0 while a
    tank is above its pressure limit, and never asks for more power than the cap leaves.
    """

    READS = ("stack_voltage_v", "h2_tank_pressure_pa", "o2_tank_pressure_pa",
             "bus_power_w", "bus_cap_w")
    COMMANDS = ("electrolyzer_current_a",)
    MODES = ("RUN", "OFF")

    def __init__(self, cfg: ElectrolysisConfig) -> None:
        self.cfg = cfg
        self.run = False
        self.current_a = 0.0
        self.derate = 1.0

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"electrolysis mode must be one of {self.MODES}, got {mode!r}")
        self.run = mode == "RUN"
        if not self.run:
            self.current_a = 0.0
            self.derate = 1.0

    def update(self, r: Mapping[str, Any], dt_s: float, out: dict[str, Any],
               budget_w: float | None = None) -> None:
        """Write this cycle's stack current into ``out``, drawing at most ``budget_w``
        [W] (the power budget's share; None: the power monitor's cap less the rest of the
        bus, less 1 W)."""
        c = self.cfg
        h2_pa, o2_pa = r["h2_tank_pressure_pa"], r["o2_tank_pressure_pa"]
        tanks_ok = (h2_pa is not None and o2_pa is not None
                    and h2_pa < c.max_tank_pressure_pa and o2_pa < c.max_tank_pressure_pa)
        if not self.run or not tanks_ok:  # an unknown (None, NaN) tank pressure stops it too
            self.current_a = 0.0
            out["electrolyzer_current_a"] = 0.0
            return
        volts, bus_w, cap_w = r["stack_voltage_v"], r["bus_power_w"], r["bus_cap_w"]
        if volts is None or bus_w is None or cap_w is None or volts != volts:
            self.current_a = 0.0  # blind: stop producing until the readings come back
            out["electrolyzer_current_a"] = 0.0
            return
        if volts > c.max_stack_voltage_v:
            self.derate = max(0.1, self.derate - 0.1 * dt_s)
        elif volts < c.max_stack_voltage_v - 0.05:  # recover slowly once well below the limit
            self.derate = min(1.0, self.derate + 0.02 * dt_s)
        if budget_w is None:
            budget_w = cap_w - max(0.0, bus_w - self.current_a * volts) - 1.0
        power_limit_a = max(0.0, budget_w) / max(volts, _MIN_CELL_V)
        target = min(c.current_a * self.derate, power_limit_a)
        step = c.ramp_a_per_s * dt_s
        self.current_a = min(target, self.current_a + step) if target > self.current_a else target
        out["electrolyzer_current_a"] = self.current_a

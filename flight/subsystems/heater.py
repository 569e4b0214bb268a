"""Heater controller: PI on the plate temperature, inside the power cap, with a cut-off."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flight.config import HeaterConfig


class HeaterController:
    """Closed loop on ``heater_temp_k`` to ``setpoint_k``.

    READS: heater_temp_k, bus_power_w, bus_cap_w. COMMANDS: heater_power_w [W].
    MODES: ON (regulate), OFF (0 W). The over-temperature cut-off latches at
    ``cutoff_k`` and re-arms below ``rearm_k``, whatever the mode.
    """

    READS = ("heater_temp_k", "bus_power_w", "bus_cap_w")
    COMMANDS = ("heater_power_w",)
    MODES = ("ON", "OFF")

    def __init__(self, cfg: HeaterConfig) -> None:
        self.cfg = cfg
        self.setpoint_k = cfg.setpoint_k
        self.on = False
        self.cut_off = False
        self.integral_k_s = 0.0

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"heater mode must be one of {self.MODES}, got {mode!r}")
        self.on = mode == "ON"
        if not self.on:
            self.integral_k_s = 0.0

    def set_setpoint_k(self, setpoint_k: float) -> None:
        """Change the setpoint [K]; must stay below the cut-off.

        Raises:
            ValueError: setpoint not below ``rearm_k``.
        """
        if not 0.0 < setpoint_k < self.cfg.rearm_k:
            raise ValueError(f"setpoint_k {setpoint_k} must be in (0, {self.cfg.rearm_k}) K")
        self.setpoint_k = setpoint_k

    def update(self, r: Mapping[str, Any], dt_s: float, available_w: float) -> float:
        """Heater power for this cycle [W], never above ``available_w`` less the margin."""
        temp_k = r["heater_temp_k"]
        if temp_k is None or temp_k != temp_k:  # no valid reading: do not heat blind
            return 0.0
        if temp_k >= self.cfg.cutoff_k:
            self.cut_off = True
        elif temp_k < self.cfg.rearm_k:
            self.cut_off = False
        if not self.on or self.cut_off:
            return 0.0
        c = self.cfg
        # (conditional expressions are min() and max() to the bit, without the calls:
        # max(0.0, x) is ``x if x > 0.0 else 0.0``, min(a, b) is ``b if b < a else a``)
        room_w = available_w - c.power_margin_w
        limit_w = room_w if room_w < c.max_power_w else c.max_power_w
        limit_w = limit_w if limit_w > 0.0 else 0.0
        err_k = self.setpoint_k - temp_k
        power_w = c.kp_w_per_k * err_k + c.ki_w_per_k_s * self.integral_k_s
        # conditional integration: no wind-up while saturated in the error's direction
        if not ((power_w >= limit_w and err_k > 0) or (power_w <= 0.0 and err_k < 0)):
            self.integral_k_s += err_k * dt_s
        power_w = 0.0 if 0.0 > power_w else power_w  # max(power_w, 0.0)
        return limit_w if limit_w < power_w else power_w

"""Subsystem controllers: each turns readings and its mode into actuator commands.

Each controller declares in one place what it reads (``READS``), what it commands
(``COMMANDS``) and its modes (``MODES``); the state chart sets the modes on entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flight.channels import SAFE_COMMANDS
from flight.config import MissionConfig
from flight.subsystems.capture import CaptureController
from flight.subsystems.electrolysis import ElectrolysisController
from flight.subsystems.heater import HeaterController


class Subsystems:
    """The three controllers, updated in a fixed order every cycle."""

    def __init__(self, cfg: MissionConfig) -> None:
        self.heater = HeaterController(cfg.heater)
        self.capture = CaptureController(cfg.capture)
        self.electrolysis = ElectrolysisController(cfg.electrolysis)
        self.outputs: dict[str, Any] = dict(SAFE_COMMANDS)

    def apply_modes(self, modes: Mapping[str, str]) -> None:
        """Set every controller's mode from a state's ``modes`` table."""
        self.heater.set_mode(modes["heater"])
        self.capture.set_modes(modes["valve"], modes["cryocooler"], modes["trap_heater"])
        self.electrolysis.set_mode(modes["electrolysis"])

    def update(self, r: Mapping[str, Any], dt_s: float) -> dict[str, Any]:
        """Compute the actuator commands for this cycle from readings ``r``."""
        out = self.outputs
        # what the rover allows us, less what every other load is drawing right now; an
        # unknown bus reading leaves the heater nothing
        bus_w, cap_w = r["bus_power_w"], r["bus_cap_w"]
        available_w = 0.0
        if bus_w is not None and cap_w is not None:
            others_w = bus_w - out["heater_power_w"]
            available_w = cap_w - (others_w if others_w > 0.0 else 0.0)  # max(0.0, others)
        self.capture.update(r, out)
        self.electrolysis.update(r, dt_s, out)
        out["heater_power_w"] = self.heater.update(r, dt_s, available_w)
        # each heater's load switch is closed only in the modes that use it, so a driver
        # failed on is harmless anywhere else (and SAFE opens it)
        out["heater_enabled"] = self.heater.on
        out["trap_heater_enabled"] = self.capture.melt
        return out

"""Subsystem controllers: each turns readings and its mode into actuator commands.

Each controller declares in one place what it reads (``READS``), what it commands
(``COMMANDS``) and its modes (``MODES``); the state chart sets the modes on entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from flight.channels import SAFE_COMMANDS
from flight.config import MissionConfig
from flight.subsystems.capture import CaptureController
from flight.subsystems.electrolysis import ElectrolysisController
from flight.subsystems.heater import HeaterController


class Subsystems:
    """The three controllers, updated in a fixed order every cycle, inside the power cap.

    The cap in force is the lower of the power monitor's ``bus_cap_w`` (the rover's
    switch) and the rover's allocation, ``SET_POWER_CAP`` (:meth:`set_power_cap`); every
    load is held inside it from the cycle the command runs in: the cryocooler (shed when
    the cap cannot carry its draw), the electrolyzer, the melt heater and the plate
    heater each get at most the cap less what the other loads drew last cycle, less a
    margin. ``emit`` records a shed load (``power_shed``).
    """

    def __init__(self, cfg: MissionConfig,
                 emit: Callable[..., None] = lambda event, **fields: None) -> None:
        self.heater = HeaterController(cfg.heater)
        self.capture = CaptureController(cfg.capture)
        self.electrolysis = ElectrolysisController(cfg.electrolysis)
        self.outputs: dict[str, Any] = dict(SAFE_COMMANDS)
        self.emit = emit
        #: the rover's allocation [W] (SET_POWER_CAP); infinite until one is given
        self.allocation_w = math.inf
        #: the cap in force at the last update [W] (None: the power monitor is unread)
        self.cap_w: float | None = None
        self._margin_w = cfg.heater.power_margin_w
        self._cryo_w = cfg.payload.cryocooler_power_w
        self._cryo_shed = False

    def set_power_cap(self, cap_w: float) -> None:
        """The rover's power allocation to the payload [W], honoured from this cycle."""
        self.allocation_w = cap_w

    def cap_in_force(self, cap_reading_w: float | None) -> float | None:
        """The lower of the power monitor's cap and the allocation [W]; None if the
        monitor's reading is missing (every budget is then empty)."""
        if cap_reading_w is None or cap_reading_w != cap_reading_w:
            return None
        a = self.allocation_w
        return a if a < cap_reading_w else cap_reading_w

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
        bus_w = r["bus_power_w"]
        cap_w = self.cap_w = self.cap_in_force(r["bus_cap_w"])
        trap_last_w = out["trap_heater_power_w"] if out["trap_heater_enabled"] else 0.0
        self.capture.update(r, out)
        if out["cryocooler_on"]:
            self._check_cryocooler(cap_w, out)
        if out["trap_heater_power_w"] > 0.0:  # the melt heater: the cap less the others
            room_w = 0.0
            if bus_w is not None and cap_w is not None:
                others_w = bus_w - trap_last_w
                room_w = cap_w - (others_w if others_w > 0.0 else 0.0) - self._margin_w
            if room_w < out["trap_heater_power_w"]:
                out["trap_heater_power_w"] = room_w if room_w > 0.0 else 0.0
        self.electrolysis.update(r, dt_s, out, cap_w)
        available_w = 0.0
        if bus_w is not None and cap_w is not None:
            others_w = bus_w - out["heater_power_w"]
            available_w = cap_w - (others_w if others_w > 0.0 else 0.0)  # max(0.0, others)
        out["heater_power_w"] = self.heater.update(r, dt_s, available_w)
        # each heater's load switch is closed only in the modes that use it, so a driver
        # failed on is harmless anywhere else (and SAFE opens it)
        out["heater_enabled"] = self.heater.on
        out["trap_heater_enabled"] = self.capture.melt
        return out

    def _check_cryocooler(self, cap_w: float | None, out: dict[str, Any]) -> None:
        """Shed the cryocooler while the cap cannot carry its draw (and say so once); an
        unknown cap leaves it on (warming the trap would lose the catch)."""
        fits = cap_w is None or cap_w - self._margin_w >= self._cryo_w
        if fits:
            self._cryo_shed = False
            return
        out["cryocooler_on"] = False
        if not self._cryo_shed:
            self._cryo_shed = True
            self.emit("power_shed", load="cryocooler", cap_w=cap_w,
                      need_w=self._cryo_w + self._margin_w)

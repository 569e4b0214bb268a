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
        self._trap_ready_k = cfg.guards.trap_ready_k
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
        """Compute the actuator commands for this cycle from readings ``r``.

        The power budget: the cap in force, less a margin, less the rest of the bus (what
        the power monitor saw beyond the loads flight commanded last cycle: avionics), is
        granted in the plant's order of priority to what this cycle commands: the
        cryocooler (all or nothing: shed when it does not fit), the stack, the melt
        heater, then the plate heater. An unknown bus or cap reading leaves the heaters
        and the stack nothing.
        """
        out = self.outputs
        bus_w = r["bus_power_w"]
        volts = r["stack_voltage_v"]
        cap_w = r["bus_cap_w"]  # the cap in force: cap_in_force(), inlined
        if cap_w is not None and cap_w == cap_w:
            a = self.allocation_w
            if a < cap_w:
                cap_w = a
        else:
            cap_w = None
        self.cap_w = cap_w
        left_w = 0.0
        if bus_w is not None and cap_w is not None:
            last_w = out["heater_power_w"] if out["heater_enabled"] else 0.0
            if out["trap_heater_enabled"]:
                last_w += out["trap_heater_power_w"]
            if out["cryocooler_on"]:
                last_w += self._cryo_w
            if volts is not None and volts == volts:
                last_w += out["electrolyzer_current_a"] * volts
            rest_w = bus_w - last_w
            left_w = cap_w - self._margin_w - (rest_w if rest_w > 0.0 else 0.0)
        capture, heater = self.capture, self.heater
        capture.update(r, out)
        if out["cryocooler_on"]:
            if cap_w is None or left_w >= self._cryo_w:  # (unknown cap: keep the catch)
                left_w -= self._cryo_w
                self._cryo_shed = False
            else:
                self._shed_cryocooler(cap_w, out)
        if self.electrolysis.run:
            self.electrolysis.update(r, dt_s, out, left_w if left_w > 0.0 else 0.0)
            amps = out["electrolyzer_current_a"]
            if amps > 0.0 and volts is not None:
                left_w -= amps * volts
        else:  # (the controller's OFF branch, without the call)
            self.electrolysis.current_a = 0.0
            out["electrolyzer_current_a"] = 0.0
        trap_w = out["trap_heater_power_w"]
        if trap_w > 0.0:  # the melt heater: what is left
            if left_w < trap_w:
                out["trap_heater_power_w"] = trap_w = left_w if left_w > 0.0 else 0.0
            left_w -= trap_w
        if heater.on:
            if self._cryo_shed or (not capture.capture and self._trap_warm(r)):
                left_w = 0.0  # hold the plate heater until the trap can catch the vapour
            # (the heater keeps its own margin under what it is given: give it back)
            out["heater_power_w"] = heater.update(
                r, dt_s, (left_w if left_w > 0.0 else 0.0) + self._margin_w)
        else:
            out["heater_power_w"] = heater.update(r, dt_s, 0.0)
        # each heater's load switch is closed only in the modes that use it, so a driver
        # failed on is harmless anywhere else (and SAFE opens it)
        out["heater_enabled"] = heater.on
        out["trap_heater_enabled"] = capture.melt
        return out

    def _trap_warm(self, r: Mapping[str, Any]) -> bool:
        """Before a scoop's capture (valve mode CLOSED, heater on: EXTRACT_HEAT): the trap
        is not yet cold enough to catch vapour (unknown counts as warm). The trap of the
        last scoop is still ~280 K from its melt; heating a fresh scoop before the
        cryocooler has brought it down would only fill the closed chamber."""
        trap_k = r["trap_temp_k"]
        return trap_k is None or not trap_k <= self._trap_ready_k

    def _shed_cryocooler(self, cap_w: float, out: dict[str, Any]) -> None:
        """The cap cannot carry the cryocooler's draw: off (and say so once)."""
        out["cryocooler_on"] = False
        if not self._cryo_shed:
            self._cryo_shed = True
            self.emit("power_shed", load="cryocooler", cap_w=cap_w,
                      need_w=self._cryo_w + self._margin_w)

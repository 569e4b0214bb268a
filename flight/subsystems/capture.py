"""Capture controller: the valve to the cold trap, the cryocooler and the melt heater."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flight.config import CaptureConfig


class CaptureController:
    """Valve by chamber pressure (with hysteresis) while the trap is cold enough.

    READS: chamber_pressure_pa, trap_temp_k. COMMANDS: valve_open, cryocooler_on,
    trap_heater_power_w [W]. MODES: valve CAPTURE|CLOSED, cryocooler ON|OFF,
    trap_heater MELT|OFF.
    """

    READS = ("chamber_pressure_pa", "trap_temp_k")
    COMMANDS = ("valve_open", "cryocooler_on", "trap_heater_power_w")
    MODES = {"valve": ("CAPTURE", "CLOSED"), "cryocooler": ("ON", "OFF"),
             "trap_heater": ("MELT", "OFF")}

    def __init__(self, cfg: CaptureConfig) -> None:
        self.cfg = cfg
        self.capture = False
        self.cryo_on = False
        self.melt = False
        self.valve_open = False

    def set_modes(self, valve: str, cryocooler: str, trap_heater: str) -> None:
        for name, mode in (("valve", valve), ("cryocooler", cryocooler),
                           ("trap_heater", trap_heater)):
            if mode not in self.MODES[name]:
                raise ValueError(f"{name} mode must be one of {self.MODES[name]}, got {mode!r}")
        self.capture = valve == "CAPTURE"
        self.cryo_on = cryocooler == "ON"
        self.melt = trap_heater == "MELT"
        if not self.capture:
            self.valve_open = False

    def update(self, r: Mapping[str, Any], out: dict[str, Any]) -> None:
        """Write this cycle's valve, cryocooler and trap-heater commands into ``out``."""
        p_pa, trap_k = r["chamber_pressure_pa"], r["trap_temp_k"]
        c = self.cfg
        trap_known = trap_k is not None and trap_k == trap_k
        if self.capture:
            if not trap_known or trap_k > c.trap_max_k:
                self.valve_open = False  # never open onto a trap that may be warm
            elif p_pa is None or p_pa != p_pa:
                pass  # no pressure reading: hold the valve where it is
            elif p_pa < c.valve_close_pa:
                self.valve_open = False
            elif p_pa > c.valve_open_pa:
                self.valve_open = True
        out["valve_open"] = self.valve_open
        out["cryocooler_on"] = self.cryo_on
        melt = self.melt and trap_known and trap_k < c.melt_setpoint_k
        out["trap_heater_power_w"] = c.melt_power_w if melt else 0.0

"""SIL: the mission's ``payload:`` constants (what flight's accounting and power budget
believe, :class:`flight.config.PayloadConfig`) must be the simulated payload's (the
hardware YAML's ``plant:``), or flight's own figures would disagree with the plant for a
reason that is not theirs."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from common.errors import ConfigError
from common.schema import load
from flight.config import PayloadConfig
from sims.params import PlantParams

#: the sim's design crossover current density (sims.electrolysis.faradaic_efficiency)
CROSSOVER_A_CM2 = 0.005

#: payload constant -> how the plant's parameters give it
PLANT_VALUE: dict[str, Callable[[PlantParams], float]] = {
    "cryocooler_power_w": lambda p: p.trap.cryo_input_power_w,
    "trap_heater_max_power_w": lambda p: p.trap.heater_max_power_w,
    "stack_cells": lambda p: p.electrolyzer.cells,
    "crossover_current_a": lambda p: CROSSOVER_A_CM2 * p.electrolyzer.active_area_cm2,
    "h2_tank_volume_m3": lambda p: p.electrolyzer.h2_tank_volume_m3,
    "o2_tank_volume_m3": lambda p: p.electrolyzer.o2_tank_volume_m3,
    "tank_temp_k": lambda p: p.electrolyzer.tank_temp_k,
    "valve_diameter_m": lambda p: p.chamber.valve_diameter_m,
    "chamber_gas_temp_k": lambda p: p.chamber.wall_temp_k,
}


def check_payload(payload: PayloadConfig, plant_cfg: Mapping[str, Any], mission: str,
                  hardware: str) -> None:
    """Raise if a ``payload:`` constant differs from the simulated plant's.

    Raises:
        ConfigError: naming the mission key, both values and the hardware key to match.
    """
    plant = load(PlantParams, dict(plant_cfg), f"{hardware}: plant")
    for key, of in PLANT_VALUE.items():
        mine, theirs = float(getattr(payload, key)), float(of(plant))
        if not math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-12):
            raise ConfigError(f"{mission}: payload.{key}", f"{mine:g} here, but the simulated "
                              f"payload of {hardware} has {theirs:g}: flight's own accounting "
                              "would disagree with the plant it flies on; make them equal")

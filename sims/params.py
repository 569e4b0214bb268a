"""Parameters of the simulated plant, as dataclasses with units and valid ranges.

Every field is a :func:`common.schema.param` with ``min``/``max`` (inclusive) and a
one-line ``doc``, so the one schema mechanism validates a YAML section against it and
names the key that is wrong. Defaults describe the nominal payload; values marked "typical" are
engineering choices, not published fits (see docs/physics.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from common.schema import param
from sims.icy_texture import TEXTURES


@dataclass(frozen=True)
class SampleParams:
    """The regolith sample the rover scooped into the extraction chamber."""

    mass_kg: float = param(0.15, 1e-4, 10.0, "dry regolith mass")
    ice_mass_fraction: float = param(0.056, 0.0, 0.5, "ice / (ice + regolith); LCROSS 5.6 wt%")
    initial_temp_k: float = param(40.0, 20.0, 300.0, "uniform start temperature (PSR)")
    diameter_m: float = param(0.11, 0.01, 1.0, "crucible inner diameter")
    bulk_density_kg_m3: float = param(1500.0, 800.0, 2500.0, "dry bulk density in the crucible")
    layers: int = param(30, 3, 400, "number of 1-D conduction layers")
    grain_diameter_m: float = param(60e-6, 1e-6, 2e-3, "median grain diameter: sets the pore "
                                    "radius and the contact and radiative conductivity "
                                    "(Hayne's profile at 60 um)")
    ice_texture: str = param("granular", doc="how the ice sits among the grains "
                             "(docs/physics.md): granular, pore_filling or cemented",
                             choices=TEXTURES)
    porosity: float = param(0.5, 0.05, 0.95, "pore volume fraction")
    tortuosity: float = param(2.0, 1.0, 10.0, "pore path tortuosity (typical)")
    conductivity_depth_m: float = param(0.5, 0.0, 10.0, "Hayne Kc(z) depth the sample compacts to")
    conductivity_scale: float = param(1.0, 0.01, 100.0, "multiplier on the bulk conductivity "
                                   "(dispersions: Hayne's K is uncertain by a factor of a few)")
    bottom_open_fraction: float = param(0.0, 0.0, 1.0, "fraction of the crucible's floor open "
                                        "to vacuum (0: sealed; 1: an open borehole floor)")


@dataclass(frozen=True)
class HeaterParams:
    """Heated plate lying on the sample surface (perforated, vapour passes through)."""

    max_power_w: float = param(30.0, 0.0, 1000.0, "element rating")
    plate_heat_capacity_j_k: float = param(45.0, 0.1, 1e5, "50 g aluminium plate (typical)")
    contact_conductance_w_k: float = param(0.5, 1e-4, 1e3, "plate-to-sample contact (typical)")
    emissivity: float = param(0.05, 0.0, 1.0, "effective emissivity of the plate's back (MLI)")
    gap_emissivity: float = param(0.86, 0.0, 1.0, "plate (0.9) to regolith (0.95) across the gap")


@dataclass(frozen=True)
class ChamberParams:
    """Sealed extraction chamber, its valve to the cold trap and its leak to vacuum."""

    volume_m3: float = param(1.0e-3, 1e-6, 1.0, "free gas volume")
    wall_temp_k: float = param(220.0, 100.0, 350.0, "walls held above frost point (typical)")
    valve_diameter_m: float = param(0.01, 1e-4, 0.2, "orifice to the cold trap")
    leak_conductance_m3_s: float = param(2.0e-6, 0.0, 1.0, "leak to vacuum (typical)")
    relief_pressure_pa: float = param(2000.0, 100.0, 1e6, "relief valve cracks above this")
    relief_conductance_m3_s: float = param(1.0e-3, 0.0, 1.0, "relief valve open, to vacuum")


@dataclass(frozen=True)
class TrapParams:
    """Cold trap, its cryocooler and its melt heater."""

    heat_capacity_j_k: float = param(100.0, 0.1, 1e5, "110 g aluminium finger (typical)")
    initial_temp_k: float = param(120.0, 20.0, 300.0, "start temperature")
    parasitic_conductance_w_k: float = param(0.004, 0.0, 10.0, "heat leak from the walls")
    cryo_lift_w_at_ref: float = param(2.0, 0.0, 100.0, "cryocooler lift at the reference temp")
    cryo_ref_temp_k: float = param(100.0, 30.0, 300.0, "reference temperature of the lift")
    cryo_floor_temp_k: float = param(40.0, 4.0, 200.0, "temperature at which the lift is zero")
    cryo_input_power_w: float = param(12.0, 0.0, 500.0, "electrical draw when on")
    heater_max_power_w: float = param(15.0, 0.0, 500.0, "melt heater rating")


@dataclass(frozen=True)
class ElectrolyzerParams:
    """PEM stack and its product tanks."""

    cells: int = param(1, 1, 100, "cells in series")
    active_area_cm2: float = param(10.0, 0.1, 1e4, "active area per cell")
    stack_temp_k: float = param(333.15, 273.15, 373.15, "stack held at 60 C")
    max_current_a: float = param(20.0, 0.0, 1000.0, "supply rating")
    # sized for five nominal scoops below the 2 MPa stop: ~4.9 g H2 and ~39 g O2 reach
    # ~1.2 MPa at 293 K (docs/operations.md)
    h2_tank_volume_m3: float = param(5.0e-3, 1e-6, 1.0, "hydrogen tank")
    o2_tank_volume_m3: float = param(2.5e-3, 1e-6, 1.0, "oxygen tank")
    tank_temp_k: float = param(293.15, 100.0, 400.0, "tank gas temperature")
    initial_tank_pressure_pa: float = param(1.0e3, 0.0, 1e7, "residual gas in each tank")


@dataclass(frozen=True)
class PowerParams:
    """The rover's power allocation to the payload."""

    bus_cap_w: float = param(45.0, 0.0, 5000.0, "rover's cap on the payload's draw")


@dataclass(frozen=True)
class SolverParams:
    """Numerical settings. The thermal network and the chamber vapour (time constants of
    minutes) are integrated at ``thermal_step_s``; the trap, stack, tanks and bus at every
    call. A step that is shorter than ``thermal_step_s`` accumulates (heater energy is
    summed exactly) and a valve change closes the interval early. While the sample is
    inert (no ice, takes no vapour: conduction alone) and unheated, it relaxes over hours
    and is stepped at ``inert_step_s`` instead (0: at ``thermal_step_s``); the heater
    coming on (or a valve change) closes that interval at once."""

    thermal_step_s: float = param(1.0, 0.0, 60.0, "thermal/vapour step; 0 = every call")
    inert_step_s: float = param(5.0, 0.0, 60.0, "step of an inert, unheated sample; 0 = thermal")
    refresh_s: float = param(10.0, 0.0, 600.0, "re-evaluate conductivities and capacities")


@dataclass(frozen=True)
class PlantParams:
    """All parameters of the coupled plant."""

    sample: SampleParams = field(default_factory=SampleParams)
    heater: HeaterParams = field(default_factory=HeaterParams)
    chamber: ChamberParams = field(default_factory=ChamberParams)
    trap: TrapParams = field(default_factory=TrapParams)
    electrolyzer: ElectrolyzerParams = field(default_factory=ElectrolyzerParams)
    power: PowerParams = field(default_factory=PowerParams)
    solver: SolverParams = field(default_factory=SolverParams)

"""The plant's books: where the water is, what each load drew from the bus, the samples
the rover has emptied out of the crucible, and the table of plant truth.

Several scoops fly per mission (:meth:`sims.plant.Plant.load_sample`). A scoop's own
accounts live on its :class:`sims.sample.Sample`; when the rover empties the crucible
they are closed into :class:`SpentSamples`, and every cumulative truth entry is the spent
samples' sum plus the sample in the crucible now. Water: the ice the old scoop still
held leaves in the ``spent_ice_kg`` compartment. Energy: the heat the old scoop (and the
plate, which starts the next scoop at its temperature) still stored leaves with it
(``spent_heat_j``), so each scoop's balance closes on its own and the plant's error is
their sum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sims.plant import Plant
    from sims.sample import Sample


class SpentSamples:
    """The closed accounts of the samples emptied out of the crucible, summed (SI)."""

    __slots__ = ("count", "ice_kg", "heat_j", "heater_j", "radiated_j", "latent_j",
                 "error_j", "floor_j", "sublimated_kg")

    def __init__(self) -> None:
        self.count = 0  # samples emptied out
        self.ice_kg = 0.0  # ice they still held [kg] (a compartment of the water ledger)
        self.heat_j = 0.0  # heat they (sample and plate) still stored above their start [J]
        self.heater_j = 0.0  # heater energy into them [J]
        self.radiated_j = 0.0  # radiated off the plate's back while they were in [J]
        self.latent_j = 0.0  # latent heat of what sublimated from them [J]
        self.error_j = 0.0  # their energy balance errors [J]
        self.floor_j = 0.0  # their thermodynamic floors [J]
        self.sublimated_kg = 0.0  # gross [kg]

    def retire(self, s: Sample) -> None:
        """Close the accounts of ``s``, now emptied out (with the ice and heat it holds)."""
        self.count += 1
        self.ice_kg += s.ice_total_kg()
        self.heat_j += s.stored_heat_j()
        self.heater_j += s.heater_energy_j
        self.radiated_j += s.radiated_j
        self.latent_j += s.latent_j
        # heater - (stored + latent + sensible carried off + radiated): the stored heat
        # left with the sample, so its balance closes as it stood
        self.error_j += s.energy_balance_error_j()
        self.floor_j += s.energy_floor_j()
        self.sublimated_kg += s.sublimated_kg


def heater_energy_j(p: Plant) -> float:
    """Energy the sample heater put into the plate over the mission [J] (closed thermal
    steps; the interval still accumulating is not in it)."""
    return p.spent.heater_j + p.sample.heater_energy_j


def bus_energy_j(p: Plant) -> float:
    """Energy the bus delivered over the mission [J]: the integral of ``bus_power_w``,
    as cryocooler + trap heater + sample heater + stack (each as granted)."""
    return (p.cryocooler_energy_j + p.trap_heater_energy_j + heater_energy_j(p)
            + p._slow_heater_j + p.stack.energy_j)


#: Where the water is (:meth:`sims.plant.Plant.water_ledger_kg`) [kg].
LEDGER: dict[str, Callable[[Plant], float]] = {
    "sample_ice_kg": lambda p: p.sample.ice_total_kg(),
    "spent_ice_kg": lambda p: p.spent.ice_kg,
    "chamber_vapour_kg": lambda p: p.vapour_kg,
    "lost_kg": lambda p: p.lost_kg,
    "trap_ice_kg": lambda p: p.trap.ice_kg,
    "reservoir_kg": lambda p: p.trap.reservoir_kg,
    "electrolyzed_kg": lambda p: p.stack.water_split_kg,
}

#: Every entry of :meth:`sims.plant.Plant.truth`, and how it is read off the plant (SI
#: units). Energies and masses moved are cumulative over the mission (every sample).
TRUTH: dict[str, Callable[[Plant], float]] = {
    "time_s": lambda p: p.clock.now_s(),
    "heater_temp_k": lambda p: p.sample.plate_temp_k,
    "sample_top_temp_k": lambda p: p.sample.top_temp_k,
    "sample_bottom_temp_k": lambda p: p.sample.bottom_temp_k,
    "chamber_pressure_pa": lambda p: p.chamber_pressure_pa(),
    "trap_temp_k": lambda p: p.trap.temp_k,
    "reservoir_mass_kg": lambda p: p.trap.reservoir_kg,
    "stack_voltage_v": lambda p: p.stack.voltage_v,
    "stack_current_a": lambda p: p.stack.current_a,
    "h2_tank_pressure_pa": lambda p: p.stack.h2_pressure_pa(),
    "o2_tank_pressure_pa": lambda p: p.stack.o2_pressure_pa(),
    "bus_power_w": lambda p: p.bus_power_w,
    "bus_cap_w": lambda p: p.bus_cap_w(),
    "heater_power_w": lambda p: p.heater_power_w,
    "heater_delivered_w": lambda p: p.heater_power_w,
    "brownout": lambda p: float(p.brownout),
    **LEDGER,
    "samples_loaded": lambda p: float(p.spent.count + 1),
    "h2_kg": lambda p: p.stack.h2_kg,
    "o2_kg": lambda p: p.stack.o2_kg,
    "heater_energy_j": heater_energy_j,
    "cryocooler_energy_j": lambda p: p.cryocooler_energy_j,
    "trap_heater_energy_j": lambda p: p.trap_heater_energy_j,
    "bus_energy_j": bus_energy_j,
    "radiated_j": lambda p: p.spent.radiated_j + p.sample.radiated_j,
    "latent_j": lambda p: p.spent.latent_j + p.sample.latent_j,
    "spent_heat_j": lambda p: p.spent.heat_j,
    "energy_balance_error_j": lambda p: p.spent.error_j + p.sample.energy_balance_error_j(),
    "energy_floor_j": lambda p: p.spent.floor_j + p.sample.energy_floor_j(),
    "sublimated_gross_kg": lambda p: p.spent.sublimated_kg + p.sample.sublimated_kg,
    "electrolysis_energy_j": lambda p: p.stack.energy_j,
    "electrolysis_charge_c": lambda p: p.stack.charge_c,
    "h2_leaked_kg": lambda p: p.stack.h2_leaked_kg,
    "valve_open_actual": lambda p: float(p.valve_open_actual),
    "sample_max_temp_k": lambda p: float(p.sample.temp_k.max()),
}

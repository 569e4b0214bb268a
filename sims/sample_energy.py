"""The sample's energy ledger: what the heater put in, where it went, and the floor.

A mixin of :class:`sims.sample.Sample`, which keeps the accounts as it steps
(``heater_energy_j``, ``radiated_j``, ``latent_j``, ``ice_sensible_out_j``,
``sublimated_kg`` and ``sublimated_temp_kg_k``); here they are closed against the heat
stored, computed from the exact integrals of the heat-capacity fits, not from the solver.
See docs/physics.md (energy conservation, the thermodynamic floor).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sims import ice, regolith

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from sims.params import HeaterParams, SampleParams


class EnergyLedger:
    """Energy accounts of the heated sample [J] (SI units throughout)."""

    # (set by Sample)
    p: SampleParams
    h: HeaterParams
    temp_k: NDArray[np.float64]
    regolith_kg: NDArray[np.float64]
    ice_kg: NDArray[np.float64]
    t0_k: float
    _t0_arr: NDArray[np.float64]
    _h_reg0_j_kg: NDArray[np.float64]
    ice_initial_kg: float
    heater_energy_j: float
    carried_in_j: float
    radiated_j: float
    latent_j: float
    ice_sensible_out_j: float
    sublimated_kg: float
    sublimated_temp_kg_k: float

    def stored_heat_j(self) -> float:
        """Sensible heat now in the plate, regolith and ice above the start temperature [J],
        from the exact integrals of the heat-capacity fits (not from the solver)."""
        t = self.temp_k[1:]
        t0 = self._t0_arr  # (the unchecked kernels of the sensible_heat_j_kg functions)
        reg = float(self.regolith_kg @ (regolith.enthalpy_array_j_kg(t) - self._h_reg0_j_kg))
        ice_j = float(self.ice_kg @ ice.ice_sensible_heat_array_j_kg(t0, t))
        return reg + ice_j + self.h.plate_heat_capacity_j_k * (self.temp_k[0] - self.t0_k)

    def energy_balance_error_j(self) -> float:
        """Heater energy in (and the plate's heat above the start temperature when the
        scoop came in: a warm plate kept from the last scoop) minus (stored + latent +
        sensible carried off + radiated) [J]."""
        return self.heater_energy_j + self.carried_in_j - (self.stored_heat_j() + self.latent_j
                                       + self.ice_sensible_out_j + self.radiated_j)

    def net_out_kg(self) -> float:
        """Water that has left the sample so far, net [kg]: the ice it came with less the
        ice it holds (captured or lost; ice that sublimated and re-froze inside the
        sample, counted again in the gross ``sublimated_kg``, is not in it)."""
        return self.ice_initial_kg - float(self.ice_kg.sum())

    def energy_floor_j(self) -> float:
        """Thermodynamic floor of the water that has left the sample so far
        (:meth:`net_out_kg`) [J]: that water and the regolith that held it, warmed from the
        start temperature to the mean sublimation temperature, plus the latent heat
        there. Nothing else (losses, re-sublimation inside the sample) is counted."""
        net_kg = self.net_out_kg()
        if net_kg <= 0.0 or self.sublimated_kg <= 0.0:
            return 0.0
        t_sub = max(self.sublimated_temp_kg_k / self.sublimated_kg, self.t0_k)
        share = min(1.0, net_kg / self.ice_initial_kg)
        reg = share * self.p.mass_kg * float(regolith.sensible_heat_j_kg(self.t0_k, t_sub))
        per_kg = (float(ice.ice_sensible_heat_array_j_kg(self._t0_arr, np.array(t_sub)))
                  + float(ice.latent_heat_j_per_kg(t_sub)))
        return reg + net_kg * per_kg

"""The cold trap: a cryocooled finger that catches vapour as ice, and melts it on demand.

Lumped node of heat capacity ``C`` (metal plus the ice on it). Heat in: latent heat of
deposition, a parasitic leak from the chamber walls, the melt heater. Heat out: the
cryocooler's lift, linear in temperature between its floor and reference points (scaled
by ``lift_factor`` when the cooler is degraded). Above the melting point the catch melts
(latent heat of fusion) and drains into the reservoir.
"""

from __future__ import annotations

from sims import ice
from sims.constants import LATENT_FUSION_J_KG
from sims.params import TrapParams

MELT_TEMP_K = 273.15


class Trap:
    """Cold-trap state: ``temp_k``, ``ice_kg``; melt water goes to ``reservoir_kg``."""

    def __init__(self, p: TrapParams, wall_temp_k: float) -> None:
        self.p = p
        self.wall_temp_k = wall_temp_k
        self.temp_k = p.initial_temp_k
        self.ice_kg = 0.0
        self.reservoir_kg = 0.0
        self.cryo_on = False
        self.heater_power_w = 0.0
        self.lift_factor = 1.0  # cryocooler health: lift scaled, input power unchanged
        self._latent_pending_j = 0.0

    def lift_w(self) -> float:
        """Heat the cryocooler removes at the current trap temperature [W] (0 when off),
        times :attr:`lift_factor` (1 healthy, 0 failed)."""
        if not self.cryo_on:
            return 0.0
        p = self.p
        frac = (self.temp_k - p.cryo_floor_temp_k) / (p.cryo_ref_temp_k - p.cryo_floor_temp_k)
        return max(0.0, p.cryo_lift_w_at_ref * frac) * self.lift_factor

    def deposit(self, mass_kg: float) -> None:
        """``mass_kg`` of vapour froze on (negative: sublimed off) now; its latent heat is
        released into the trap at the next :meth:`step`."""
        if mass_kg:
            self.ice_kg += mass_kg
            self._latent_pending_j += mass_kg * ice.latent_heat_scalar_j_kg(self.temp_k)

    def step(self, dt_s: float, deposited_kg: float = 0.0) -> None:
        """Advance by ``dt_s`` after ``deposited_kg`` more froze on (negative: sublimed)."""
        if deposited_kg:
            self.deposit(deposited_kg)
        p = self.p
        t = self.temp_k
        latent_w = self._latent_pending_j / dt_s
        self._latent_pending_j = 0.0
        leak_w = p.parasitic_conductance_w_k * (self.wall_temp_k - t)
        cap = p.heat_capacity_j_k
        if self.ice_kg > 0.0:
            cap += self.ice_kg * ice.ice_heat_capacity_scalar_j_kg_k(t)
        lift_w = 0.0  # lift_w(), inlined (this runs every cycle)
        if self.cryo_on:
            frac = (t - p.cryo_floor_temp_k) / (p.cryo_ref_temp_k - p.cryo_floor_temp_k)
            lift_w = p.cryo_lift_w_at_ref * frac
            lift_w = (lift_w if lift_w > 0.0 else 0.0) * self.lift_factor  # max(0, x)
        net_w = latent_w + leak_w + self.heater_power_w - lift_w
        t_new = t + dt_s * net_w / cap
        if t_new > MELT_TEMP_K and self.ice_kg > 0.0:
            excess_j = (t_new - MELT_TEMP_K) * cap
            melted = min(self.ice_kg, excess_j / LATENT_FUSION_J_KG)
            if melted >= self.ice_kg:
                melted = self.ice_kg
                self.ice_kg = 0.0
            else:
                self.ice_kg -= melted
            self.reservoir_kg += melted
            t_new = MELT_TEMP_K + (excess_j - melted * LATENT_FUSION_J_KG) / cap
        self.temp_k = t_new

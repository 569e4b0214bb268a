"""The PEM electrolyzer stack and its hydrogen and oxygen tanks.

Water is split by Faraday's law (2 electrons per H2O) times the faradaic efficiency;
the split mass is shared between H2 and O2 in the exact ratio of their molar masses, so
H2 + O2 equals the water split to the last bit. Tank pressures follow the ideal gas law.
Faults: a degraded membrane adds ``extra_r_ohm_cm2`` to each cell's ohmic resistance; a
leaking H2 tank loses ``h2_leak_kg_s`` to vacuum while it holds any gas. The leak is
counted in ``h2_leaked_kg``; ``h2_kg`` stays what was produced (``water_split_kg`` ==
``h2_kg + o2_kg``) and the tank holds residual + produced - leaked.
"""

from __future__ import annotations

import math

from sims import electrolysis
from sims.constants import M_H2, M_H2O, M_O2, R
from sims.params import ElectrolyzerParams

_H2_SHARE = M_H2 / M_H2O
_KG_PER_C = electrolysis.faraday_water_kg_per_c()  # water split per coulomb [kg/C]
R_OHM_OHM_CM2 = 0.20  # healthy cell ohmic area resistance (electrolysis default)


class Stack:
    """Electrolyzer state: commanded current, voltage, products and tank contents."""

    def __init__(self, p: ElectrolyzerParams) -> None:
        self.p = p
        self.current_a = 0.0
        self._v_key: tuple[float, float, float, float, float] | None = None
        self._v_cell = 0.0
        self._act_i = math.nan  # the current density of _act_v (activation terms) [A/cm^2]
        self._act_v = (0.0, 0.0)
        self.h2_kg = 0.0
        self.o2_kg = 0.0
        self.water_split_kg = 0.0
        self.charge_c = 0.0
        self.energy_j = 0.0
        self.extra_r_ohm_cm2 = 0.0  # membrane degradation [ohm cm^2]
        self.h2_leak_kg_s = 0.0  # H2 tank leak to vacuum [kg/s]
        self.h2_leaked_kg = 0.0  # hydrogen lost through the leak [kg]
        pv = p.initial_tank_pressure_pa / (R * p.tank_temp_k)
        self._h2_residual_kg = pv * p.h2_tank_volume_m3 * M_H2
        self._o2_residual_kg = pv * p.o2_tank_volume_m3 * M_O2
        self.voltage_v = self.open_circuit_v()

    def open_circuit_v(self) -> float:
        """Stack voltage at zero current [V]."""
        return self.cell_voltage_v(0.0) * self.p.cells

    def cell_voltage_v(self, current_a: float) -> float:
        """Cell voltage at ``current_a`` through each cell, at the tank pressures, with
        the membrane's extra resistance [V]."""
        key = (current_a, self.h2_kg, self.o2_kg, self.h2_leaked_kg, self.extra_r_ohm_cm2)
        if key != self._v_key:  # the bus and the step ask twice per step: compute once
            i = current_a / self.p.active_area_cm2
            if not 0.0 <= i < math.inf:  # (the checked model raises on it)
                electrolysis.cell_voltage_v(i, self.p.stack_temp_k)
            if i != self._act_i:  # the activation terms depend on the current alone
                self._act_v, self._act_i = electrolysis.activation_scalar_v(i), i
            p_h2, p_o2 = self.h2_pressure_pa(), self.o2_pressure_pa()
            self._v_cell = electrolysis.cell_voltage_scalar_v(
                i, self.p.stack_temp_k, R_OHM_OHM_CM2 + self.extra_r_ohm_cm2,
                1.0 if 1.0 > p_h2 else p_h2, 1.0 if 1.0 > p_o2 else p_o2,  # max(p, 1.0)
                self._act_v)
            self._v_key = key
        return self._v_cell

    def power_w(self, current_a: float) -> float:
        """Electrical power the stack draws at ``current_a`` [W]."""
        return current_a * self.cell_voltage_v(current_a) * self.p.cells

    def h2_tank_kg(self) -> float:
        """Hydrogen in the tank [kg]: residual gas plus produced minus leaked (>= 0)."""
        return max(self._h2_residual_kg + self.h2_kg - self.h2_leaked_kg, 0.0)

    def h2_pressure_pa(self) -> float:
        """Hydrogen tank pressure [Pa]."""
        kg = self._h2_residual_kg + self.h2_kg - self.h2_leaked_kg  # h2_tank_kg(), inlined
        n = (0.0 if 0.0 > kg else kg) / M_H2  # (max(kg, 0.0), to the bit)
        return n * R * self.p.tank_temp_k / self.p.h2_tank_volume_m3

    def o2_pressure_pa(self) -> float:
        """Oxygen tank pressure [Pa]."""
        n = (self._o2_residual_kg + self.o2_kg) / M_O2
        return n * R * self.p.tank_temp_k / self.p.o2_tank_volume_m3

    def step(self, dt_s: float, current_a: float, water_available_kg: float) -> float:
        """Run ``current_a`` for ``dt_s`` (the tank leaks first); return the water split
        [kg] (<= available)."""
        leaked = self._leak(dt_s) if self.h2_leak_kg_s > 0.0 else False
        if water_available_kg <= 0.0:
            current_a = 0.0  # a dry membrane carries no useful current: the supply trips
        if current_a <= 0.0:
            if self.current_a != 0.0 or self.voltage_v is None or leaked:
                self.voltage_v = self.open_circuit_v()  # tanks only change while producing
            self.current_a = 0.0
            return 0.0
        self.current_a = current_a
        self.voltage_v = self.cell_voltage_v(current_a) * self.p.cells
        eff = electrolysis.faradaic_efficiency_scalar(current_a / self.p.active_area_cm2)
        split = current_a * self.p.cells * eff * dt_s * _KG_PER_C
        split = min(split, water_available_kg)
        h2 = split * _H2_SHARE
        self.h2_kg += h2
        self.o2_kg += split - h2
        self.water_split_kg += split
        self.charge_c += current_a * dt_s
        self.energy_j += current_a * self.voltage_v * dt_s
        return split

    def _leak(self, dt_s: float) -> bool:
        """Let ``h2_leak_kg_s * dt_s`` out of the H2 tank, no more than it holds; return
        whether any gas left."""
        out = min(self.h2_leak_kg_s * dt_s, self.h2_tank_kg())
        if out <= 0.0:
            return False
        self.h2_leaked_kg += out
        return True

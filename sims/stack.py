"""The PEM electrolyzer stack and its hydrogen and oxygen tanks.

Water is split by Faraday's law (2 electrons per H2O) times the faradaic efficiency;
the split mass is shared between H2 and O2 in the exact ratio of their molar masses, so
H2 + O2 equals the water split to the last bit. Tank pressures follow the ideal gas law.
"""

from __future__ import annotations

from sims import electrolysis
from sims.constants import M_H2, M_H2O, M_O2, R
from sims.params import ElectrolyzerParams

_H2_SHARE = M_H2 / M_H2O


class Stack:
    """Electrolyzer state: commanded current, voltage, products and tank contents."""

    def __init__(self, p: ElectrolyzerParams) -> None:
        self.p = p
        self.current_a = 0.0
        self._v_key: tuple[float, float, float] | None = None
        self._v_cell = 0.0
        self.h2_kg = 0.0
        self.o2_kg = 0.0
        self.water_split_kg = 0.0
        self.charge_c = 0.0
        self.energy_j = 0.0
        pv = p.initial_tank_pressure_pa / (R * p.tank_temp_k)
        self._h2_residual_kg = pv * p.h2_tank_volume_m3 * M_H2
        self._o2_residual_kg = pv * p.o2_tank_volume_m3 * M_O2
        self.voltage_v = self.open_circuit_v()

    def open_circuit_v(self) -> float:
        """Stack voltage at zero current [V]."""
        return self.cell_voltage_v(0.0) * self.p.cells

    def cell_voltage_v(self, current_a: float) -> float:
        """Cell voltage at ``current_a`` through each cell, at the tank pressures [V]."""
        key = (current_a, self.h2_kg, self.o2_kg)
        if key != self._v_key:  # the bus and the step ask twice per step: compute once
            i = current_a / self.p.active_area_cm2
            self._v_cell = electrolysis.cell_voltage_v(
                i, self.p.stack_temp_k, p_h2_pa=max(self.h2_pressure_pa(), 1.0),
                p_o2_pa=max(self.o2_pressure_pa(), 1.0))
            self._v_key = key
        return self._v_cell

    def power_w(self, current_a: float) -> float:
        """Electrical power the stack draws at ``current_a`` [W]."""
        return current_a * self.cell_voltage_v(current_a) * self.p.cells

    def h2_pressure_pa(self) -> float:
        """Hydrogen tank pressure [Pa]."""
        n = (self._h2_residual_kg + self.h2_kg) / M_H2
        return n * R * self.p.tank_temp_k / self.p.h2_tank_volume_m3

    def o2_pressure_pa(self) -> float:
        """Oxygen tank pressure [Pa]."""
        n = (self._o2_residual_kg + self.o2_kg) / M_O2
        return n * R * self.p.tank_temp_k / self.p.o2_tank_volume_m3

    def step(self, dt_s: float, current_a: float, water_available_kg: float) -> float:
        """Run ``current_a`` for ``dt_s``; return the water split [kg] (<= available)."""
        if water_available_kg <= 0.0:
            current_a = 0.0  # a dry membrane carries no useful current: the supply trips
        if current_a <= 0.0:
            if self.current_a != 0.0 or self.voltage_v is None:
                self.voltage_v = self.open_circuit_v()  # tanks only change while producing
            self.current_a = 0.0
            return 0.0
        self.current_a = current_a
        self.voltage_v = self.cell_voltage_v(current_a) * self.p.cells
        eff = electrolysis.faradaic_efficiency(current_a / self.p.active_area_cm2)
        split = (
            current_a * self.p.cells * eff * dt_s * electrolysis.faraday_water_kg_per_c()
        )
        split = min(split, water_available_kg)
        h2 = split * _H2_SHARE
        self.h2_kg += h2
        self.o2_kg += split - h2
        self.water_split_kg += split
        self.charge_c += current_a * dt_s
        self.energy_j += current_a * self.voltage_v * dt_s
        return split

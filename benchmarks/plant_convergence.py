"""Convergence of the plant's thermal/vapour step (figures for docs/physics.md).

A 20 g sample in 10 layers under 25 W open loop, valve open, cryocooler on, for 10 min
of mission time (the steepest transient of a run), stepped every call
(``thermal_step_s = 0``) with calls of 0.02, 0.1, 0.5 and 1 s. Prints the ice left and
the sublimated mass relative to the 0.02 s result.

Then the inert regime (``solver.inert_step_s``): a dry 150 g sample in 30 layers, heated
at 20 W for 30 min, then left unheated for 2 h (as after extraction), stepped at 0.1 s
calls with inert steps of 0.1, 1, 2 and 5 s. Prints the largest difference of the plate
and bottom temperatures from the 0.1 s run over the unheated part, as a sensor reading
every 0.1 s sees them (the step's lag included) and at the end.

Run: ``python benchmarks/plant_convergence.py``.
"""

from __future__ import annotations

import numpy as np

from sims.params import PlantParams, SampleParams, SolverParams
from sims.plant import Plant


def ice_sublimated_kg(dt_s: float, duration_s: float = 600.0) -> tuple[float, float]:
    """(ice left, sublimated) [kg] after ``duration_s`` at steps of ``dt_s``."""
    p = Plant(PlantParams(sample=SampleParams(mass_kg=0.02, layers=10),
                          solver=SolverParams(thermal_step_s=0.0)))
    u = p.inputs
    u.valve_open = u.cryocooler_on = True
    u.heater_power_w = 25.0
    for _ in range(round(duration_s / dt_s)):
        p.step(dt_s)
    return p.ice_initial_kg - p.sample.sublimated_kg, p.sample.sublimated_kg


def inert_relaxation_k(inert_step_s: float, call_s: float = 0.1) -> np.ndarray:
    """Plate and bottom temperatures [K] at every call of the unheated 2 h."""
    p = Plant(PlantParams(sample=SampleParams(mass_kg=0.15, layers=30, ice_mass_fraction=0.0),
                          solver=SolverParams(inert_step_s=inert_step_s)))
    p.inputs.heater_power_w = 20.0
    for _ in range(round(1800.0 / call_s)):
        p.step(call_s)
    p.inputs.heater_power_w = 0.0
    out = []
    for _ in range(round(7200.0 / call_s)):
        p.step(call_s)
        out.append((p.sample.plate_temp_k, p.sample.bottom_temp_k))
    return np.array(out)


if __name__ == "__main__":
    ref = None
    for dt in (0.02, 0.1, 0.5, 1.0):
        left, subl = ice_sublimated_kg(dt)
        ref = ref or subl
        print(f"step {dt:5.2f} s: ice left {left * 1e3:.4f} g, sublimated {subl * 1e3:.4f} g "
              f"({(subl / ref - 1) * 100:+.1f} % vs 0.02 s)")
    ref_k = inert_relaxation_k(0.1)
    print(f"inert, unheated: plate {ref_k[0, 0]:.1f} -> {ref_k[-1, 0]:.1f} K, bottom "
          f"{ref_k[0, 1]:.1f} -> {ref_k[-1, 1]:.1f} K over 2 h (0.1 s steps)")
    for step in (1.0, 2.0, 5.0):
        t_k = inert_relaxation_k(step)
        worst = np.abs(t_k - ref_k).max(axis=0)
        end = np.abs(t_k[-1] - ref_k[-1])
        print(f"inert step {step:3.0f} s: largest difference plate {worst[0]:.3f} K, bottom "
              f"{worst[1]:.3f} K; at the end {end[0]:.4f} / {end[1]:.4f} K")

"""Convergence of the plant's thermal/vapour step (figures for docs/physics.md).

A 20 g sample in 10 layers under 25 W open loop, valve open, cryocooler on, for 10 min
of mission time (the steepest transient of a run), stepped every call
(``thermal_step_s = 0``) with calls of 0.02, 0.1, 0.5 and 1 s. Prints the ice left and
the sublimated mass relative to the 0.02 s result. Run: ``python benchmarks/plant_convergence.py``.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    ref = None
    for dt in (0.02, 0.1, 0.5, 1.0):
        left, subl = ice_sublimated_kg(dt)
        ref = ref or subl
        print(f"step {dt:5.2f} s: ice left {left * 1e3:.4f} g, sublimated {subl * 1e3:.4f} g "
              f"({(subl / ref - 1) * 100:+.1f} % vs 0.02 s)")

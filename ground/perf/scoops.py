"""``thermine bench``: the multi-scoop mission's real-time factor and how close flight's
own accounting came to the plant's truth on every scoop (printed, never asserted)."""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from ground.harness.run import Run, load_inputs

#: the accounting figures whose error against truth the benchmark reports
CHECKED = ("water_captured_kg", "water_electrolyzed_kg", "h2_produced_kg", "o2_produced_kg",
           "h2_tank_kg", "energy_heater_j", "energy_bus_j")


def worst_errors(summary: dict[str, Any]) -> dict[str, float]:
    """The largest |relative error| of each checked figure over the scoops."""
    out: dict[str, float] = {}
    for line in summary.get("scoops") or []:
        for key in CHECKED:
            e = (line.get("error") or {}).get(key)
            if e is not None:
                out[key] = max(out.get(key, 0.0), abs(e))
    return out


def bench_scoops(mission: Path, hardware: Path, flights: int = 3) -> dict[str, float]:
    """Fly ``mission`` (several scoops) ``flights`` times; print the best real-time
    factor (median and slowest beside it) and the worst estimate errors."""
    inputs = load_inputs(mission, hardware)
    walls_s: list[float] = []
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(max(1, flights)):
            summary = Run(inputs, Path(tmp) / f"scoops-{i}").fly()
            walls_s.append(summary["wall_time_s"])
    mission_s = summary["mission_time_s"]
    lines = summary.get("scoops") or []
    done = sum(1 for line in lines if line.get("completed_s") is not None)
    figures = {"scoops": float(done), "mission_time_s": mission_s,
               "realtime_factor": mission_s / min(walls_s),
               "median_realtime_factor": mission_s / statistics.median(walls_s)}
    print(f"  {inputs.mission.name:<21} {done} of {len(lines)} scoops complete, "
          f"{mission_s / 3600:.2f} h mission time in {min(walls_s):.2f} s wall -> real-time "
          f"factor {figures['realtime_factor']:.0f}x  (best of {len(walls_s)}; median "
          f"{figures['median_realtime_factor']:.0f}x, slowest "
          f"{mission_s / max(walls_s):.0f}x; final state {summary['final_state']})")
    worst = worst_errors(summary)
    if worst:
        text = ", ".join(f"{k} {v * 100:.3f} %" for k, v in worst.items())
        print(f"  {'':<21} flight's own accounting vs the plant's truth, worst scoop: {text}")
    return figures

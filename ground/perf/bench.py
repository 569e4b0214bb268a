"""``thermine bench``: the plant's step cost and the nominal mission's real-time factor.

Figures are printed, never asserted: speed targets are tracked by reading them. The
mission is flown ``flights`` times and the best is the figure (as ``timeit`` does: on a
shared machine the others measure the neighbours); the median and the slowest are
printed beside it, so a reader sees how much the machine moved.
"""

from __future__ import annotations

import platform as pyplatform
import statistics
import tempfile
import time
from pathlib import Path

from ground.harness.run import Run, load_inputs


def bench(mission: Path, hardware: Path, steps: int = 20000,
          serial: bool = True, flights: int = 5, downlink_cost: bool = True) -> dict[str, float]:
    """Time ``steps`` plant steps at the mission's cycle, then fly the whole mission
    ``flights`` times (the best flight gives the real-time factor); with
    ``downlink_cost``, as many again without the downlink, alternately."""
    inputs = load_inputs(mission, hardware)
    cfg = inputs.mission
    dt_s = 1.0 / cfg.cycle_hz
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(inputs, Path(tmp) / "bench")
        plant = getattr(run.platform, "plant", None)
        figures: dict[str, float] = {}
        if plant is not None:
            plant.inputs.heater_power_w = 20.0
            plant.inputs.cryocooler_on = True
            plant.inputs.valve_open = True
            t0 = time.perf_counter()
            for _ in range(steps):
                plant.step(dt_s)
            figures["plant_step_us"] = (time.perf_counter() - t0) / steps * 1e6
            figures["layers"] = plant.params.sample.layers
        walls_s, bare_s = [], []
        for i in range(max(1, flights)):  # with downlink.bin and without, side by side
            summary = Run(inputs, Path(tmp) / f"mission-{i}").fly()
            walls_s.append(summary["wall_time_s"])
            if downlink_cost:
                bare = Run(inputs, Path(tmp) / f"bare-{i}", downlink_bin=False).fly()
                bare_s.append(bare["wall_time_s"])
    if bare_s:
        figures["realtime_factor_without_downlink"] = summary["mission_time_s"] / min(bare_s)
    figures["mission_time_s"] = summary["mission_time_s"]
    figures["wall_time_s"] = min(walls_s)
    figures["slowest_wall_time_s"] = max(walls_s)
    figures["median_wall_time_s"] = statistics.median(walls_s)
    figures["median_realtime_factor"] = summary["mission_time_s"] / figures["median_wall_time_s"]
    figures["realtime_factor"] = summary["mission_time_s"] / min(walls_s)
    figures["cycle_us"] = min(walls_s) / (summary["mission_time_s"] * cfg.cycle_hz) * 1e6
    print(f"thermine bench  ({pyplatform.python_implementation()} {pyplatform.python_version()}, "
          f"{pyplatform.machine()}, mission '{cfg.name}' at {cfg.cycle_hz:g} Hz)")
    from sims.compiled import describe

    print(f"  plant arithmetic      {describe()}")
    if "plant_step_us" in figures:
        print(f"  plant step            {figures['plant_step_us']:8.1f} us  "
              f"({figures['layers']:.0f} regolith layers, {steps} steps)")
    print(f"  full cycle (all-in)   {figures['cycle_us']:8.1f} us  "
          "(flight cycle + plant step + telemetry)")
    print(f"  nominal mission       {figures['mission_time_s'] / 3600:8.2f} h mission time in "
          f"{figures['wall_time_s']:.2f} s wall -> real-time factor "
          f"{figures['realtime_factor']:.0f}x  (final state {summary['final_state']}; best of "
          f"{len(walls_s)} flights; median {figures['median_wall_time_s']:.2f} s = "
          f"{figures['median_realtime_factor']:.0f}x, slowest "
          f"{figures['slowest_wall_time_s']:.2f} s)")
    if bare_s:
        with_x = figures["realtime_factor"]
        without_x = figures["realtime_factor_without_downlink"]
        print(f"  downlink.bin          with it {with_x:.0f}x, without {without_x:.0f}x (best "
              f"of {len(bare_s)} each, flown alternately): it costs "
              f"{100 * (1 - with_x / without_x):.1f} %")
    if serial:
        from ground.perf.serial import bench_serial

        root = Path(__file__).resolve().parents[2] / "configs"
        bench_serial(root / "missions/quick.yaml", root / "hardware/sim.yaml",
                     root / "hardware/bench-emulator.yaml")
    return figures



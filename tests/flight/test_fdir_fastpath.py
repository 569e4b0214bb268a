"""The engine's per-state fast path (nothing tripped) behaves exactly as its general loop.

:meth:`flight.fdir.Fdir.check` evaluates an untripped table through per-state plans with
inlined limit, stale and bound checks and carries the trips out in table order; the
general loop samples every monitor in table order. Random traces (values near and beyond
every threshold, None and NaN readings, state changes, link counters coming and going)
must give the same events, SAFE requests and records through both.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest

from flight.app import load_inputs
from flight.fdir import Fdir, inputs_of

REPO = Path(__file__).resolve().parents[2]
STATES = ["IDLE", "EXTRACT_HEAT", "EXTRACT_CAPTURE", "EXTRACT_SECURE", "TRANSFER",
          "ELECTROLYZE", "SAFE", "CHECKOUT"]
BASE = {"heater_temp_k": 300.0, "sample_temp_k": 250.0, "chamber_pressure_pa": 10.0,
        "trap_temp_k": 130.0, "reservoir_mass_kg": 0.001, "h2_tank_pressure_pa": 1e5,
        "o2_tank_pressure_pa": 1e5, "stack_voltage_v": 1.8, "stack_current_a": 5.0,
        "bus_power_w": 30.0, "bus_cap_w": 45.0}
SPREAD = {"heater_temp_k": 200.0, "sample_temp_k": 200.0, "chamber_pressure_pa": 6000.0,
          "trap_temp_k": 60.0, "reservoir_mass_kg": 0.001, "h2_tank_pressure_pa": 3.5e6,
          "o2_tank_pressure_pa": 3.5e6, "stack_voltage_v": 1.0, "stack_current_a": 6.0,
          "bus_power_w": 20.0, "bus_cap_w": 30.0}


class GeneralLoop(Fdir):
    """The engine with its fast path switched off: every cycle through the general loop."""

    def check(self, now_s: float, state: str, readings: Any, commands: Any = None,
              diagnostics: Any = None) -> None:
        if state != self._state:
            self._enter(state, now_s)
        self._check_tripped(now_s, inputs_of(readings, commands, diagnostics))


def fly(engine: type[Fdir], seed: int, cycles: int = 2000) -> list[Any]:
    table = load_inputs(REPO / "configs/missions/nominal.yaml",
                        REPO / "configs/hardware/sim.yaml").fdir
    assert table is not None
    rng = random.Random(seed)
    log: list[Any] = []
    fdir = engine(table, lambda reason: log.append(("SAFE", reason)),
                  lambda event, **f: log.append((event, sorted(f.items(), key=str))),
                  fire=lambda trigger, reason: log.append(("fire", trigger, reason)) is None)
    r: dict[str, Any] = {**BASE, "valve_open": False}
    cmds = {"heater_enabled": True, "heater_power_w": 20.0, "valve_open": False,
            "cryocooler_on": True, "trap_heater_enabled": False, "trap_heater_power_w": 0.0,
            "electrolyzer_current_a": 0.0}
    wide, counter, state = rng.random() < 0.5, 0, rng.choice(STATES)
    for k in range(cycles):
        if rng.random() < 0.003:
            state = rng.choice(STATES)
        for name, spread in SPREAD.items():
            if rng.random() < 0.3:
                r[name] = BASE[name] + (rng.random() - 0.5) * spread * (2.0 if wide else 0.3)
            if rng.random() < 0.004:
                r[name] = None
            if rng.random() < 0.002:
                r[name] = math.nan
        if rng.random() < 0.05:
            r["valve_open"] = rng.random() < 0.5
        if rng.random() < 0.02:
            cmds["valve_open"] = rng.random() < 0.5
        if rng.random() < 0.02:
            cmds["heater_power_w"] = rng.choice([0.0, 1.0, 10.0, 20.0, 25.0])
        if rng.random() < 0.02:
            cmds["cryocooler_on"] = rng.random() < 0.7
        if rng.random() < 0.02:
            cmds["electrolyzer_current_a"] = rng.choice([0.0, 0.01, 2.0, 8.0])
        counter += rng.choice([0, 0, 0, 1, 2]) if rng.random() < 0.1 else 0
        diagnostics = {} if (k // 500) % 2 else {"link_timeouts": counter}
        fdir.check(k * 0.1, state, dict(r), dict(cmds), diagnostics)
        log.append(("shape", fdir.shape(dict(cmds)), sorted(fdir.substitute(dict(r)).items(),
                                                             key=str)))
    log.append(("records", fdir.records))
    return log


@pytest.mark.parametrize("seed", range(8))
def test_fast_path_is_the_general_loop(seed: int) -> None:
    fast, general = fly(Fdir, seed), fly(GeneralLoop, seed)
    assert repr(fast) == repr(general)  # (repr: NaN values compare equal as text)
    assert any(entry[0] == "fdir_trip" for entry in fast)  # the trace does exercise trips

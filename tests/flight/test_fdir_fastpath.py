"""The engine's per-state fast path (nothing tripped) behaves exactly as its general loop.

:meth:`flight.fdir.engine.Fdir.check` evaluates an untripped table through per-state plans with
inlined limit, stale and bound checks and carries the trips out in table order; the
general loop samples every monitor in table order. Random traces (values near and beyond
every threshold, None and NaN readings, state changes, link counters coming and going)
must give the same events, SAFE requests and records through both.
"""

from __future__ import annotations

import dataclasses
import math
import random
from pathlib import Path
from typing import Any

import pytest

from flight.fdir.engine import Fdir, inputs_of
from ground.harness.run import load_inputs

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


def fly(engine: type[Fdir], seed: int, cycles: int = 2000,
        dropouts: bool = False, stale_persistence: int = 0) -> list[Any]:
    """A random trace through ``engine``: the log of everything it did. With
    ``dropouts``, readings also go missing (None or NaN) for 0.2-6 s at a time, across
    the stale checks' 3 s, between long stretches with every reading fresh;
    ``stale_persistence`` (if not 0) replaces the stale checks' persistence."""
    table = load_inputs(REPO / "configs/missions/nominal.yaml",
                        REPO / "configs/hardware/sim.yaml").fdir
    assert table is not None
    if stale_persistence:
        table = dataclasses.replace(table, monitors=tuple(
            dataclasses.replace(m, persistence=stale_persistence) if m.kind == "stale" else m
            for m in table.monitors))
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
    missing: dict[str, tuple[int, Any]] = {}  # reading -> (until cycle, None or NaN)
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
        if dropouts and rng.random() < 0.01:
            missing[rng.choice(list(SPREAD))] = (k + rng.randint(2, 60),
                                                 rng.choice([None, math.nan]))
        for name, (until, value) in list(missing.items()):
            if k < until:
                r[name] = value
            else:
                del missing[name]
                r[name] = BASE[name]
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


@pytest.mark.parametrize(("seed", "persistence"), [(s, 1) for s in range(4)]
                         + [(s, 12) for s in range(4, 8)])
def test_fast_path_is_the_general_loop_through_dropouts(seed: int, persistence: int) -> None:
    """The stale checks, noted once for all while every reading is fresh, time their
    trips (3 s after the last fresh reading), clears and persistence counts as one by
    one (the shipped table's persistence, 1, and a longer one)."""
    fast = fly(Fdir, seed, cycles=3000, dropouts=True, stale_persistence=persistence)
    general = fly(GeneralLoop, seed, cycles=3000, dropouts=True,
                  stale_persistence=persistence)
    assert repr(fast) == repr(general)
    stale_trips = [entry for entry in fast if entry[0] == "fdir_trip"
                   and dict(entry[1])["kind"] == "stale"]
    assert len(stale_trips) >= 2


def test_stale_counts_restart_when_every_reading_is_fresh_again() -> None:
    """With a persistence of 12, a reading stale for 3.5 s (5 bad samples), fresh for
    10 s, then stale for 3.8 s (8 bad samples) never trips: its count restarted while
    everything was fresh (5 + 8 would have reached 12). Both engines agree."""
    table = load_inputs(REPO / "configs/missions/nominal.yaml",
                        REPO / "configs/hardware/sim.yaml").fdir
    assert table is not None
    table = dataclasses.replace(table, monitors=tuple(
        dataclasses.replace(m, persistence=12) if m.kind == "stale" else m
        for m in table.monitors))
    logs = []
    for engine in (Fdir, GeneralLoop):
        log: list[Any] = []
        fdir = engine(table, lambda reason, log=log: log.append(("SAFE", reason)),
                      lambda event, log=log, **f: log.append((event, f.get("monitor"))))
        for k in range(400):  # 40 s at 10 Hz
            t_s = k * 0.1
            # (the plate reading shows a live sensor's noise: a frozen one trips
            # heater_temp_frozen, which is not what this test is about)
            r: dict[str, Any] = {**BASE, "valve_open": False,
                                 "heater_temp_k": 300.0 + 0.1 * ((k * 7919) % 13 - 6) / 6}
            if 5.0 <= t_s < 8.5 or 18.5 <= t_s < 22.3:
                r["heater_temp_k"] = None
            fdir.check(t_s, "IDLE", r, {}, {})
        logs.append(log)
    assert logs[0] == logs[1]
    assert not [e for e in logs[0] if e[0] == "fdir_trip"], logs[0]

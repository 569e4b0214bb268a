"""The cycle runs the controllers once per cycle: modes first, then the controllers, so
no integrator advances twice on a cycle where the state changes (issue #15)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flight.subsystems import Subsystems
from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[2]


def test_controllers_integrate_exactly_one_dt_per_cycle(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    seen: list[float] = []
    update = Subsystems.update

    def counting(self, r, dt_s):  # type: ignore[no-untyped-def]
        seen.append(dt_s)
        return update(self, r, dt_s)

    monkeypatch.setattr(Subsystems, "update", counting)
    inputs = load_inputs(ROOT / "configs/missions/quick.yaml", ROOT / "configs/hardware/sim.yaml")
    run = Run(inputs, tmp_path / "run")
    summary = run.fly(until_s=300.0)
    cycles = run.executive.cycles
    # BOOT -> CHECKOUT -> IDLE -> EXTRACT_HEAT happened in these 300 s ...
    assert [p["state"] for p in summary["phases"]][:4] == ["BOOT", "CHECKOUT", "IDLE",
                                                           "EXTRACT_HEAT"]
    # ... and time was integrated once per cycle (it used to be twice on those cycles)
    assert sum(seen) == pytest.approx(cycles * 0.1, abs=1e-9)
    assert len([dt for dt in seen if dt > 0.0]) == cycles

"""The frozen plate thermometer on the nominal mission (issue #14, story 9): its own
file so that the suite's two workers can fly it beside the other nominal-mission FDIR
tests (tests/test_nominal_fdir.py), each takes ~40 s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[1]
NOMINAL = ROOT / "configs/missions/nominal.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"


@pytest.mark.usefixtures("untraced")  # a whole nominal mission (conftest.py)
def test_plate_thermometer_frozen_near_the_setpoint_is_caught_before_it_overheats(
        tmp_path: Path, capture_cut_at_4_h: Any) -> None:
    """The plate thermometer freezes as the plate passes 345 K on its way to the 360 K
    setpoint (early CAPTURE on the nominal mission). heater_temp_frozen sees a reading
    without its own noise and switches the loop to the sample thermometer under the
    substitution's 0.8 W cap; without it the plate passed 520 K ~850 s later."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"faults": [{
        "id": "frozen", "layer": "device", "kind": "stuck", "target": "heater_temp",
        "trigger": {"when": {"telemetry": "heater_temp_k", "above": 345.0}}}]}),
        encoding="utf-8")
    # (capped, the chamber is never pumped down: CAPTURE cut at 4 h, not 8)
    s = Run(capture_cut_at_4_h(load_inputs(NOMINAL, SIM, faults_path=plan)),
            tmp_path / "run").fly()
    assert s["faults"][0]["injected_at_s"] is not None
    assert s["violations"] == []
    (frozen,) = [r for r in s["fdir_records"] if r["monitor"] == "heater_temp_frozen"]
    assert frozen["response"] == "use_sample_temp"
    # detected within its bound: the 10 s window plus 10 samples after the freeze
    assert frozen["tripped_at_s"] - s["faults"][0]["injected_at_s"] <= 11.1

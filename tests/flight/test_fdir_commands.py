"""FDIR acts through the one command path: its SAFE and abort are commands with source
``fdir``, logged like a ground command (as cFS LC requests an RTS; issue #15)."""

from __future__ import annotations

import json
from pathlib import Path

from ground.harness.run import Run, load_inputs

ROOT = Path(__file__).resolve().parents[2]


def test_fdir_safes_the_payload_by_a_logged_command(tmp_path: Path) -> None:
    inputs = load_inputs(ROOT / "configs/missions/quick.yaml",
                         ROOT / "configs/hardware/sim.yaml",
                         faults_path=ROOT / "configs/faults/heater-open-circuit.yaml")
    summary = Run(inputs, tmp_path / "run").fly()
    events = [json.loads(x) for x in (tmp_path / "run/events.jsonl").read_text().splitlines()]
    by_fdir = [e for e in events if e["event"] == "command" and e["source"] == "fdir"]
    assert [(e["name"], e["accepted"]) for e in by_fdir] == [("SAFE", True)]
    (to_safe,) = [e for e in events if e["event"] == "state_change" and e["dest"] == "SAFE"]
    # the command carries the monitor's reason to the state change and the summary
    assert to_safe["reason"].startswith("heater_not_heating: ")
    assert summary["safe_reason"] == to_safe["reason"]
    assert to_safe["t_s"] == by_fdir[0]["t_s"]

"""One sample schema (sims.params.SampleParams): the mission's ``sample:`` is validated
against it, keys the mission does not give come from the hardware YAML's plant.sample,
and the ice-poor fault has one rule (issue #15)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from common.errors import ConfigError
from ground.harness.run import Run, load_inputs
from sims.faults import apply_ice_poor, ice_poor_fraction
from sims.params import PlantParams

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"


def write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_bad_mission_sample_names_the_mission_file_and_key(tmp_path: Path) -> None:
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission["sample"] = {"ice_mass_fracton": 0.05}
    with pytest.raises(ConfigError) as exc:
        load_inputs(write(tmp_path / "m.yaml", mission), SIM)
    assert "m.yaml: sample.ice_mass_fracton" in str(exc.value)
    assert "did you mean 'ice_mass_fraction'" in str(exc.value)
    mission["sample"] = {"layers": 2}  # every SampleParams key, with its range
    with pytest.raises(ConfigError, match=r"sample\.layers.*out of range"):
        load_inputs(write(tmp_path / "m.yaml", mission), SIM)


def test_the_hardware_sample_holds_where_the_mission_is_silent(tmp_path: Path) -> None:
    mission = yaml.safe_load(QUICK.read_text(encoding="utf-8"))
    mission["sample"] = {"mass_kg": 0.05}
    hardware = yaml.safe_load(SIM.read_text(encoding="utf-8"))
    hardware.setdefault("plant", {})["sample"] = {"mass_kg": 0.2, "ice_mass_fraction": 0.02,
                                                  "layers": 12}
    inputs = load_inputs(write(tmp_path / "m.yaml", mission), write(tmp_path / "h.yaml",
                                                                      hardware))
    run = Run(inputs, tmp_path / "run")
    try:
        sample = run.platform.plant.params.sample  # type: ignore[attr-defined]
    finally:
        run.platform.close()
    assert (sample.mass_kg, sample.ice_mass_fraction, sample.layers) == (0.05, 0.02, 12)


def test_the_ice_poor_rule_is_one_function() -> None:
    assert ice_poor_fraction(0.056, 0.25) == pytest.approx(0.014)
    assert apply_ice_poor(PlantParams(), 0.25).sample.ice_mass_fraction == ice_poor_fraction(
        PlantParams().sample.ice_mass_fraction, 0.25)
    with pytest.raises(ValueError, match="factor must be a number in"):
        ice_poor_fraction(0.056, 1.5)

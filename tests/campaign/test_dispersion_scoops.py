"""A campaign disperses every scoop of a several-scoop mission alike: a dispersed
``sample.*`` key moves the later scoops' own values by the same ratio, and the scoops the
sim platform will load are resolved again over the dispersed ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.campaign.dispersions import apply
from ground.harness.run import load_inputs

ROOT = Path(__file__).resolve().parents[2]
FIVE = ROOT / "configs/missions/five-scoops.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"


def test_a_dispersed_ice_fraction_moves_every_scoop_alike() -> None:
    inputs = load_inputs(FIVE, SIM)
    before = [s["ice_mass_fraction"] for s in inputs.samples]
    assert before == [0.045, 0.065, 0.056, 0.050]  # the mission's samples, resolved
    out = apply(inputs, {"sample.ice_mass_fraction": 0.056 * 1.1})
    assert out.mission.sample["ice_mass_fraction"] == pytest.approx(0.0616)
    after = [s["ice_mass_fraction"] for s in out.samples]
    assert after == pytest.approx([f * 1.1 for f in before], rel=1e-12)
    # what a later scoop does not give follows the first scoop's dispersed value
    assert [s["mass_kg"] for s in out.samples] == [0.15, 0.14, 0.15, 0.15]
    assert out.samples[2]["initial_temp_k"] == 60.0


def test_undispersed_inputs_keep_their_scoops() -> None:
    inputs = load_inputs(FIVE, SIM)
    out = apply(inputs, {"power.bus_cap_w": 42.0})
    assert out.samples == inputs.samples and out.hardware.plant["power"]["bus_cap_w"] == 42.0


def test_campaign_files_are_written_with_the_usual_mode(tmp_path: Path) -> None:
    """atomic_write's temp file is 0600 (mkstemp); the file it leaves is what open()
    would have made under the umask (#19: campaign output files were 0600)."""
    import os

    from ground.campaign.outdir import atomic_write

    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "report.md", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "report.md").stat().st_mode & 0o777 == 0o644

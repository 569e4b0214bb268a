"""A campaign draws a parameter with named values (the scoop's ice texture, #18) with
``dist: choice``: per seed, from the values given, into the plant's parameters; bad
entries name the key; the report counts the values flown."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.errors import ConfigError
from common.schema import load
from ground.campaign.dispersions import apply
from ground.campaign.report import _dispersion_rows
from ground.campaign.spec import load_campaign
from ground.harness.run import load_inputs
from sims.params import PlantParams

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs/missions/quick.yaml"
SIM = ROOT / "configs/hardware/sim.yaml"
TEXTURE = {"param": "sample.ice_texture", "dist": "choice",
           "values": ["granular", "cemented"]}


def write(tmp_path: Path, **body: Any) -> Path:
    data = {"name": "t", "mission": str(QUICK), "hardware": str(SIM),
            "faults": [{"name": "b", "layer": "plant", "kind": "brownout"}], **body}
    p = tmp_path / "camp.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def test_a_choice_is_drawn_per_seed_from_its_values(tmp_path: Path) -> None:
    c = load_campaign(write(tmp_path, seeds={"first": 1, "count": 12}, dispersions=[TEXTURE]))
    by_seed = {r.seed: r.dispersions["sample.ice_texture"] for r in c.runs}
    assert set(by_seed.values()) == {"granular", "cemented"}  # 12 seeds draw both
    again = load_campaign(write(tmp_path, seeds={"first": 1, "count": 12},
                                dispersions=[TEXTURE]))
    assert {r.seed: r.dispersions["sample.ice_texture"] for r in again.runs} == by_seed
    weighted = {**TEXTURE, "weights": [0.0, 1.0]}
    c = load_campaign(write(tmp_path, seeds={"first": 1, "count": 6}, dispersions=[weighted]))
    assert {r.dispersions["sample.ice_texture"] for r in c.runs} == {"cemented"}


def test_the_drawn_texture_reaches_the_plant() -> None:
    inputs = apply(load_inputs(QUICK, SIM), {"sample.ice_texture": "pore_filling"})
    assert inputs.hardware.plant["sample"] == {"ice_texture": "pore_filling"}
    params = load(PlantParams, dict(inputs.hardware.plant), "plant")
    assert params.sample.ice_texture == "pore_filling"


@pytest.mark.parametrize("entry, where, match", [
    ({**TEXTURE, "values": ["granular", "slushy"]}, "dispersions[0].values", "slushy"),
    ({**TEXTURE, "values": []}, "dispersions[0].values", "choose among"),
    ({**TEXTURE, "weights": [1.0]}, "dispersions[0].weights", "one weight"),
    ({"param": "sample.ice_texture", "low": 0.5, "high": 1.5}, "dispersions[0].dist",
     "dist must be choice"),
    ({"param": "sample.conductivity_scale", "dist": "choice", "values": ["x"]},
     "dispersions[0].param", "no named values"),
])
def test_bad_choices_name_the_key(tmp_path: Path, entry: dict[str, Any], where: str,
                                  match: str) -> None:
    with pytest.raises(ConfigError, match=match) as e:
        load_campaign(write(tmp_path, dispersions=[entry]))
    assert where in str(e.value)


def test_the_report_counts_the_values_flown() -> None:
    recs = [{"seed": s, "dispersions": {"sample.ice_texture": t,
                                        "sample.conductivity_scale": 1.0 + s}}
            for s, t in ((1, "granular"), (2, "cemented"), (3, "granular"))]
    recs.append(dict(recs[0]))  # the same seed again (another fault): counted once
    rows = {r[0]: r for r in _dispersion_rows(recs, [TEXTURE])}
    key, unit, drawn, n, counts, _, _ = rows["sample.ice_texture"]
    assert (n, counts) == (3, "cemented x1, granular x2")
    assert drawn == "one of granular, cemented"
    assert rows["sample.conductivity_scale"][3:] == (3, 2.0, 3.0, 4.0)
    assert Counter(r["dispersions"]["sample.ice_texture"] for r in recs[:3])["granular"] == 2

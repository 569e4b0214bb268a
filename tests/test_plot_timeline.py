"""The timeline model (ground/timeline_model.py) and timeline.png (issue #19): a faulted
run's picture names the run and why it went SAFE, draws the limits of the FDIR table in
force, marks the fault, the trips and the commands, shows a power cycle between two 1 Hz
samples and says why a sensor's line stops; bad input is a ConfigError naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from flight.app import load_fdir
from flight.channels import SENSORS
from flight.config import load_mission
from flight.sequencer import leaf_states, load_chart
from ground.cli import main
from ground.timeline_config import run_config
from ground.timeline_model import MIN_SPAN, Panel, Timeline, build_timeline
from ground.timeline_series import decimate, mean_power

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"
FAULTS = ROOT / "configs" / "faults"


def _fly(out: Path, plan: str) -> Path:
    code = main(["run", str(QUICK), "--hardware", str(SIM), "--out", str(out), "--quiet",
                 "--faults", str(FAULTS / plan)])
    assert code in (0, 1), code
    return out


@pytest.fixture(scope="module")
def heater_open(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick mission, the heater element open: two power cycles, then SAFE (~1 s)."""
    return _fly(tmp_path_factory.mktemp("tl") / "heater-open", "heater-open-circuit.yaml")


@pytest.fixture(scope="module")
def dropout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quick mission, the plate thermometer silent from CAPTURE on (~2 s)."""
    return _fly(tmp_path_factory.mktemp("tl") / "dropout", "heater-thermometer-dropout.yaml")


def _panel(tl: Timeline, unit: str) -> Panel:
    return next(p for p in tl.panels if p.unit == unit)


def test_title_names_the_run_its_end_and_why_safe(heater_open: Path) -> None:
    tl = build_timeline(heater_open)
    text = "\n".join(tl.title)
    assert "quick" in text and "seed 7" in text and f"run {heater_open.name}" in text
    assert "final state SAFE" in text
    assert "SAFE because heater_not_heating" in text
    assert "fault heater-open (plant heater_open_circuit)" in text


def test_bands_are_the_fdir_table_in_force(heater_open: Path, tmp_path: Path) -> None:
    tl = build_timeline(heater_open)
    timed = {n for n, leaf in leaf_states(load_chart()).items() if leaf.get("on_timeout")}
    cfg = load_mission(QUICK, set(SENSORS), timed, set(DICTIONARY.command_table))
    table = {m.id: m for m in load_fdir(QUICK, cfg).monitors}
    temps = _panel(tl, "K")
    plate = next(b for b in temps.bands if b.label.startswith("heater plate >"))
    assert plate.value == table["heater_overtemp"].above
    assert "heater_overtemp -> SAFE" in plate.action and "mission limits[0]" in plate.action
    assert any(b.value == table["sample_overtemp"].above for b in temps.bands)
    # the setpoint line is the mission's, over the phases the heater runs in
    sp = next(s for s in temps.setpoints if s.label == "plate setpoint")
    assert np.nanmax(sp.y) == cfg.heater.setpoint_k
    # a limit enabled only in some states is drawn only there
    cap = next(b for b in _panel(tl, "W").bands if "bus_brownout" in b.action)
    assert cap.spans and cap.spans[0][0] > 0.0
    assert all(not b.label.startswith("stack voltage") for b in _panel(tl, "V").bands)
    # another table: its number, not a hard-coded one
    fdir = tmp_path / "fdir.yaml"
    fdir.write_text((ROOT / "common/dictionary/fdir.yaml").read_text(encoding="utf-8")
                    .replace("above: 480.0", "above: 470.0"), encoding="utf-8")
    mission = tmp_path / "quick.yaml"
    mission.write_text(QUICK.read_text(encoding="utf-8") + f"fdir: {fdir}\n", encoding="utf-8")
    other = build_timeline(heater_open, mission)
    assert any(b.value == 470.0 and "heater_overtemp" in b.action
               for b in _panel(other, "K").bands)
    assert "quick.yaml" in other.footnote[0]


def test_markers_phases_and_the_power_cycle(heater_open: Path) -> None:
    tl = build_timeline(heater_open)
    kinds = {(m.kind, m.label.split()[0]) for m in tl.markers}
    assert ("fault", "fault") in kinds and ("fdir", "FDIR") in kinds
    assert ("command", "POWER_CYCLE") in kinds and ("command", "START_EXTRACTION") in kinds
    states = [p.state for p in tl.phases]
    assert states == ["CHECKOUT", "IDLE", "EXTRACT_HEAT", "SAFE"]  # what happened only
    # the power cycle is one 0.1 s cycle off between two 1 Hz samples: the mean power
    # from the energy counter shows it where the samples of the command do not
    cycles = [m.t_s for m in tl.markers if m.label.startswith("POWER_CYCLE")]
    heater = next(s for s in _panel(tl, "W").series if s.key == "energy_heater_j")
    for t in cycles:
        near = heater.y[(heater.t_s > t - 0.5) & (heater.t_s < t + 1.5)]
        assert np.nanmin(near) < 24.0 < np.nanmax(heater.y)


def test_panels_have_a_minimum_span_and_a_noise_floor(heater_open: Path) -> None:
    tl = build_timeline(heater_open)
    for p in tl.panels:
        if not p.log:
            assert p.y_range[1] - p.y_range[0] >= MIN_SPAN[p.unit] - 1e-9, p.title
    water = _panel(tl, "g")
    assert water.y_range[1] - water.y_range[0] >= 1.0  # not 0.0025 g of noise blown up
    chamber = _panel(tl, "Pa")
    y = chamber.series[0].y
    assert np.nanmin(y) >= 0.02  # the gauge's noise sits on the floor, no solid block
    units = {p.unit for p in tl.panels}
    assert {"V", "A"} <= units  # stack voltage and current
    tanks = _panel(tl, "kPa")
    assert [s.label for s in tanks.series] == ["O2 tank", "H2 tank"]  # H2 on top
    assert tanks.series[0].style == "wide"
    assert any("far above the scale" in n for n in tanks.notes)


def test_a_dropout_is_a_marked_and_explained_gap(dropout: Path) -> None:
    tl = build_timeline(dropout)
    gaps = _panel(tl, "K").gaps
    assert len(gaps) == 1
    g = gaps[0]
    assert g.label == "heater plate"
    assert "no answer" in g.why and "heater_temp_stale -> use_sample_temp" in g.why
    assert g.t1_s == pytest.approx(tl.end_s, abs=1.0)


def test_png_is_written(heater_open: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", str(heater_open)]) == 0
    png = heater_open / "timeline.png"
    assert str(png) in capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_decimation_keeps_spikes_and_gaps() -> None:
    t = np.arange(100_000, dtype=float)
    y = np.sin(t / 5000.0)
    y[12_345] = 50.0
    y[70_000:70_010] = np.nan
    td, yd = decimate(t, y, 500)
    assert len(td) <= 3 * 500
    assert np.nanmax(yd) == 50.0
    assert np.isnan(yd).any()
    assert np.all(np.diff(td) >= 0)
    short_t, short_y = decimate(t[:50], y[:50], 500)
    assert np.array_equal(short_t, t[:50]) and np.array_equal(short_y, y[:50])  # as is
    p = mean_power(np.array([0.0, 1.0, 2.0]), np.array([0.0, 25.0, 47.5]))
    assert np.isnan(p[0]) and p[1] == 25.0 and p[2] == 22.5


def test_without_a_mission_file_the_shipped_limits_and_it_says_so() -> None:
    cfg = run_config("no-such-mission", [])
    assert "shipped FDIR table" in cfg.source and not cfg.setpoints
    assert any(lim.monitor == "heater_overtemp" for lim in cfg.limits)


def test_the_file_the_run_flew_is_found_by_its_path(tmp_path: Path) -> None:
    """A mission flown from outside configs/missions (its path in run_start) gives its
    own limits, while the file is still there and still that mission."""
    mission = tmp_path / "elsewhere.yaml"
    mission.write_text(QUICK.read_text(encoding="utf-8"), encoding="utf-8")
    start = {"event": "run_start", "mission": "quick", "mission_path": str(mission)}
    assert "elsewhere.yaml" in run_config("quick", [start]).source
    mission.unlink()  # gone: found by its name again
    assert "elsewhere.yaml" not in run_config("quick", [start]).source


@pytest.mark.parametrize("html", [False, True])
def test_bad_input_is_a_clear_error(tmp_path: Path, heater_open: Path, html: bool,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--html"] if html else []
    empty_dir = tmp_path / "nothing"
    empty_dir.mkdir()
    cases: dict[str, tuple[Path, str]] = {"no telemetry": (empty_dir, "no telemetry.jsonl")}
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "telemetry.jsonl").write_text("", encoding="utf-8")
    cases["empty"] = (empty, "empty")
    cut = tmp_path / "cut"
    cut.mkdir()
    lines = (heater_open / "telemetry.jsonl").read_text(encoding="utf-8").splitlines()
    (cut / "telemetry.jsonl").write_text("\n".join(lines[:20]) + "\n" + lines[20][:40],
                                         encoding="utf-8")
    cases["cut short"] = (cut, "cut short")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "telemetry.jsonl").write_text(lines[0] + "\n[1, 2]\n", encoding="utf-8")
    cases["not an object"] = (bad, "not a JSON object")
    broken = tmp_path / "broken-summary"
    broken.mkdir()
    (broken / "telemetry.jsonl").write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")
    (broken / "summary.json").write_text(json.dumps({"phases": [{"state": "IDLE"}]}),
                                         encoding="utf-8")
    cases["bad summary"] = (broken, "phases[0]")
    for what, (run_dir, says) in cases.items():
        assert main(["plot", str(run_dir), *args]) == 2, what
        err = capsys.readouterr().err
        assert "thermine: error:" in err and "Traceback" not in err, what
        assert says in err, (what, err)
        assert str(run_dir) in err, (what, err)
        assert not (run_dir / "timeline.png").exists()
        with pytest.raises(ConfigError):
            build_timeline(run_dir)

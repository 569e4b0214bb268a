"""telemetry.jsonl writes every float channel at its resolution from the dictionary
(issue #19; docs/tmtc.md, "Resolution"): a scaled-integer hk field at its scale, a row's
``resolution:`` or ``digits:`` otherwise; the downlink gets the same values; a bad row is
refused naming it; the same seed still writes the same bytes."""

from __future__ import annotations

import json
import math
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.dictionary import DICTIONARY, HERE, load_dictionary
from common.errors import ConfigError
from flight.telemetry import TelemetryWriter, round_digits, round_in_place, rounding_plan

ROOT = Path(__file__).resolve().parents[1]


def one_row(tmp_path: Path, readings: dict[str, Any], commands: dict[str, Any] | None = None,
            derived: dict[str, Any] | None = None,
            diagnostics: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The line (and its parsed form) one sample makes in telemetry.jsonl."""
    path = tmp_path / "telemetry.jsonl"
    w = TelemetryWriter(path)
    w.write(12.5, "EXTRACT_HEAT", readings, commands or {}, diagnostics, derived)
    w.close()
    (line,) = path.read_text(encoding="utf-8").splitlines()
    return line, json.loads(line)


def test_a_channel_is_written_at_its_sensors_resolution(tmp_path: Path) -> None:
    """u16 x 0.01 K: 247.10000000000002 K is 247.1 on disk, byte for byte, and the
    board's raw 24701 x 0.01 (247.01000000000002 in float64) is 247.01; every hk scale
    likewise; commands and derived figures at their row's resolution."""
    assert 24701 * 0.01 == 247.01000000000002  # (a value over the wire, as the driver makes it)
    line, row = one_row(
        tmp_path,
        {"heater_temp_k": 247.10000000000002, "sample_temp_k": 229.84905356110485,
         "trap_temp_k": 24701 * 0.01,
         "reservoir_mass_kg": 0.00547633734866315, "stack_voltage_v": 1.0997107145823524,
         "bus_power_w": 14.917485658808596, "valve_open": True},
        {"heater_power_w": 3.0089148441931495, "heater_enabled": True,
         "electrolyzer_current_a": 0.123456789},
        {"energy_bus_j": 107237.01750396141, "power_cap_w": 12.345000267028809,
         "seq_next_s": 1234.56789012345, "scoop": 1, "seq_id": 0})
    assert '"heater_temp_k":247.1,' in line and '"trap_temp_k":247.01,' in line
    assert row == {
        "t_s": 12.5, "state": "EXTRACT_HEAT", "heater_temp_k": 247.1, "sample_temp_k": 229.85,
        "trap_temp_k": 247.01,
        "reservoir_mass_kg": 0.005476337, "stack_voltage_v": 1.1, "bus_power_w": 14.92,
        "valve_open": True, "cmd_heater_power_w": 3.009, "cmd_heater_enabled": True,
        "cmd_electrolyzer_current_a": 0.1235, "energy_bus_j": 107237.018,
        "power_cap_w": 12.345, "seq_next_s": 1234.56789, "scoop": 1, "seq_id": 0}
    assert '"valve_open":true' in line and '"scoop":1,' in line  # bools, ints untouched


def test_a_tiny_chamber_pressure_keeps_its_significant_digits(tmp_path: Path) -> None:
    """Pressures and masses span decades: significant digits, not decimals. 1e-4 Pa keeps
    its 7 digits (0.01 Pa would have made it 0.0), 1e4 Pa is not written to 1e-11."""
    line, row = one_row(
        tmp_path,
        {"chamber_pressure_pa": 1.2345678912345e-4, "h2_tank_pressure_pa": 997.2621165225801,
         "o2_tank_pressure_pa": 2_999_999.987654321},
        derived={"water_captured_kg": 0.00547633734866315, "h2_produced_kg": 1.234e-15,
                 "h2_tank_kg": -2.9433898013413555e-08, "o2_tank_kg": 0.0})
    assert row["chamber_pressure_pa"] == 0.0001234568
    assert '"chamber_pressure_pa":0.0001234568,' in line
    assert row["h2_tank_pressure_pa"] == 997.2621
    assert row["o2_tank_pressure_pa"] == 3_000_000.0
    assert row["water_captured_kg"] == 0.00547633734866  # 12 digits
    assert row["h2_produced_kg"] == 1.234e-15
    assert row["h2_tank_kg"] == -2.94339e-08 and row["o2_tank_kg"] == 0.0
    _, big = one_row(tmp_path, {"chamber_pressure_pa": 9876.54321987})
    assert big["chamber_pressure_pa"] == 9876.543


def test_nan_infinity_none_and_unknown_keys(tmp_path: Path) -> None:
    """A NaN or an infinity is still null, a failed reading (None) too; a key the
    dictionary does not list is written as it came."""
    _, row = one_row(
        tmp_path,
        {"heater_temp_k": math.nan, "sample_temp_k": -math.inf, "chamber_pressure_pa": math.inf,
         "trap_temp_k": None, "not_in_the_dictionary": 1.0000000000000002},
        {"heater_power_w": math.nan}, {"seq_next_s": math.nan, "water_captured_kg": -math.inf})
    assert [row[k] for k in ("heater_temp_k", "sample_temp_k", "chamber_pressure_pa",
                             "trap_temp_k", "cmd_heater_power_w", "seq_next_s",
                             "water_captured_kg")] == [None] * 7
    assert row["not_in_the_dictionary"] == 1.0000000000000002


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def housekeeping(self, *args: Any) -> None:
        self.calls.append(args)


def test_the_downlink_gets_the_rounded_values_and_the_callers_are_untouched(
        tmp_path: Path) -> None:
    """downlink.bin is telemetry.jsonl packed (tests/export): the downlink packs the same
    rounded values; the caller's own mappings (flight's readings) keep full precision."""
    readings = {"heater_temp_k": 247.10000000000002, "chamber_pressure_pa": 7.342529494044077}
    commands = {"heater_power_w": 3.0089148441931495, "valve_open": True}
    derived = {"energy_bus_j": 107237.01750396141}
    w = TelemetryWriter(tmp_path / "telemetry.jsonl")
    w.downlink = rec = Recorder()
    w.write(1.0, "IDLE", readings, commands, None, derived)
    w.close()
    assert readings == {"heater_temp_k": 247.10000000000002,
                        "chamber_pressure_pa": 7.342529494044077}
    assert commands["heater_power_w"] == 3.0089148441931495
    assert derived == {"energy_bus_j": 107237.01750396141}
    (args,) = rec.calls
    t_s, state, dl_readings, dl_commands, dl_diagnostics, dl_derived = args
    assert (t_s, state, dl_diagnostics) == (1.0, "IDLE", None)
    assert dl_readings["heater_temp_k"] == 247.1
    assert dl_readings["chamber_pressure_pa"] == 7.342529
    assert dl_commands == {"heater_power_w": 3.009, "valve_open": True}
    assert dl_derived["energy_bus_j"] == 107237.018
    (row,) = [json.loads(x) for x in (tmp_path / "telemetry.jsonl").read_text().splitlines()]
    assert row["heater_temp_k"] == dl_readings["heater_temp_k"]


def on_grid(value: float, n: int) -> bool:
    """``value`` is written (shortest repr) with at most n decimals."""
    text = repr(value)
    if "e" in text:
        mantissa, exp = text.split("e")
        decimals = len(mantissa.partition(".")[2].rstrip("0")) - int(exp)
    else:
        decimals = len(text.partition(".")[2].rstrip("0"))
    return decimals <= n


def test_rounding_puts_every_value_on_its_grid_at_every_scale() -> None:
    """The fast arithmetic (x * 10**n to a whole number, then / 10**n): a value JSON
    writes with at most n decimals (or d significant digits), within half a quantum of
    the value (and a hair: near a tie the last digit may go either way, as for any
    float64 arithmetic), the same as round(x, n) within one quantum, over 21 decades."""
    rnd = random.Random(19)
    for _ in range(20000):
        v = rnd.uniform(-1.0, 1.0) * 10.0 ** rnd.randint(-12, 9)
        n = rnd.randint(0, 12)
        rec = {"x": v}
        round_in_place(rec, *rounding_plan({"x": ("decimals", n)}))
        r = rec["x"]
        slack = 2 * math.ulp(v)  # (a quantum near v's own ulp: float64 spacing)
        assert on_grid(r, n) and abs(r - v) <= 0.5001 * 10.0 ** -n + slack, (v, n, r)
        assert abs(r - round(v, n)) <= 1.0001 * 10.0 ** -n + slack, (v, n, r)
        d = rnd.randint(1, 17)
        if v:
            r = round_digits(v, d)
            e = math.floor(math.log10(abs(v)))
            assert r == float(f"{r:.{d - 1}e}"), (v, d, r)  # at most d digits
            assert abs(r - v) <= 0.5001 * 10.0 ** (e - d + 1) + slack, (v, d, r)
    assert round_digits(9.99999999, 3) == 10.0 and round_digits(-0.00123456, 2) == -0.0012
    rec = {"x": 3.0e12 + 0.1234567}  # beyond 2**51 quanta (1e-6 s of 3e12 s): round()
    round_in_place(rec, *rounding_plan({"x": ("decimals", 6)}))
    assert rec["x"] == round(3.0e12 + 0.1234567, 6)


def test_every_float_channel_has_a_resolution() -> None:
    """Every float the telemetry carries is rounded: a sensor at its hk scale unless its
    row says otherwise, every other float row by its own resolution or digits."""
    p = DICTIONARY.precision
    for group in ("sensors", "actuators", "diagnostics", "derived"):
        for c in getattr(DICTIONARY.channels, group):
            key = f"cmd_{c.name}" if group == "actuators" else c.name
            assert (key in p) == c.is_float, key
    assert p["heater_temp_k"] == ("decimals", 2)  # u16 x 0.01 K
    assert p["reservoir_mass_kg"] == ("decimals", 9)  # u32 x 1e-9 kg
    assert p["stack_current_a"] == ("decimals", 3)
    assert p["chamber_pressure_pa"] == ("digits", 7)
    assert "valve_open" not in p and "scoop" not in p and "link_crc_errors" not in p


# ---- a bad resolution in the dictionary is refused, naming the row and the key -----------

def rows(channels: dict[str, Any], group: str, name: str) -> dict[str, Any]:
    (row,) = [r for r in channels[group] if r["name"] == name]
    return row


@pytest.mark.parametrize(("edit", "where", "words"), [
    (lambda c: rows(c, "actuators", "heater_power_w").update(resolution=0.02),
     "actuators[1] (heater_power_w).resolution", "0.02 is not a power of ten"),
    (lambda c: rows(c, "actuators", "heater_power_w").update(resolution=-0.001),
     "actuators[1] (heater_power_w).resolution", "-0.001 is not a power of ten"),
    (lambda c: rows(c, "derived", "energy_bus_j").update(resolution=10.0),
     "derived[8] (energy_bus_j).resolution", "from 1e-15 to 1 J"),
    (lambda c: rows(c, "derived", "energy_bus_j").update(resolution=1e-16),
     "derived[8] (energy_bus_j).resolution", "not a power of ten"),
    (lambda c: rows(c, "sensors", "chamber_pressure_pa").update(digits=0),
     "sensors[2] (chamber_pressure_pa).digits", "0 is not 1 to 17 significant digits"),
    (lambda c: rows(c, "sensors", "chamber_pressure_pa").update(digits=18),
     "sensors[2] (chamber_pressure_pa).digits", "18 is not 1 to 17"),
    (lambda c: rows(c, "sensors", "heater_temp_k").update(digits=5, resolution=0.01),
     "sensors[0] (heater_temp_k)", "give resolution or digits, not both"),
    (lambda c: rows(c, "sensors", "valve_open").update(resolution=0.1),
     "sensors[11] (valve_open).resolution", "only a float channel has one; this one is u8"),
    (lambda c: rows(c, "derived", "seq_step").update(digits=3),
     "derived[16] (seq_step).digits", "this one is u16"),
    (lambda c: rows(c, "derived", "o2_tank_kg").pop("digits"),
     "derived[7] (o2_tank_kg)", "a float channel needs its resolution in telemetry.jsonl"),
    (lambda c: rows(c, "sensors", "chamber_pressure_pa").pop("digits"),
     "sensors[2] (chamber_pressure_pa)", "needs its resolution"),  # an f32 hk field
])
def test_a_bad_resolution_is_refused_naming_the_row_and_key(tmp_path: Path, edit, where,
                                                            words) -> None:
    d = tmp_path / "dictionary"
    shutil.copytree(HERE, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    channels = yaml.safe_load((d / "channels.yaml").read_text(encoding="utf-8"))
    edit(channels)
    (d / "channels.yaml").write_text(yaml.safe_dump(channels), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_dictionary(d)
    msg = str(exc.value)
    assert f"channels.yaml: {where}" in msg and words in msg, msg


def test_a_scale_that_is_not_a_power_of_ten_is_written_finer(tmp_path: Path) -> None:
    """A u16 x 0.02 K field is written to 0.01 K (the decimal place at or below its
    scale: never coarser than the board's quantum)."""
    d = tmp_path / "dictionary"
    shutil.copytree(HERE, d, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    channels = yaml.safe_load((d / "channels.yaml").read_text(encoding="utf-8"))
    rows(channels, "sensors", "heater_temp_k")["hk"].update(scale=0.02, max=1310.7)
    rows(channels, "sensors", "trap_temp_k")["hk"].update(scale=5.0, max=327675.0)
    (d / "channels.yaml").write_text(yaml.safe_dump(channels), encoding="utf-8")
    dictionary = load_dictionary(d)
    assert dictionary.precision["heater_temp_k"] == ("decimals", 2)
    assert dictionary.precision["trap_temp_k"] == ("decimals", 0)
    w = TelemetryWriter(tmp_path / "t.jsonl", dictionary=dictionary)
    w.write(0.0, "IDLE", {"heater_temp_k": 247.14000000000001, "trap_temp_k": 137.6}, {})
    w.close()
    row = json.loads((tmp_path / "t.jsonl").read_text())
    assert row["heater_temp_k"] == 247.14 and row["trap_temp_k"] == 138.0


# ---- a whole run: every float at its resolution, the same bytes for the same seed --------

def fly_quick(out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ground.cli", "run", "configs/missions/quick.yaml",
         "--until", "600", "--quiet", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stderr  # stopped at --until


def at_resolution(value: float, kind: str, n: int) -> bool:
    if kind == "decimals":
        return value == round(value, n)
    return value == 0.0 or value == float(f"{value:.{n - 1}e}")


def test_a_run_writes_every_float_at_its_resolution_and_the_same_bytes_twice(
        tmp_path: Path) -> None:
    fly_quick(tmp_path / "a")
    fly_quick(tmp_path / "b")
    a = (tmp_path / "a/telemetry.jsonl").read_bytes()
    assert a == (tmp_path / "b/telemetry.jsonl").read_bytes()
    assert (tmp_path / "a/downlink.bin").read_bytes() == (
        tmp_path / "b/downlink.bin").read_bytes()
    rows_ = [json.loads(line) for line in a.decode().splitlines()]
    assert len(rows_) > 500
    precision = DICTIONARY.precision
    rounded: set[str] = set()
    for row in rows_:
        for key, value in row.items():
            if isinstance(value, float) and key in precision:
                assert at_resolution(value, *precision[key]), (row["t_s"], key, value)
                rounded.add(key)
    # the sensors and the accounting all seen, and nothing long left on a line
    assert {"heater_temp_k", "chamber_pressure_pa", "cmd_heater_power_w",
            "water_captured_kg", "energy_bus_j"} <= rounded
    assert max(len(line) for line in a.splitlines()) < 1000

"""Mission and hardware YAML validation: errors name the file, the key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import ConfigError
from flight.channels import REQUIRED_DEVICES
from ground.harness.run import load_inputs
from hal.registry import build_platform, load_hardware

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "missions" / "quick.yaml"
SIM = ROOT / "configs" / "hardware" / "sim.yaml"
QUICK_TEXT = QUICK.read_text(encoding="utf-8")
SIM_TEXT = SIM.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "mission.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def edited(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def mission_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_inputs(path, SIM)
    msg = str(exc.value)
    assert str(path) in msg
    return msg


def hardware_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text, "hardware.yaml")
    with pytest.raises(ConfigError) as exc:
        load_inputs(QUICK, path)
    msg = str(exc.value)
    assert str(path) in msg
    return msg


def test_shipped_configs_load() -> None:
    inputs = load_inputs(QUICK, SIM)
    assert inputs.mission.name == "quick"
    assert inputs.mission.timeouts["EXTRACT_HEAT"].timeout_s == 1200.0
    assert inputs.hardware.backend == "sim"
    assert set(REQUIRED_DEVICES) <= set(inputs.hardware.devices)
    nominal = load_inputs(ROOT / "configs" / "missions" / "nominal.yaml", SIM, seed=99)
    assert nominal.mission.seed == 99


# ---- mission ------------------------------------------------------------------------
@pytest.mark.parametrize("old, new, key_path, suggestion", [
    ("  setpoint_k: 360.0", "  setpoint: 360.0", "heater.setpoint", "setpoint_k"),
    ("max_duration_s: 7200", "max_duraton_s: 7200", "max_duraton_s", "max_duration_s"),
    ("  capture_min_s: 120.0", "  capture_mins: 120.0", "guards.capture_mins", "capture_min_s"),
    ("{telemetry: heater_temp_k, above: 480.0, persistence: 3}",
     "{telemetry: heater_temp_k, above: 480.0, persistance: 3}",
     "limits[0].persistance", "persistence"),
    ("  EXTRACT_HEAT: {timeout_s: 1200}", "  EXTRACT_HEAT: {timeout: 1200}",
     "timeouts.EXTRACT_HEAT.timeout", "timeout_s"),
])
def test_misspelt_key_names_file_path_and_suggestion(tmp_path: Path, old: str, new: str,
                                                     key_path: str, suggestion: str) -> None:
    msg = mission_error(tmp_path, edited(QUICK_TEXT, old, new))
    assert key_path in msg
    assert "unknown key" in msg
    assert f"did you mean '{suggestion}'" in msg


@pytest.mark.parametrize("old, new, key_path", [
    ("name: quick\n", "", "name"),
    ("{telemetry: heater_temp_k, above: 480.0, persistence: 3}", "{above: 480.0}",
     "limits[0].telemetry"),
    ("{at_s: 5.0, name: START_EXTRACTION}", "{name: START_EXTRACTION}", "commands[0].at_s"),
])
def test_missing_required_key(tmp_path: Path, old: str, new: str, key_path: str) -> None:
    msg = mission_error(tmp_path, edited(QUICK_TEXT, old, new))
    assert key_path in msg
    assert "required key is missing" in msg


@pytest.mark.parametrize("old, new, key_path, expected", [
    ("cycle_hz: 10", "cycle_hz: fast", "cycle_hz", "expected a number"),
    ("cycle_hz: 10", "cycle_hz: true", "cycle_hz", "expected a number"),
    ("seed: 7", "seed: 7.5", "seed", "whole number"),
    ("name: quick", "name: 42", "name", "expected a string"),
    ("  setpoint_k: 360.0", "  setpoint_k: '360'", "heater.setpoint_k", "expected a number"),
    ("name: quick", "name: quick\nauto_boot: 1", "auto_boot", "true or false"),
])
def test_wrong_type(tmp_path: Path, old: str, new: str, key_path: str, expected: str) -> None:
    msg = mission_error(tmp_path, edited(QUICK_TEXT, old, new))
    assert key_path in msg
    assert expected in msg


@pytest.mark.parametrize("text, key_path, expected", [
    ("name: q\nheater: 5\n", "heater", "expected a mapping"),
    ("name: q\nlimits: {telemetry: heater_temp_k}\n", "limits", "expected a list"),
    ("name: q\ncommands: [START_EXTRACTION]\n", "commands[0]", "expected a mapping"),
    ("name: q\ntimeouts: {IDLE: 5}\n", "timeouts.IDLE", "expected a mapping"),
])
def test_wrong_structure(tmp_path: Path, text: str, key_path: str, expected: str) -> None:
    msg = mission_error(tmp_path, text)
    assert f": {key_path}:" in msg
    assert expected in msg


@pytest.mark.parametrize("old, new, key_path", [
    ("  setpoint_k: 360.0", "  setpoint_k: 700.0", "heater.setpoint_k"),
    ("  setpoint_k: 360.0", "  setpoint_k: .nan", "heater.setpoint_k"),
    ("seed: 7", "seed: -1", "seed"),
    ("  mass_kg: 0.02", "  mass_kg: 0.0", "sample.mass_kg"),
    ("  EXTRACT_HEAT: {timeout_s: 1200}", "  EXTRACT_HEAT: {timeout_s: 0.5}",
     "timeouts.EXTRACT_HEAT.timeout_s"),
    ("{at_s: 5.0, name: START_EXTRACTION}", "{at_s: -5.0, name: START_EXTRACTION}",
     "commands[0].at_s"),
    ("persistence: 3}", "persistence: 0}", "limits[0].persistence"),
])
def test_out_of_range(tmp_path: Path, old: str, new: str, key_path: str) -> None:
    msg = mission_error(tmp_path, edited(QUICK_TEXT, old, new))
    assert key_path in msg
    assert "out of range" in msg


def test_bad_choice(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "above: 480.0, persistence: 3}",
                  "above: 480.0, persistence: 3, response: PANIC}")
    msg = mission_error(tmp_path, text)
    assert "limits[0].response" in msg and "PANIC" in msg and "SAFE" in msg


def test_unknown_telemetry_in_limit(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "{telemetry: chamber_pressure_pa,", "{telemetry: chamber_pa,")
    msg = mission_error(tmp_path, text)
    assert "limits[1].telemetry" in msg
    assert "unknown telemetry 'chamber_pa'" in msg
    assert "chamber_pressure_pa" in msg  # the known names are listed


def test_limit_needs_above_or_below(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "{telemetry: heater_temp_k, above: 480.0, persistence: 3}",
                  "{telemetry: heater_temp_k, persistence: 3}")
    msg = mission_error(tmp_path, text)
    assert "limits[0]" in msg and "above" in msg and "below" in msg


@pytest.mark.parametrize("state", ["EXTRACT_HAET", "EXTRACT", "HEAT", "extract_heat"])
def test_unknown_state_in_timeouts(tmp_path: Path, state: str) -> None:
    text = edited(QUICK_TEXT, "  EXTRACT_HEAT: {timeout_s: 1200}",
                  f"  {state}: {{timeout_s: 1200}}")
    msg = mission_error(tmp_path, text)
    assert f"timeouts.{state}" in msg
    assert "unknown state" in msg
    assert "EXTRACT_HEAT" in msg


def test_unknown_command_name(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "{at_s: 5.0, name: START_EXTRACTION}", "{at_s: 5.0, name: START}")
    msg = mission_error(tmp_path, text)
    assert "commands[0].name" in msg
    assert "unknown command 'START'" in msg
    assert "START_EXTRACTION" in msg


@pytest.mark.parametrize("args", ["{setpoint_k: 9999}", "{}", "{setpoint_k: 300, x: 1}"])
def test_bad_command_arguments_are_config_errors(tmp_path: Path, args: str) -> None:
    text = edited(QUICK_TEXT, "{at_s: 5.0, name: START_EXTRACTION}",
                  f"{{at_s: 5.0, name: SET_HEATER_SETPOINT, args: {args}}}")
    msg = mission_error(tmp_path, text)
    assert "commands[0]" in msg and "SET_HEATER_SETPOINT" in msg


def test_heater_setpoint_above_cutoff_refused(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "  setpoint_k: 360.0", "  setpoint_k: 500.0")  # cutoff 450
    msg = mission_error(tmp_path, text)
    assert "heater" in msg


def test_valve_hysteresis_order_and_telemetry_rate(tmp_path: Path) -> None:
    msg = mission_error(tmp_path, edited(QUICK_TEXT, "valve_close_pa: 0.05", "valve_close_pa: 6"))
    assert "capture.valve_close_pa" in msg
    msg = mission_error(tmp_path, edited(QUICK_TEXT, "telemetry_hz: 1", "telemetry_hz: 20"))
    assert "telemetry_hz" in msg


@pytest.mark.parametrize("text, expected", [
    ("- name: quick\n", "mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_not_a_mission_at_all(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in mission_error(tmp_path, text)


def test_missing_mission_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="cannot read") as exc:
        load_inputs(path, SIM)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("literal", ["3.0e6", "3e6", "3.0E+6", "3000000"])
def test_exponent_literals_are_numbers(tmp_path: Path, literal: str) -> None:
    text = edited(QUICK_TEXT, "{telemetry: h2_tank_pressure_pa, above: 3.0e6,",
                  f"{{telemetry: h2_tank_pressure_pa, above: {literal},")
    text = edited(text, "  current_a: 15.0",
                  f"  current_a: 15.0\n  max_tank_pressure_pa: {literal}")
    path = write(tmp_path, text)
    cfg = load_inputs(path, SIM).mission
    assert cfg.limits[2].above == 3.0e6
    assert isinstance(cfg.limits[2].above, float)
    assert cfg.electrolysis.max_tank_pressure_pa == 3.0e6
    assert isinstance(cfg.electrolysis.max_tank_pressure_pa, float)


def test_exponent_literal_out_of_range_still_checked(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "  current_a: 15.0",
                  "  current_a: 15.0\n  max_tank_pressure_pa: 1.0e9")
    msg = mission_error(tmp_path, text)
    assert "electrolysis.max_tank_pressure_pa" in msg and "out of range" in msg


# ---- hardware ------------------------------------------------------------------------
def test_hardware_missing_device(tmp_path: Path) -> None:
    text = edited(SIM_TEXT, "  power:            {kind: power_monitor,  noise: 0.05}\n", "")
    msg = hardware_error(tmp_path, text)
    assert "devices" in msg and "missing device 'power'" in msg and "power_monitor" in msg


def test_hardware_wrong_kind(tmp_path: Path) -> None:
    text = edited(SIM_TEXT, "heater_temp:      {kind: thermometer,",
                  "heater_temp:      {kind: pressure_gauge,")
    msg = hardware_error(tmp_path, text)
    assert "devices.heater_temp.kind" in msg
    assert "thermometer" in msg and "pressure_gauge" in msg


def test_hardware_unknown_kind(tmp_path: Path) -> None:
    text = edited(SIM_TEXT, "heater_temp:      {kind: thermometer,",
                  "heater_temp:      {kind: thermocouple,")
    msg = hardware_error(tmp_path, text)
    assert "devices.heater_temp.kind" in msg and "thermocouple" in msg


@pytest.mark.parametrize("value", ["hil", "SIM", "serial_port"])
def test_hardware_unknown_backend(tmp_path: Path, value: str) -> None:
    msg = hardware_error(tmp_path, edited(SIM_TEXT, "backend: sim", f"backend: {value}"))
    assert "backend" in msg and value in msg and "sim" in msg and "serial" in msg


def test_hardware_misspelt_key(tmp_path: Path) -> None:
    msg = hardware_error(tmp_path, edited(SIM_TEXT, "noise: 0.05}", "noize: 0.05}"))
    assert "devices.power.noize" in msg and "did you mean 'noise'" in msg


def _build(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text, "hardware.yaml")
    cfg = load_hardware(path, REQUIRED_DEVICES)
    build_platform(path, cfg, {}, seed=1)


@pytest.mark.parametrize("old, new, key_path", [
    ("channel: heater_temp_k,", "channel: heater_tmp_k,", "devices.heater_temp.channel"),
    ("channel: reservoir_mass_kg,", "channel: reservoir,", "devices.reservoir.channel"),
    ("{kind: heater,         channel: heater}", "{kind: heater, channel: plate}",
     "devices.heater.channel"),
])
def test_hardware_unknown_sim_channel(tmp_path: Path, old: str, new: str, key_path: str) -> None:
    with pytest.raises(ConfigError) as exc:
        _build(tmp_path, edited(SIM_TEXT, old, new))
    msg = str(exc.value)
    assert str(tmp_path / "hardware.yaml") in msg
    assert key_path in msg and "unknown" in msg


def test_hardware_bad_plant_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        _build(tmp_path, edited(SIM_TEXT, "    bus_cap_w: 45.0", "    bus_cap: 45.0"))
    msg = str(exc.value)
    assert "plant.power.bus_cap" in msg and "did you mean 'bus_cap_w'" in msg


def test_serial_backend_needs_its_url(tmp_path: Path) -> None:
    bench = (SIM.parent / "bench-emulator.yaml").read_text(encoding="utf-8")
    text = bench.replace("  url: socket://127.0.0.1:5555", "  #")
    path = write(tmp_path, text, "hardware.yaml")
    inputs = load_inputs(QUICK, path)  # the file itself is valid
    assert inputs.hardware.backend == "serial"
    with pytest.raises(ConfigError) as exc:
        build_platform(path, inputs.hardware, {}, seed=1)
    msg = str(exc.value)
    assert str(path) in msg and "serial" in msg and "url" in msg


def test_sim_platform_builds_every_required_device() -> None:
    cfg = load_hardware(SIM, REQUIRED_DEVICES)
    platform = build_platform(SIM, cfg, {}, seed=1)
    assert set(REQUIRED_DEVICES) <= set(platform.devices)
    assert platform.clock.now_s() == 0.0


def test_timeout_for_a_state_without_one_is_refused(tmp_path: Path) -> None:
    """IDLE and SAFE have no timeout action in the chart: a timeout there could never fire
    anything, so it is a config error rather than a silent no-op."""
    text = edited(QUICK_TEXT, "  EXTRACT_HEAT: {timeout_s: 1200}", "  IDLE: {timeout_s: 1200}")
    msg = mission_error(tmp_path, text)
    assert "timeouts.IDLE" in msg and "without a timeout" in msg


def test_timeout_entry_needs_its_value(tmp_path: Path) -> None:
    text = edited(QUICK_TEXT, "  EXTRACT_HEAT: {timeout_s: 1200}", "  EXTRACT_HEAT: {}")
    msg = mission_error(tmp_path, text)
    assert "timeouts.EXTRACT_HEAT.timeout_s" in msg and "required" in msg

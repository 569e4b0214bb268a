"""hal.registry + hal.sim: hardware YAML -> validated config -> SIL platform of devices."""

from pathlib import Path

import pytest
import yaml

from common.errors import ConfigError
from hal.interfaces import KINDS, Clock
from hal.registry import HardwareConfig, build_platform, load_hardware
from hal.sim import devices as dev

REPO = Path(__file__).resolve().parents[2]
SIM_YAML = REPO / "configs" / "hardware" / "sim.yaml"
SMALL = {"mass_kg": 0.02, "ice_mass_fraction": 0.056, "initial_temp_k": 40.0}

# What flight needs (mirrors flight.channels.REQUIRED_DEVICES without importing flight).
REQUIRED = {
    "heater_temp": "thermometer", "sample_temp": "thermometer", "trap_temp": "thermometer",
    "chamber_pressure": "pressure_gauge", "h2_tank": "pressure_gauge",
    "o2_tank": "pressure_gauge", "reservoir": "mass_gauge", "heater": "heater",
    "trap_heater": "heater", "valve": "valve", "cryocooler": "cryocooler",
    "electrolyzer": "electrolyzer", "power": "power_monitor",
}


def sim_platform(seed: int = 7, sample=None):
    cfg = load_hardware(SIM_YAML, REQUIRED)
    return build_platform(SIM_YAML, cfg, SMALL if sample is None else sample, seed)


def write_yaml(tmp_path: Path, data: dict, name: str = "hw.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def sim_yaml_data() -> dict:
    return yaml.safe_load(SIM_YAML.read_text(encoding="utf-8"))


def build_from(tmp_path: Path, data: dict, required=None):
    p = write_yaml(tmp_path, data)
    cfg = load_hardware(p, {} if required is None else required)
    return p, build_platform(p, cfg, SMALL, 1)


# ---- the shipped sim.yaml ---------------------------------------------------------------


def test_sim_yaml_loads_and_has_every_required_device():
    cfg = load_hardware(SIM_YAML, REQUIRED)
    assert isinstance(cfg, HardwareConfig)
    assert cfg.backend == "sim"
    assert set(REQUIRED) <= set(cfg.devices)
    for role, kind in REQUIRED.items():
        assert cfg.devices[role].kind == kind
    assert cfg.plant == {"power": {"bus_cap_w": 45.0}}
    assert cfg.devices["heater_temp"].noise == 0.1


def test_platform_devices_satisfy_their_protocols():
    platform = sim_platform()
    assert isinstance(platform.clock, Clock)
    assert set(platform.devices) == set(REQUIRED)
    for role, kind in REQUIRED.items():
        assert isinstance(platform.devices[role], KINDS[kind]), (role, kind)
    # and not some unrelated port: a valve is not a heater, a sensor is not a valve
    assert not isinstance(platform.devices["valve"], KINDS["heater"])
    assert not isinstance(platform.devices["heater_temp"], KINDS["valve"])
    platform.close()


def test_mission_sample_reaches_the_plant():
    platform = sim_platform(sample={"mass_kg": 0.02, "ice_mass_fraction": 0.1})
    s = platform.plant.params.sample
    assert s.mass_kg == 0.02 and s.ice_mass_fraction == 0.1
    assert platform.plant.params.power.bus_cap_w == 45.0
    truth = platform.truth()
    assert truth["ice_initial_kg"] == pytest.approx(0.02 * 0.1 / 0.9, rel=1e-12)


# ---- sensor noise -----------------------------------------------------------------------


def _reads(platform, n: int = 50) -> list[float]:
    d = platform.devices
    out = []
    for _ in range(n):
        out += [d["heater_temp"].read_temp_k(), d["trap_temp"].read_temp_k(),
                d["h2_tank"].read_pressure_pa(), d["electrolyzer"].read_voltage_v(),
                d["power"].read_power_w()]
    return out


def test_sensor_noise_is_deterministic_for_a_seed():
    a, b = sim_platform(seed=11), sim_platform(seed=11)
    assert _reads(a) == _reads(b)
    a.advance(1.0)
    b.advance(1.0)
    assert _reads(a) == _reads(b)


def test_sensor_noise_differs_between_seeds():
    ra, rb = _reads(sim_platform(seed=1)), _reads(sim_platform(seed=2))
    assert ra != rb
    assert sum(x != y for x, y in zip(ra, rb, strict=True)) > 0.9 * len(ra)


def test_sensor_noise_has_the_configured_sigma():
    platform = sim_platform(seed=3)
    true_k = platform.plant.sample.temp_k[0]
    xs = [platform.devices["heater_temp"].read_temp_k() for _ in range(4000)]
    mean = sum(xs) / len(xs)
    sd = (sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5
    assert mean == pytest.approx(true_k, abs=0.01)  # 5 sigma of the mean
    assert sd == pytest.approx(0.1, rel=0.1)


def test_noiseless_sensor_reads_the_truth_exactly(tmp_path):
    data = {"backend": "sim", "devices": {
        "t": {"kind": "thermometer", "channel": "trap_temp_k"},
        "m": {"kind": "mass_gauge", "channel": "reservoir_mass_kg"},
    }}
    _, platform = build_from(tmp_path, data)
    assert platform.devices["t"].read_temp_k() == platform.truth()["trap_temp_k"]
    assert platform.devices["m"].read_mass_kg() == 0.0


def test_gauges_never_read_negative():
    """The chamber starts empty (0 Pa) and the reservoir dry (0 kg): noisy readings of
    absolute quantities are clipped at zero, never negative."""
    platform = sim_platform(seed=5)
    d = platform.devices
    p = [d["chamber_pressure"].read_pressure_pa() for _ in range(2000)]
    m = [d["reservoir"].read_mass_kg() for _ in range(2000)]
    assert min(p) >= 0.0 and min(m) >= 0.0
    assert max(p) > 0.0 and max(m) > 0.0  # the noise is really there
    assert sum(x == 0.0 for x in p) > 500  # about half the draws clipped


# ---- actuators drive the plant ----------------------------------------------------------


def test_heaters_drive_plant_inputs():
    platform = sim_platform()
    u = platform.plant.inputs
    platform.devices["heater"].set_power_w(12.5)
    platform.devices["trap_heater"].set_power_w(3.0)
    assert u.heater_power_w == 12.5
    assert u.trap_heater_power_w == 3.0
    platform.devices["heater"].set_power_w(-4.0)
    assert u.heater_power_w == 0.0
    assert u.trap_heater_power_w == 3.0
    platform.devices["heater"].set_power_w(500.0)  # the plant clips to the rating
    platform.advance(1.0)
    assert platform.truth()["heater_power_w"] == platform.plant.params.heater.max_power_w


def test_valve_and_cryocooler_drive_plant_inputs():
    platform = sim_platform()
    u = platform.plant.inputs
    valve, cryo = platform.devices["valve"], platform.devices["cryocooler"]
    assert valve.read_open() is False
    valve.set_open(True)
    assert u.valve_open is True and valve.read_open() is True
    valve.set_open(False)
    assert u.valve_open is False and valve.read_open() is False
    cryo.set_on(True)
    assert u.cryocooler_on is True
    platform.advance(1.0)
    assert platform.plant.trap.cryo_on
    cryo.set_on(False)
    assert u.cryocooler_on is False


def test_electrolyzer_drives_plant_inputs_and_reads_the_stack():
    platform = sim_platform()
    e = platform.devices["electrolyzer"]
    e.set_current_a(15.0)
    assert platform.plant.inputs.electrolyzer_current_a == 15.0
    e.set_current_a(-3.0)
    assert platform.plant.inputs.electrolyzer_current_a == 0.0
    assert e.read_current_a() == platform.plant.stack.current_a == 0.0
    assert e.read_voltage_v() == pytest.approx(platform.plant.stack.voltage_v, abs=0.01)


def test_power_monitor_reads_bus_and_cap():
    platform = sim_platform()
    pm = platform.devices["power"]
    assert pm.read_cap_w() == 45.0
    platform.devices["cryocooler"].set_on(True)
    platform.advance(1.0)
    assert platform.plant.bus_power_w == 12.0
    assert pm.read_power_w() == pytest.approx(12.0, abs=0.5)


# ---- time and truth ---------------------------------------------------------------------


def test_advance_moves_plant_and_clock_together():
    platform = sim_platform()
    assert platform.clock.now_s() == 0.0
    platform.advance(0.5)
    assert platform.clock.now_s() == 0.5
    assert platform.plant.time_s == 0.5
    for _ in range(95):
        platform.advance(0.1)
    assert platform.clock.now_s() == pytest.approx(10.0, abs=1e-12)
    assert platform.plant.time_s == pytest.approx(platform.clock.now_s(), abs=1e-9)
    assert platform.truth()["time_s"] == platform.plant.time_s
    with pytest.raises(ValueError):
        platform.advance(0.0)


def test_truth_has_mass_balance_and_initial_ice():
    platform = sim_platform()
    platform.devices["heater"].set_power_w(25.0)
    platform.devices["valve"].set_open(True)
    platform.devices["cryocooler"].set_on(True)
    for _ in range(300):
        platform.advance(1.0)
    truth = platform.truth()
    assert truth["ice_initial_kg"] == platform.plant.ice_initial_kg > 0.0
    assert abs(truth["mass_balance_error_kg"]) < 1e-12 * truth["ice_initial_kg"]
    assert truth["mass_balance_error_kg"] == platform.plant.mass_balance_error_kg()
    assert truth["heater_energy_j"] == pytest.approx(25.0 * 300.0)  # something happened
    assert truth["heater_temp_k"] > 150.0


# ---- errors -----------------------------------------------------------------------------


def test_missing_device():
    with pytest.raises(ConfigError) as info:
        load_hardware(SIM_YAML, {**REQUIRED, "laser": "heater"})
    assert info.value.where == f"{SIM_YAML}: devices"
    assert "missing device 'laser' (a heater)" in str(info.value)


def test_wrong_kind():
    with pytest.raises(ConfigError) as info:
        load_hardware(SIM_YAML, {**REQUIRED, "valve": "heater"})
    assert info.value.where == f"{SIM_YAML}: devices.valve.kind"
    assert "as a heater, not a valve" in str(info.value)


def test_unknown_kind(tmp_path):
    data = sim_yaml_data()
    data["devices"]["valve"] = {"kind": "vlave"}
    p = write_yaml(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_hardware(p, REQUIRED)
    assert info.value.where == f"{p}: devices.valve.kind"
    assert "not one of" in str(info.value)


@pytest.mark.parametrize("kind, channel, what", [
    ("thermometer", "sample_middle_temp_k", "unknown sim channel"),
    ("pressure_gauge", "", "unknown sim channel"),
    ("heater", "plate", "unknown heater channel"),
])
def test_unknown_channel(tmp_path, kind, channel, what):
    data = sim_yaml_data()
    data["devices"]["x"] = {"kind": kind, "channel": channel}
    p = write_yaml(tmp_path, data)
    cfg = load_hardware(p, REQUIRED)
    with pytest.raises(ConfigError) as info:
        build_platform(p, cfg, SMALL, 1)
    assert info.value.where == f"{p}: devices.x.channel"
    assert what in str(info.value)
    assert repr(channel) in str(info.value)


def test_bad_plant_parameter_out_of_range(tmp_path):
    data = sim_yaml_data()
    data["plant"] = {"sample": {"layers": 1}}
    p = write_yaml(tmp_path, data)
    cfg = load_hardware(p, REQUIRED)
    with pytest.raises(ConfigError) as info:
        build_platform(p, cfg, SMALL, 1)
    assert info.value.where == f"{p}: plant.sample.layers"
    assert "out of range [3, 400]" in str(info.value)


def test_bad_plant_parameter_unknown_key_with_suggestion(tmp_path):
    data = sim_yaml_data()
    data["plant"] = {"heaterr": {}}
    p = write_yaml(tmp_path, data)
    cfg = load_hardware(p, REQUIRED)
    with pytest.raises(ConfigError) as info:
        build_platform(p, cfg, SMALL, 1)
    assert info.value.where == f"{p}: plant.heaterr"
    assert "did you mean 'heater'?" in str(info.value)


def test_plant_override_reaches_the_plant(tmp_path):
    data = sim_yaml_data()
    data["plant"] = {"power": {"bus_cap_w": 20.0}, "trap": {"initial_temp_k": 150.0}}
    _, platform = build_from(tmp_path, data, REQUIRED)
    assert platform.devices["power"].read_cap_w() == 20.0
    assert platform.plant.trap.temp_k == 150.0


@pytest.mark.parametrize("patch, where, text", [
    ({"backend": "simulated"}, "backend", "not one of sim, serial"),
    ({"devices": {"t": {"kind": "thermometer", "channel": "trap_temp_k", "noise": -1.0}}},
     "devices.t.noise", "out of range"),
    ({"devices": {"t": {"kind": "thermometer", "chanel": "trap_temp_k"}}},
     "devices.t.chanel", "did you mean 'channel'?"),
    ({"devices": {"t": {"channel": "trap_temp_k"}}}, "devices.t.kind", "required key"),
])
def test_bad_hardware_yaml(tmp_path, patch, where, text):
    data = {"backend": "sim", "devices": {}} | patch
    p = write_yaml(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_hardware(p, {})
    assert info.value.where == f"{p}: {where}"
    assert text in str(info.value)


def test_devices_section_is_required(tmp_path):
    p = write_yaml(tmp_path, {"backend": "sim"})
    with pytest.raises(ConfigError) as info:
        load_hardware(p, {})
    assert info.value.where == f"{p}: devices"


def test_serial_backend_refuses_a_plant_section(tmp_path):
    """The plant belongs to the board (emulator) on the serial backend."""
    data = sim_yaml_data() | {"backend": "serial"}
    p = write_yaml(tmp_path, data)
    cfg = load_hardware(p, REQUIRED)
    with pytest.raises(ConfigError) as info:
        build_platform(p, cfg, SMALL, 1)
    assert "plant" in info.value.where and "serial" in str(info.value)


def test_missing_hardware_file(tmp_path):
    p = tmp_path / "none.yaml"
    with pytest.raises(ConfigError) as info:
        load_hardware(p, REQUIRED)
    assert info.value.where == str(p)


def test_sensor_channels_all_exist_in_truth():
    """Every sim sensor channel is a quantity the plant's truth() also reports."""
    platform = sim_platform()
    truth = platform.truth()
    for name, read in dev.SENSOR_CHANNELS.items():
        assert name in truth
        assert read(platform.plant) == truth[name]


def test_truth_of_some_keys_is_the_whole_truth_restricted():
    """What the oracles ask for (a few keys, every second) equals those entries of the
    whole truth; the platform's own water balance entries can be asked too; an unknown
    key is a KeyError naming it."""
    from ground.harness.oracles import Oracles

    platform = sim_platform()
    platform.plant.inputs.heater_power_w = 20.0
    for _ in range(50):
        platform.advance(0.1)
    whole = platform.truth()
    keys = Oracles().keys
    assert set(keys) <= set(whole) and len(keys) >= 6
    assert platform.truth(keys) == {k: whole[k] for k in keys}
    both = ("heater_temp_k", "mass_balance_error_kg")
    assert platform.truth(both) == {k: whole[k] for k in both}
    with pytest.raises(KeyError, match="heater_temp_c"):
        platform.truth(["heater_temp_c"])


@pytest.mark.parametrize("sample", [{"mass_kg": -1.0}, {"layers": 1}, {"mass_kgg": 0.02}])
def test_bad_mission_sample_is_a_config_error(sample):
    cfg = load_hardware(SIM_YAML, REQUIRED)
    with pytest.raises(ConfigError):
        build_platform(SIM_YAML, cfg, sample, 1)

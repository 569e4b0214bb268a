"""The mission YAML: schema (dataclasses with units and ranges) and loading.

Loading validates everything before anything runs; an error names the file, the key
path and what was expected (:class:`hal.errors.ConfigError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.errors import ConfigError
from common.schema import load, param, read_yaml


@dataclass(frozen=True)
class HeaterConfig:
    setpoint_k: float = param(300.0, 100.0, 600.0, "heater plate setpoint")
    kp_w_per_k: float = param(0.5, 0.0, 100.0, "proportional gain")
    ki_w_per_k_s: float = param(0.005, 0.0, 10.0, "integral gain")
    max_power_w: float = param(25.0, 0.0, 1000.0, "software limit of the heater")
    cutoff_k: float = param(450.0, 150.0, 900.0, "over-temperature cut-off (controller)")
    rearm_k: float = param(420.0, 100.0, 900.0, "cut-off re-arms below this")
    power_margin_w: float = param(2.0, 0.0, 100.0, "kept free under the rover's cap")


@dataclass(frozen=True)
class CaptureConfig:
    valve_open_pa: float = param(5.0, 0.0, 1e5, "open the valve above this chamber pressure")
    valve_close_pa: float = param(0.05, 0.0, 1e5, "close it again below this")
    trap_max_k: float = param(160.0, 40.0, 300.0, "close the valve while the trap is warmer")
    melt_setpoint_k: float = param(285.0, 274.0, 350.0, "trap temperature while melting")
    melt_power_w: float = param(12.0, 0.0, 500.0, "melt heater power")


@dataclass(frozen=True)
class ElectrolysisConfig:
    current_a: float = param(12.0, 0.0, 1000.0, "stack current setpoint")
    ramp_a_per_s: float = param(1.0, 1e-3, 1000.0, "current ramp rate")
    max_stack_voltage_v: float = param(2.3, 1.3, 100.0, "reduce current above this")
    max_tank_pressure_pa: float = param(2.0e6, 1e4, 1e8, "stop producing above this")


@dataclass(frozen=True)
class PayloadConfig:
    """The payload's design constants flight's own accounting and power budget use
    (docs/operations.md); the defaults are the flight unit's (and the sim plant's)."""

    cryocooler_power_w: float = param(12.0, 0.0, 500.0, "the cryocooler's draw when on")
    trap_heater_max_power_w: float = param(15.0, 0.0, 500.0, "the melt heater's rating")
    stack_cells: int = param(1, 1, 100, "electrolyzer cells in series")
    crossover_current_a: float = param(0.05, 0.0, 100.0, "gas crossover current: the "
                                       "faradaic efficiency is 1 - this / stack current")
    h2_tank_volume_m3: float = param(5.0e-3, 1e-6, 1.0, "hydrogen tank volume")
    o2_tank_volume_m3: float = param(2.5e-3, 1e-6, 1.0, "oxygen tank volume")
    tank_temp_k: float = param(293.15, 100.0, 400.0, "tank gas temperature (held)")
    valve_diameter_m: float = param(0.01, 1e-4, 0.2, "chamber-to-trap orifice")
    chamber_gas_temp_k: float = param(220.0, 100.0, 400.0, "chamber gas (wall) temperature")


@dataclass(frozen=True)
class PhaseConfig:
    timeout_s: float = param(lo=1.0, hi=1e7, doc="mission-time limit of the phase")


@dataclass(frozen=True)
class GuardConfig:
    """Thresholds of the sequencer's guards (see common/dictionary/statechart.yaml)."""

    vapour_seen_pa: float = param(2.0, 0.0, 1e5, "HEAT -> CAPTURE above this pressure")
    trap_ready_k: float = param(130.0, 30.0, 300.0, "CAPTURE needs the trap below this")
    capture_min_s: float = param(300.0, 0.0, 1e6, "stay at least this long in CAPTURE")
    capture_end_pa: float = param(0.2, 0.0, 1e5, "CAPTURE ends below this pressure ...")
    capture_end_temp_k: float = param(250.0, 100.0, 600.0, "... with the sample bottom above this")
    melted_temp_k: float = param(280.0, 274.0, 350.0, "TRANSFER ends with the trap above this")
    water_left_kg: float = param(2.0e-4, 0.0, 10.0, "ELECTROLYZE ends below this reservoir mass")
    min_power_w: float = param(20.0, 0.0, 5000.0, "START needs this much of the rover's cap")


@dataclass(frozen=True)
class LimitConfig:
    """A minimal FDIR limit: a telemetry value out of range for N samples -> response."""

    telemetry: str = param(doc="telemetry name, e.g. heater_temp_k")
    above: float | None = param(None, doc="trip above this")
    below: float | None = param(None, doc="trip below this")
    persistence: int = param(3, 1, 10000, "consecutive samples out of range")
    response: str = param("SAFE", choices=("SAFE", "LOG"), doc="what to do")


@dataclass(frozen=True)
class TimedCommand:
    at_s: float = param(doc="mission time to execute at", lo=0.0)
    name: str = param(doc="command name, see common/dictionary/commands.yaml")
    args: dict[str, Any] = param({}, doc="command arguments")


@dataclass(frozen=True)
class MissionConfig:
    name: str = param(doc="mission name, used in the run directory name")
    seed: int = param(1, 0, 2**32 - 1, "seed of the simulation's random numbers")
    cycle_hz: float = param(10.0, 0.01, 1000.0, "executive rate")
    telemetry_hz: float = param(1.0, 0.001, 1000.0, "housekeeping sample rate")
    max_duration_s: float = param(86400.0, 1.0, 1e8, "the run stops here whatever happens")
    auto_boot: bool = param(True, doc="BOOT -> CHECKOUT -> IDLE without commands "
                            "(false: each step waits for a PROCEED command)")
    sample: dict[str, Any] = param({}, doc="the scooped sample, for a simulated plant: keys "
                                   "of sims/params.py SampleParams (the sim platform "
                                   "validates them; flight never reads them)")
    samples: list[dict[str, Any]] = param([], doc="the scoops after the first, for a "
                                          "simulated plant: scoop k+1 is `sample` with "
                                          "samples[k-1] over it; past the list, `sample` "
                                          "again (LOAD_SAMPLE; docs/operations.md)")
    heater: HeaterConfig = param(HeaterConfig())
    capture: CaptureConfig = param(CaptureConfig())
    electrolysis: ElectrolysisConfig = param(ElectrolysisConfig())
    guards: GuardConfig = param(GuardConfig())
    payload: PayloadConfig = param(PayloadConfig())
    timeouts: dict[str, PhaseConfig] = param({}, doc="per state, e.g. EXTRACT_HEAT")
    fdir: str = param("shipped", doc="FDIR table: 'shipped' (common/dictionary/fdir.yaml), "
                      "a file relative to this one, or '' for none")
    limits: list[LimitConfig] = param([], doc="extra FDIR limit monitors (response SAFE/LOG)")
    commands: list[TimedCommand] = param([], doc="time-tagged commands: the mission's "
                                         "stored sequence, absolute time tags")
    sequence: str = param("", doc="a stored sequence file (relative to this one) the "
                          "mission runs, in place of `commands` (docs/operations.md)")


def load_mission(path: str | Path, telemetry_names: set[str], states: set[str],
                 command_names: set[str]) -> MissionConfig:
    """Read and validate a mission YAML.

    ``telemetry_names``, ``states`` (those with a timeout) and ``command_names`` are what
    the limits, timeouts and timed commands may refer to.

    Raises:
        ConfigError: naming the file and key path of the first problem.
    """
    where = f"{path}:"
    cfg = load(MissionConfig, read_yaml(path), where)
    for i, lim in enumerate(cfg.limits):
        at = f"{path}: limits[{i}]"
        if lim.telemetry not in telemetry_names:
            raise ConfigError(f"{at}.telemetry", f"unknown telemetry {lim.telemetry!r}; "
                              f"known: {', '.join(sorted(telemetry_names))}")
        if lim.above is None and lim.below is None:
            raise ConfigError(at, "a limit needs 'above' or 'below'")
    for state in cfg.timeouts:
        if state not in states:
            raise ConfigError(f"{path}: timeouts.{state}", "unknown state, or a state "
                              f"without a timeout; those with one: {', '.join(sorted(states))}")
    for i, cmd in enumerate(cfg.commands):
        if cmd.name not in command_names:
            raise ConfigError(f"{path}: commands[{i}].name", f"unknown command {cmd.name!r}; "
                              f"known: {', '.join(sorted(command_names))}")
    h = cfg.heater
    if not h.setpoint_k < h.rearm_k < h.cutoff_k:
        raise ConfigError(f"{path}: heater", f"need setpoint_k < rearm_k < cutoff_k, got "
                          f"{h.setpoint_k:g} K, {h.rearm_k:g} K, {h.cutoff_k:g} K")
    if cfg.capture.valve_close_pa > cfg.capture.valve_open_pa:
        raise ConfigError(f"{path}: capture.valve_close_pa", "must not exceed valve_open_pa")
    if cfg.telemetry_hz > cfg.cycle_hz:
        raise ConfigError(f"{path}: telemetry_hz", "must not exceed cycle_hz")
    return cfg

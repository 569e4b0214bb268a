"""Subsystem controllers: heater PI, capture valve/cryocooler/melt heater, electrolysis."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from flight.config import CaptureConfig, ElectrolysisConfig, HeaterConfig, MissionConfig
from flight.subsystems import Subsystems
from flight.subsystems.capture import CaptureController
from flight.subsystems.electrolysis import ElectrolysisController
from flight.subsystems.heater import HeaterController

DT = 0.1


# ---- heater ---------------------------------------------------------------------------
def heater(mode: str = "ON", **cfg: Any) -> HeaterController:
    h = HeaterController(HeaterConfig(**cfg))
    h.set_mode(mode)
    return h


def test_heater_pi_reaches_setpoint_on_a_first_order_plant() -> None:
    """C dT/dt = P - G (T - T_env): needs 16 W at 360 K, within the 25 W limit."""
    c_j_per_k, g_w_per_k, env_k = 10.0, 0.05, 40.0
    h = heater(setpoint_k=360.0)
    temp_k, power_w = env_k, 0.0
    for _ in range(30000):  # 3000 s
        power_w = h.update({"heater_temp_k": temp_k}, DT, 100.0)
        assert 0.0 <= power_w <= 25.0
        temp_k += DT * (power_w - g_w_per_k * (temp_k - env_k)) / c_j_per_k
    assert temp_k == pytest.approx(360.0, abs=0.05)
    assert power_w == pytest.approx(g_w_per_k * (360.0 - env_k), abs=0.05)


def test_heater_runs_at_full_power_far_below_setpoint() -> None:
    h = heater(setpoint_k=360.0, max_power_w=25.0)
    assert h.update({"heater_temp_k": 40.0}, DT, 100.0) == 25.0


def test_heater_power_never_above_max_nor_available_less_margin() -> None:
    rng = random.Random(1)
    h = heater(setpoint_k=400.0, max_power_w=25.0, power_margin_w=2.0, kp_w_per_k=5.0,
               ki_w_per_k_s=1.0)
    for _ in range(5000):
        temp_k = rng.uniform(40.0, 419.0)
        available_w = rng.uniform(-10.0, 60.0)
        p = h.update({"heater_temp_k": temp_k}, DT, available_w)
        assert 0.0 <= p <= 25.0
        assert p <= max(0.0, available_w - 2.0) + 1e-12


def test_heater_limited_by_available_power() -> None:
    h = heater(setpoint_k=360.0, max_power_w=25.0, power_margin_w=2.0)
    assert h.update({"heater_temp_k": 40.0}, DT, 10.0) == pytest.approx(8.0)
    assert h.update({"heater_temp_k": 40.0}, DT, 1.5) == 0.0


def test_subsystems_give_the_heater_only_what_other_loads_leave() -> None:
    subs = Subsystems(MissionConfig(name="t", heater=HeaterConfig(setpoint_k=360.0)))
    subs.apply_modes({"heater": "ON", "valve": "CLOSED", "cryocooler": "ON",
                      "trap_heater": "OFF", "electrolysis": "OFF"})
    r = {"heater_temp_k": 40.0, "chamber_pressure_pa": 0.0, "trap_temp_k": 120.0,
         "h2_tank_pressure_pa": 1e3, "o2_tank_pressure_pa": 1e3, "stack_voltage_v": 1.1,
         "bus_power_w": 30.0, "bus_cap_w": 45.0}
    # 30 W drawn by others (avionics: nothing flight commanded last cycle), the
    # cryocooler switched on this very cycle (12 W), a 2 W margin: 1 W left for the heater
    out = subs.update(r, DT)
    assert out["heater_power_w"] == pytest.approx(1.0)
    # next cycle the bus shows them all: the cryocooler's and the heater's own draw are
    # not "others", so the heater keeps what is left
    r["bus_power_w"] = 30.0 + 12.0 + out["heater_power_w"]
    assert subs.update(r, DT)["heater_power_w"] == pytest.approx(1.0)
    # the rover's allocation, lower than the monitor's 45 W: 40 - 2 - 30 = 8 W cannot
    # carry the cryocooler (12 W): it is shed, and the plate heater waits with it (heating
    # with no cold trap would only fill the chamber)
    subs.set_power_cap(40.0)
    out = subs.update(r, DT)
    assert subs.cap_w == 40.0 and out["cryocooler_on"] is False
    assert out["heater_power_w"] == 0.0
    r["bus_cap_w"] = 30.0  # the monitor's cap lower still: it is the one in force
    subs.update(r, DT)
    assert subs.cap_w == 30.0


def test_heater_off_gives_zero() -> None:
    h = heater("OFF", setpoint_k=360.0)
    for temp_k in (40.0, 200.0, 359.0):
        assert h.update({"heater_temp_k": temp_k}, DT, 100.0) == 0.0


def test_heater_off_resets_integral() -> None:
    h = heater(setpoint_k=360.0, kp_w_per_k=0.0, ki_w_per_k_s=0.01)
    for _ in range(100):
        h.update({"heater_temp_k": 359.0}, DT, 100.0)
    assert h.integral_k_s > 0.0
    h.set_mode("OFF")
    h.set_mode("ON")
    assert h.update({"heater_temp_k": 359.0}, DT, 100.0) == 0.0


def test_heater_cutoff_latches_and_rearms_only_below_rearm() -> None:
    h = heater(setpoint_k=400.0, cutoff_k=450.0, rearm_k=420.0)
    assert h.update({"heater_temp_k": 380.0}, DT, 100.0) > 0.0
    assert h.update({"heater_temp_k": 449.9}, DT, 100.0) == 0.0  # above setpoint anyway
    assert not h.cut_off
    assert h.update({"heater_temp_k": 450.0}, DT, 100.0) == 0.0
    assert h.cut_off
    # latched: even far below setpoint... as long as not below rearm_k
    for temp_k in (440.0, 430.0, 420.0):
        assert h.update({"heater_temp_k": temp_k}, DT, 100.0) == 0.0
        assert h.cut_off
    assert h.update({"heater_temp_k": 380.0}, DT, 100.0) > 0.0
    assert not h.cut_off


def test_heater_cutoff_latches_whatever_the_mode() -> None:
    h = heater("OFF", setpoint_k=400.0, cutoff_k=450.0, rearm_k=420.0)
    h.update({"heater_temp_k": 460.0}, DT, 100.0)
    h.set_mode("ON")
    assert h.update({"heater_temp_k": 430.0}, DT, 100.0) == 0.0
    assert h.cut_off


def test_heater_zero_on_nan_reading() -> None:
    h = heater(setpoint_k=360.0)
    assert h.update({"heater_temp_k": 40.0}, DT, 100.0) > 0.0
    assert h.update({"heater_temp_k": math.nan}, DT, 100.0) == 0.0
    assert h.update({"heater_temp_k": 40.0}, DT, 100.0) > 0.0


def test_heater_zero_on_failed_reading() -> None:
    h = heater(setpoint_k=360.0)
    assert h.update({"heater_temp_k": None}, DT, 100.0) == 0.0


@pytest.mark.parametrize("setpoint_k", [0.0, -5.0, 420.0, 450.0, 600.0])
def test_heater_setpoint_out_of_range(setpoint_k: float) -> None:
    h = heater(rearm_k=420.0, cutoff_k=450.0, setpoint_k=330.0)
    with pytest.raises(ValueError, match="setpoint_k"):
        h.set_setpoint_k(setpoint_k)
    assert h.setpoint_k == 330.0


def test_heater_setpoint_accepted_and_used() -> None:
    h = heater(setpoint_k=330.0, kp_w_per_k=1.0, ki_w_per_k_s=0.0)
    h.set_setpoint_k(340.0)
    assert h.setpoint_k == 340.0
    assert h.update({"heater_temp_k": 335.0}, DT, 100.0) == pytest.approx(5.0)


# ---- capture --------------------------------------------------------------------------
def capture(valve: str = "CAPTURE", cryo: str = "ON", melt: str = "OFF",
            **cfg: Any) -> CaptureController:
    c = CaptureController(CaptureConfig(**cfg))
    c.set_modes(valve, cryo, melt)
    return c


def cap_update(c: CaptureController, p_pa: float, trap_k: float = 100.0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    c.update({"chamber_pressure_pa": p_pa, "trap_temp_k": trap_k}, out)
    return out


def test_valve_hysteresis() -> None:
    c = capture(valve_open_pa=5.0, valve_close_pa=0.05)
    assert cap_update(c, 4.0)["valve_open"] is False  # between: stays closed
    assert cap_update(c, 5.0)["valve_open"] is False  # needs strictly above open
    assert cap_update(c, 5.1)["valve_open"] is True
    assert cap_update(c, 1.0)["valve_open"] is True   # between: stays open
    assert cap_update(c, 0.05)["valve_open"] is True
    assert cap_update(c, 0.04)["valve_open"] is False
    assert cap_update(c, 1.0)["valve_open"] is False


def test_valve_closes_when_trap_too_warm() -> None:
    c = capture(valve_open_pa=5.0, valve_close_pa=0.05, trap_max_k=160.0)
    assert cap_update(c, 10.0, trap_k=100.0)["valve_open"] is True
    assert cap_update(c, 10.0, trap_k=160.5)["valve_open"] is False
    assert cap_update(c, 10.0, trap_k=170.0)["valve_open"] is False  # warm: never opens
    assert cap_update(c, 10.0, trap_k=150.0)["valve_open"] is True


def test_closed_mode_forces_valve_closed() -> None:
    c = capture(valve_open_pa=5.0)
    assert cap_update(c, 10.0)["valve_open"] is True
    c.set_modes("CLOSED", "ON", "OFF")
    assert c.valve_open is False
    assert cap_update(c, 1000.0)["valve_open"] is False


@pytest.mark.parametrize("trap_k", [None, math.nan])
def test_valve_closes_when_trap_temperature_unknown(trap_k: float | None) -> None:
    c = capture(valve_open_pa=5.0)
    assert cap_update(c, 10.0)["valve_open"] is True
    out: dict[str, Any] = {}
    c.update({"chamber_pressure_pa": 10.0, "trap_temp_k": trap_k}, out)
    assert out["valve_open"] is False


@pytest.mark.parametrize("p_pa", [None, math.nan])
def test_valve_holds_when_pressure_unknown(p_pa: float | None) -> None:
    for start_p, is_open in ((10.0, True), (1.0, False)):
        c = capture(valve_open_pa=5.0, valve_close_pa=0.05)
        assert cap_update(c, start_p)["valve_open"] is is_open
        out: dict[str, Any] = {}
        c.update({"chamber_pressure_pa": p_pa, "trap_temp_k": 100.0}, out)
        assert out["valve_open"] is is_open


@pytest.mark.parametrize("mode, on", [("ON", True), ("OFF", False)])
def test_cryocooler_follows_mode(mode: str, on: bool) -> None:
    c = capture("CLOSED", mode, "OFF")
    assert cap_update(c, 0.0, trap_k=300.0)["cryocooler_on"] is on
    assert cap_update(c, 0.0, trap_k=50.0)["cryocooler_on"] is on


def test_melt_heater_only_in_melt_below_setpoint() -> None:
    c = capture("CLOSED", "OFF", "MELT", melt_setpoint_k=285.0, melt_power_w=12.0)
    assert cap_update(c, 0.0, trap_k=200.0)["trap_heater_power_w"] == 12.0
    assert cap_update(c, 0.0, trap_k=284.9)["trap_heater_power_w"] == 12.0
    assert cap_update(c, 0.0, trap_k=285.0)["trap_heater_power_w"] == 0.0
    assert cap_update(c, 0.0, trap_k=290.0)["trap_heater_power_w"] == 0.0
    c.set_modes("CLOSED", "OFF", "OFF")
    assert cap_update(c, 0.0, trap_k=200.0)["trap_heater_power_w"] == 0.0


# ---- electrolysis ----------------------------------------------------------------------
def ely_readings(**kw: float) -> dict[str, float]:
    r = {"stack_voltage_v": 1.8, "h2_tank_pressure_pa": 1e5, "o2_tank_pressure_pa": 1e5,
         "bus_power_w": 0.0, "bus_cap_w": 1000.0}
    r.update(kw)
    return r


def electrolysis(mode: str = "RUN", **cfg: Any) -> ElectrolysisController:
    e = ElectrolysisController(ElectrolysisConfig(**cfg))
    e.set_mode(mode)
    return e


def ely_step(e: ElectrolysisController, r: dict[str, float], dt_s: float = DT) -> float:
    out: dict[str, Any] = {}
    e.update(r, dt_s, out)
    return out["electrolyzer_current_a"]


def test_electrolysis_ramps_at_the_ramp_rate() -> None:
    e = electrolysis(current_a=12.0, ramp_a_per_s=1.0)
    r = ely_readings()
    currents = [ely_step(e, r) for _ in range(200)]
    for prev, cur in zip([0.0, *currents], currents, strict=False):
        assert cur - prev <= 1.0 * DT + 1e-12
    assert currents[9] == pytest.approx(1.0)   # 1 s at 1 A/s
    assert currents[59] == pytest.approx(6.0)
    assert currents[-1] == pytest.approx(12.0)
    assert max(currents) <= 12.0 + 1e-12


def test_electrolysis_derates_above_max_stack_voltage() -> None:
    e = electrolysis(current_a=10.0, ramp_a_per_s=100.0, max_stack_voltage_v=2.3)
    assert ely_step(e, ely_readings(stack_voltage_v=2.0)) == pytest.approx(10.0)
    assert ely_step(e, ely_readings(stack_voltage_v=2.0)) == pytest.approx(10.0)
    # 10 %/s of the setpoint while above the limit
    currents = [ely_step(e, ely_readings(stack_voltage_v=2.5)) for _ in range(10)]
    assert currents[0] == pytest.approx(9.9)
    assert currents[-1] == pytest.approx(9.0)
    assert all(b < a for a, b in zip(currents, currents[1:], strict=False))
    # never below 10 % of the setpoint
    for _ in range(200):
        last = ely_step(e, ely_readings(stack_voltage_v=2.5))
    assert last == pytest.approx(1.0)
    # OFF resets the derating
    e.set_mode("OFF")
    e.set_mode("RUN")
    assert ely_step(e, ely_readings(stack_voltage_v=2.0)) == pytest.approx(10.0)


@pytest.mark.parametrize("tank", ["h2_tank_pressure_pa", "o2_tank_pressure_pa"])
def test_electrolysis_zero_above_tank_pressure_limit(tank: str) -> None:
    e = electrolysis(current_a=10.0, ramp_a_per_s=100.0, max_tank_pressure_pa=2.0e6)
    assert ely_step(e, ely_readings()) == pytest.approx(10.0)
    assert ely_step(e, ely_readings(**{tank: 2.0e6})) == 0.0
    assert e.current_a == 0.0
    assert ely_step(e, ely_readings(**{tank: 1.9e6})) == pytest.approx(10.0)


@pytest.mark.parametrize("tank", ["h2_tank_pressure_pa", "o2_tank_pressure_pa"])
@pytest.mark.parametrize("bad", [math.nan, None])
def test_electrolysis_zero_on_unknown_tank_pressure(tank: str, bad: float | None) -> None:
    e = electrolysis(current_a=10.0, ramp_a_per_s=100.0, max_tank_pressure_pa=2.0e6)
    assert ely_step(e, ely_readings()) == pytest.approx(10.0)
    r: dict[str, Any] = ely_readings()
    r[tank] = bad
    assert ely_step(e, r) == 0.0
    assert e.current_a == 0.0


def test_electrolysis_current_bounded_by_power_cap() -> None:
    e = electrolysis(current_a=12.0, ramp_a_per_s=100.0)
    volts, cap_w, others_w = 2.0, 20.0, 5.0
    current = 0.0
    for _ in range(50):  # the monitor sees the other loads plus the stack's own draw
        r = ely_readings(stack_voltage_v=volts, bus_cap_w=cap_w,
                         bus_power_w=others_w + current * volts)
        current = ely_step(e, r)
        assert current * volts <= cap_w - others_w - 1.0 + 1e-9
    assert current == pytest.approx((cap_w - others_w - 1.0) / volts)


def test_electrolysis_never_negative_when_cap_exhausted() -> None:
    e = electrolysis(current_a=12.0)
    assert ely_step(e, ely_readings(bus_cap_w=10.0, bus_power_w=50.0)) == 0.0


def test_electrolysis_off_gives_zero() -> None:
    e = electrolysis(current_a=12.0, ramp_a_per_s=100.0)
    assert ely_step(e, ely_readings()) > 0.0
    e.set_mode("OFF")
    assert e.current_a == 0.0
    assert ely_step(e, ely_readings()) == 0.0


# ---- all together ----------------------------------------------------------------------
ALL_ON = {"heater": "ON", "valve": "CAPTURE", "cryocooler": "ON", "trap_heater": "MELT",
          "electrolysis": "RUN"}
GOOD = {"heater_temp_k": 200.0, "chamber_pressure_pa": 10.0, "trap_temp_k": 100.0,
        "h2_tank_pressure_pa": 1e5, "o2_tank_pressure_pa": 1e5, "stack_voltage_v": 1.8,
        "bus_power_w": 5.0, "bus_cap_w": 1000.0}


def test_subsystems_command_nothing_when_every_reading_failed() -> None:
    subs = Subsystems(MissionConfig(name="t"))
    subs.apply_modes(ALL_ON)
    out = subs.update(GOOD, DT)
    assert out["heater_power_w"] > 0.0 and out["valve_open"] is True
    assert out["trap_heater_power_w"] > 0.0 and out["electrolyzer_current_a"] > 0.0
    out = subs.update(dict.fromkeys(GOOD), DT)
    assert out["heater_power_w"] == 0.0
    assert out["valve_open"] is False
    assert out["trap_heater_power_w"] == 0.0
    assert out["electrolyzer_current_a"] == 0.0
    assert out["cryocooler_on"] is True  # follows the mode


@pytest.mark.parametrize("key", ["bus_power_w", "bus_cap_w"])
def test_unknown_bus_reading_leaves_heater_nothing(key: str) -> None:
    subs = Subsystems(MissionConfig(name="t"))
    subs.apply_modes(ALL_ON)
    assert subs.update(GOOD, DT)["heater_power_w"] > 0.0
    assert subs.update({**GOOD, key: None}, DT)["heater_power_w"] == 0.0


def test_subsystems_off_modes_command_nothing() -> None:
    subs = Subsystems(MissionConfig(name="t"))
    subs.apply_modes(ALL_ON)
    subs.update(GOOD, DT)
    subs.apply_modes({"heater": "OFF", "valve": "CLOSED", "cryocooler": "OFF",
                      "trap_heater": "OFF", "electrolysis": "OFF"})
    out = subs.update(GOOD, DT)
    assert out == {"heater_enabled": False, "heater_power_w": 0.0, "valve_open": False,
                   "cryocooler_on": False, "trap_heater_enabled": False,
                   "trap_heater_power_w": 0.0, "electrolyzer_current_a": 0.0}


# ---- modes ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: HeaterController(HeaterConfig()).set_mode("on"),
    lambda: HeaterController(HeaterConfig()).set_mode("RUN"),
    lambda: CaptureController(CaptureConfig()).set_modes("OPEN", "ON", "OFF"),
    lambda: CaptureController(CaptureConfig()).set_modes("CAPTURE", "MELT", "OFF"),
    lambda: CaptureController(CaptureConfig()).set_modes("CAPTURE", "ON", "ON"),
    lambda: ElectrolysisController(ElectrolysisConfig()).set_mode("ON"),
    lambda: ElectrolysisController(ElectrolysisConfig()).set_mode(""),
])
def test_bad_mode_strings_raise(call: Any) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        call()

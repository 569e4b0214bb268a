"""Board sessions and the link-loss watchdog of the emulator (ICD 3 and 4, RESET)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from common.clock import SteppedClock, WallClock
from ground.gse.board_server import BOARD_DEVICES
from ground.gse.emulator import BoardEmulator
from hal.registry import load_hardware
from hal.serial import icd
from hal.serial.framing import tc
from hal.sim.backend import SimPlatform, build

REPO = Path(__file__).resolve().parents[2]
SIM_YAML = REPO / "configs" / "hardware" / "sim.yaml"
SMALL = {"mass_kg": 0.02, "ice_mass_fraction": 0.056, "initial_temp_k": 40.0}
A, S, ST = icd.Apid, icd.Service, icd.Status


def quiet_platform() -> SimPlatform:
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    devices = {r: dataclasses.replace(d, noise=0.0) for r, d in cfg.devices.items()}
    return build("sim.yaml:", cfg.plant, devices, SMALL, 1)


class Board:
    def __init__(self, **kw: object) -> None:
        self.clock = SteppedClock()
        self.events: list[str] = []
        self.emu = BoardEmulator(quiet_platform(), clock=self.clock,
                                 on_event=self.events.append, **kw)  # type: ignore[arg-type]
        self.seq = 0

    def send(self, apid: int, service: int, payload: bytes = b"") -> icd.Status:
        self.seq += 1
        reply = self.emu.handle(tc(apid, self.seq, service, payload))
        assert reply is not None
        return icd.Status(reply.status)

    def heat(self) -> None:
        assert self.send(A.HEATER, S.SET_POWER, icd.POWER_LAYOUT.pack({"power_w": 20.0})) \
            == ST.OK
        assert self.send(A.CRYOCOOLER, S.SET_ON, b"\x01") == ST.OK
        assert self.send(A.VALVE, S.SET_OPEN, b"\x01") == ST.OK


def test_reset_gives_a_fresh_plant_and_says_how_the_board_keeps_time():
    b = Board(platform_factory=quiet_platform)
    b.heat()
    for _ in range(50):
        assert b.send(A.SYSTEM, S.TIME_SYNC, icd.TIME_SYNC_LAYOUT.pack({"dt_s": 10.0})) \
            == ST.OK
    hot = b.emu.platform.plant.sample.plate_temp_k
    assert hot > 100.0
    b.seq += 1
    reply = b.emu.handle(tc(A.SYSTEM, b.seq, S.RESET))
    assert reply is not None and reply.status == ST.OK
    info = icd.RESET_LAYOUT.unpack(reply.payload)
    assert info == {"lockstep": 1.0, "speed": 1.0, "watchdog_s": 2.0}
    fresh = b.emu.platform
    assert fresh.plant.sample.plate_temp_k == pytest.approx(40.0)
    assert fresh.clock.now_s() == 0.0
    assert not fresh.plant.inputs.cryocooler_on and fresh.plant.inputs.heater_power_w == 0.0
    assert b.events == ["session reset: a fresh plant"] and b.emu.stats.resets == 1


def test_reset_without_a_factory_turns_every_actuator_off_and_keeps_the_plant():
    b = Board()
    b.heat()
    plant = b.emu.platform.plant
    assert b.send(A.SYSTEM, S.RESET) == ST.OK
    assert b.emu.platform.plant is plant
    i = plant.inputs
    assert (i.heater_power_w, i.cryocooler_on, i.valve_open, i.heater_enabled) == \
        (0.0, False, False, False)


def test_the_watchdog_turns_everything_off_after_the_link_goes_quiet():
    b = Board(watchdog_s=2.0)
    b.heat()
    b.clock.advance(1.9)
    b.emu.poll()
    assert b.emu.platform.plant.inputs.heater_power_w == 20.0  # not yet
    assert b.send(A.SYSTEM, S.PING) == ST.OK  # any TC feeds the watchdog
    b.clock.advance(1.9)
    b.emu.poll()
    assert b.emu.stats.watchdog_trips == 0
    b.clock.advance(0.2)  # 2.1 s since the PING
    b.emu.poll()
    i = b.emu.platform.plant.inputs
    assert (i.heater_power_w, i.cryocooler_on, i.valve_open) == (0.0, False, False)
    assert b.emu.stats.watchdog_trips == 1
    assert b.events == ["watchdog: no TC for 2 s, every actuator off (was on: heater_power_w "
                        "20, valve_open, cryocooler_on)"]
    b.clock.advance(10.0)
    b.emu.poll()  # disarmed until the next TC: one trip, one line
    assert b.emu.stats.watchdog_trips == 1 and len(b.events) == 1


def test_a_quiet_link_with_everything_off_trips_without_a_word():
    b = Board()
    assert b.send(A.SYSTEM, S.PING) == ST.OK
    b.clock.advance(5.0)
    b.emu.poll()
    assert b.emu.stats.watchdog_trips == 1 and b.events == []


@pytest.mark.parametrize(("kw", "words"), [
    ({"speed": 0.0}, "speed"), ({"speed": 1000.0}, "speed"),
    ({"watchdog_s": 0.0}, "watchdog_s"), ({"watchdog_s": 1e4}, "watchdog_s"),
])
def test_speed_and_watchdog_must_fit_the_reset_reply(kw, words):
    with pytest.raises(ValueError, match=words):
        BoardEmulator(quiet_platform(), "realtime", **kw)  # type: ignore[arg-type]


def test_a_wall_clock_at_speed_runs_that_much_faster():
    c = WallClock(50.0)
    t0 = c.now_s()
    c.sleep_until(t0 + 5.0)  # 5 s of board time: 0.1 s of wall time
    assert 5.0 <= c.now_s() - t0 < 10.0
    with pytest.raises(ValueError, match="speed"):
        WallClock(0.0)

"""The sample exchange (hal.interfaces.SampleExchange): the SIL platform's scoops, the
mission's `samples:` validated and resolved, and LOAD_SAMPLE over the wire to the board
emulator (a pty, lockstep), with its NACKs."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.clock import SteppedClock
from common.errors import ConfigError
from ground.gse.board_server import BOARD_DEVICES, load_board_platform
from ground.gse.emulator import BoardEmulator
from hal.errors import DeviceTimeout, HalError
from hal.interfaces import SampleExchange, SampleExchangeError, sample_exchange_of
from hal.registry import build_platform, load_hardware
from hal.serial import icd
from hal.serial.backend import SerialPlatform, open_session
from hal.serial.board import Board
from hal.serial.framing import tc
from hal.serial.link import Nack
from hal.sim.backend import SimPlatform, mission_sample, mission_samples, resolved_sample

REPO = Path(__file__).resolve().parents[2]
SIM_YAML = REPO / "configs" / "hardware" / "sim.yaml"
BENCH_YAML = REPO / "configs" / "hardware" / "bench-emulator.yaml"
SAMPLE = {"mass_kg": 0.02, "ice_mass_fraction": 0.05, "layers": 8}
SAMPLES = [{"ice_mass_fraction": 0.1}, {"mass_kg": 0.03, "initial_temp_k": 60.0}]
A, S, ST = icd.Apid, icd.Service, icd.Status


def ice_kg(mass_kg: float, fraction: float) -> float:
    return mass_kg * fraction / (1.0 - fraction)


def sil_platform(samples: list[dict[str, Any]] = SAMPLES) -> SimPlatform:
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    resolved = mission_samples(SAMPLE, samples, cfg.plant, "m.yaml:")
    p = build_platform(SIM_YAML, cfg, resolved_sample(cfg.plant, SAMPLE), 1, samples=resolved)
    assert isinstance(p, SimPlatform)
    return p


# ---- the SIL platform ---------------------------------------------------------------------


def test_sil_scoops_come_in_order_then_the_first_again() -> None:
    p = sil_platform()
    q: object = p
    assert sample_exchange_of(q) is q and isinstance(q, SampleExchange)
    assert p.truth(["samples_loaded"]) == {"samples_loaded": 1.0}
    first = p.plant.params.sample
    p.plant.inputs.heater_power_w = 20.0
    for _ in range(30):
        p.advance(0.1)
    assert p.load_sample() == 2
    s = p.plant.params.sample
    assert s.ice_mass_fraction == SAMPLES[0]["ice_mass_fraction"]  # samples[0]'s
    assert (s.mass_kg, s.layers) == (0.02, 8)  # the mission's sample under it
    t = p.truth()
    assert t["samples_loaded"] == 2.0
    assert t["sample_ice_kg"] == pytest.approx(ice_kg(0.02, 0.1), rel=1e-12)
    assert p.load_sample() == 3
    s = p.plant.params.sample
    assert (s.mass_kg, s.initial_temp_k, s.ice_mass_fraction) == (0.03, 60.0, 0.05)
    assert p.plant.sample.bottom_temp_k == 60.0  # (the plate is the crucible's: kept)
    assert p.load_sample() == 4  # past the list: the first scoop again
    assert p.plant.params.sample == first
    t = p.truth()
    loaded = ice_kg(0.02, 0.05) * 2 + ice_kg(0.02, 0.1) + ice_kg(0.03, 0.05)
    assert t["ice_initial_kg"] == pytest.approx(loaded, rel=1e-12)
    assert abs(t["mass_balance_error_kg"]) < 1e-12 * loaded
    assert t["samples_loaded"] == 4.0


def test_without_samples_every_scoop_is_the_first() -> None:
    p = sil_platform([])
    assert p.load_sample() == 2 and p.load_sample() == 3
    assert p.plant.params.sample.ice_mass_fraction == 0.05


def test_the_capability_is_found_through_a_delegating_wrapper() -> None:
    """The harness hands flight the platform behind a wrapper that delegates attributes
    (__getattr__); the capability is still found, and a platform without it is None."""

    class Wrapper:
        def __init__(self, inner: object) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

    w = Wrapper(sil_platform())
    exchange = sample_exchange_of(w)
    assert exchange is w and exchange.load_sample() == 2
    assert sample_exchange_of(Wrapper(object())) is None
    assert sample_exchange_of(object()) is None
    assert issubclass(SampleExchangeError, HalError)


def test_mission_samples_are_resolved_over_the_mission_sample_and_the_hardware() -> None:
    plant_cfg = {"sample": {"layers": 12, "porosity": 0.4}}
    out = mission_samples({"mass_kg": 0.02, "layers": 9}, [{"ice_mass_fraction": 0.2}, {}],
                          plant_cfg, "m.yaml:")
    assert out[0] == resolved_sample(plant_cfg, {"mass_kg": 0.02, "layers": 9,
                                                 "ice_mass_fraction": 0.2})
    assert (out[0]["mass_kg"], out[0]["layers"], out[0]["porosity"],
            out[0]["ice_mass_fraction"]) == (0.02, 9, 0.4, 0.2)
    assert out[1]["ice_mass_fraction"] == 0.056 and out[1]["layers"] == 9
    assert mission_samples({}, [], plant_cfg, "m.yaml:") == []
    # typed as mission_sample types them (an int where a float is due)
    assert mission_samples({}, [{"mass_kg": 1}], {}, "m.yaml:")[0]["mass_kg"] == \
        mission_sample({"mass_kg": 1}, "x")["mass_kg"]


@pytest.mark.parametrize(("samples", "where"), [
    ([{}, {"mass_kgs": 0.1}], "m.yaml: samples[1].mass_kgs"),
    ([{"ice_mass_fraction": 0.9}], "m.yaml: samples[0].ice_mass_fraction"),
    ([{"layers": "many"}], "m.yaml: samples[0].layers"),
    ([{}, {}, 0.2], "m.yaml: samples[2]"),
])
def test_mission_samples_errors_name_the_entry_and_key(samples: list[Any], where: str
                                                        ) -> None:
    for prefix in ("m.yaml:", "m.yaml: samples"):
        with pytest.raises(ConfigError) as err:
            mission_samples({}, samples, {}, prefix)
        assert err.value.where == where


def test_build_refuses_a_bad_sample_naming_it() -> None:
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    with pytest.raises(ConfigError, match=re.escape("mission: samples[1].layers")):
        build_platform(SIM_YAML, cfg, SAMPLE, 1, samples=[{}, {"layers": 1}])


# ---- the board emulator, in process ------------------------------------------------------


def mission_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"name": "scoops", "seed": 3, "sample": SAMPLE,
                                    "samples": SAMPLES}), encoding="utf-8")
    return path


def test_emulator_loads_each_scoop_once_and_refuses_a_payload(tmp_path: Path) -> None:
    m = mission_yaml(tmp_path)
    events: list[str] = []
    emu = BoardEmulator(load_board_platform(m, SIM_YAML), "lockstep", on_event=events.append)

    def scoop(seq: int, payload: bytes = b"") -> tuple[int, int | None]:
        reply = emu.handle(tc(A.SYSTEM, seq, S.LOAD_SAMPLE, payload))
        assert reply is not None and reply.service == S.LOAD_SAMPLE
        status = reply.status
        assert status is not None
        if status != ST.OK:
            return status, None
        return status, round(icd.SAMPLE_LAYOUT.unpack(reply.payload)["scoop"])

    assert scoop(5) == (ST.OK, 2)
    assert scoop(5) == (ST.OK, 2)  # a retry: answered from memory, not a third scoop
    assert emu.platform.plant.samples_loaded == 2 and emu.stats.duplicates == 1
    assert scoop(6, b"\x01") == (ST.BAD_LENGTH, None)
    assert scoop(7) == (ST.OK, 3)
    assert scoop(8) == (ST.OK, 4)
    assert emu.platform.plant.params.sample.ice_mass_fraction == 0.05  # the base again
    assert events == ["sample loaded: scoop 2", "sample loaded: scoop 3",
                      "sample loaded: scoop 4"]


def test_a_bad_samples_list_in_the_mission_is_a_config_error(tmp_path: Path) -> None:
    m = tmp_path / "m.yaml"
    m.write_text(yaml.safe_dump({"name": "x", "samples": [{"porosity": 2.0}]}), "utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{m}: samples[0].porosity")):
        load_board_platform(m, SIM_YAML)
    m.write_text(yaml.safe_dump({"name": "x", "samples": {"porosity": 0.3}}), "utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{m}: samples")):
        load_board_platform(m, SIM_YAML)


# ---- over a pty, with the serial drivers ------------------------------------------------


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[tuple[BoardEmulator, SerialPlatform]]:
    """The emulator (lockstep, a fresh plant per session) on a pty and the serial
    platform of bench-emulator.yaml connected to it; yields (emulator, platform)."""
    m = mission_yaml(tmp_path)
    emu = BoardEmulator(load_board_platform(m, SIM_YAML), "lockstep",
                        platform_factory=lambda: load_board_platform(m, SIM_YAML))
    pty = emu.serve_pty()
    emu.start()
    try:
        cfg = load_hardware(BENCH_YAML, BOARD_DEVICES)
        cfg = dataclasses.replace(cfg, serial={**cfg.serial, "url": pty, "timeout_s": 0.5})
        platform = build_platform(BENCH_YAML, cfg, {}, 1)
        assert isinstance(platform, SerialPlatform)
        try:
            yield emu, platform
        finally:
            platform.close()
    finally:
        emu.stop()


def test_load_sample_over_the_wire_then_reset_starts_at_scoop_one(
        bench: tuple[BoardEmulator, SerialPlatform]) -> None:
    emu, p = bench
    q: object = p
    assert sample_exchange_of(q) is q
    p.advance(0.1)
    assert p.load_sample() == 2
    truth = emu.platform.truth()
    assert truth["samples_loaded"] == 2.0
    assert truth["sample_ice_kg"] == pytest.approx(ice_kg(0.02, 0.1), rel=1e-12)
    assert p.load_sample() == 3
    truth = emu.platform.truth()
    assert truth["sample_ice_kg"] == pytest.approx(ice_kg(0.03, 0.05), rel=1e-12)
    assert truth["ice_initial_kg"] == pytest.approx(
        ice_kg(0.02, 0.05) + ice_kg(0.02, 0.1) + ice_kg(0.03, 0.05), rel=1e-12)
    p.advance(0.1)
    assert p.diagnostics()["link_nacks"] == 0
    # a new session: a fresh plant, scoop 1 again
    open_session(p.board, "bench:", "lockstep")
    assert emu.platform.truth(["samples_loaded"]) == {"samples_loaded": 1.0}
    assert p.load_sample() == 2
    assert emu.platform.plant.params.sample.ice_mass_fraction == 0.1


def test_a_board_that_fails_the_exchange_nacks_and_flight_gets_the_error(
        bench: tuple[BoardEmulator, SerialPlatform]) -> None:
    emu, p = bench

    def broken() -> int:
        raise RuntimeError("crucible jammed")

    emu.platform.load_sample = broken  # type: ignore[method-assign]
    with pytest.raises(SampleExchangeError, match=r"refused LOAD_SAMPLE \(DEVICE_FAULT\)"):
        p.load_sample()
    assert any("crucible jammed" in e for e in emu.stats.errors)


# ---- the serial platform against a scripted link -----------------------------------------


class ScriptedLink:
    """Housekeeping fails quietly; LOAD_SAMPLE gets ``reply`` (bytes, or raised)."""

    def __init__(self, reply: bytes | Exception) -> None:
        self.reply = reply

    def request(self, apid: int, service: int, payload: bytes = b"") -> bytes:
        if service != S.LOAD_SAMPLE:
            raise DeviceTimeout("SYSTEM", "scripted")
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


@pytest.mark.parametrize(("reply", "words"), [
    (b"\x00\x07", None),
    (Nack(A.SYSTEM, S.LOAD_SAMPLE, 4, ST.UNKNOWN_SERVICE),
     r"refused LOAD_SAMPLE \(UNKNOWN_SERVICE\): its firmware predates the sample exchange"),
    (Nack(A.SYSTEM, S.LOAD_SAMPLE, 4, ST.DEVICE_FAULT), r"\(DEVICE_FAULT\)"),
    (DeviceTimeout("SYSTEM (0x010)", "no reply to LOAD_SAMPLE"),
     "LOAD_SAMPLE not confirmed, the board's scoop count is unknown: .*no reply"),
    (b"\x00\x00", "LOAD_SAMPLE reply rejected: scoop=0.0 outside"),
    (b"\x02", "LOAD_SAMPLE reply of 1 bytes, the ICD gives 2"),
])
def test_serial_load_sample_replies(reply: bytes | Exception, words: str | None) -> None:
    p = SerialPlatform(Board(ScriptedLink(reply)), {}, "lockstep", SteppedClock())
    if words is None:
        assert p.load_sample() == 7
    else:
        with pytest.raises(SampleExchangeError, match=words):
            p.load_sample()

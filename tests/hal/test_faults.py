"""ground.harness.faults: device injectors on sim devices, link injectors on a scripted byte
pipe and end to end through the real link against the board emulator over TCP.

Everything random is seeded (fault_rng); time is a SteppedClock, except in the end-to-end
tests where the link's own wall-clock deadlines (timeout_s 0.2) bound every wait.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from common.clock import SteppedClock
from ground.gse.board_server import BOARD_DEVICES, load_board_platform
from ground.gse.emulator import BoardEmulator
from ground.harness.faults import (
    DEVICE_FAULT_KINDS,
    LINK_FAULT_KINDS,
    PORT_METHODS,
    FaultableDevice,
    FaultyTransport,
    fault_rng,
    install_link_faults,
    validate_device_fault,
    validate_link_fault,
    wrap_device,
    wrap_devices,
)
from ground.harness.link_faults import FrameGate, corrupt_bytes
from hal.errors import DeviceTimeout, HalError
from hal.interfaces import KINDS, Thermometer, Valve
from hal.registry import build_platform, load_hardware
from hal.serial.backend import SerialPlatform
from hal.serial.framing import FrameDecoder, encode_frame, tc, tm
from hal.serial.icd import Apid, Service, Status
from hal.sim.backend import SimPlatform, build

REPO = Path(__file__).resolve().parents[2]
SIM_YAML = REPO / "configs" / "hardware" / "sim.yaml"
QUICK_YAML = REPO / "configs" / "missions" / "quick.yaml"
BENCH_YAML = REPO / "configs" / "hardware" / "bench-emulator.yaml"
SMALL = {"mass_kg": 0.02, "ice_mass_fraction": 0.056, "initial_temp_k": 40.0}
READS = [m for m in PORT_METHODS if m.startswith("read_")]


def sim_platform(seed: int = 1, quiet: bool = True) -> SimPlatform:
    """The sim.yaml platform; ``quiet``: every sensor noise-free, so reads equal the plant."""
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    devices = cfg.devices
    if quiet:
        devices = {r: dataclasses.replace(d, noise=0.0) for r, d in devices.items()}
    return build("sim.yaml:", cfg.plant, devices, SMALL, seed)


def heat(p: SimPlatform, seconds: float = 20.0) -> None:
    """Drive the heater so the heater temperature moves."""
    p.devices["heater"].set_power_w(20.0)  # type: ignore[attr-defined]
    for _ in range(int(seconds / 0.5)):
        p.advance(0.5)


def read_all(dev: object) -> list[object]:
    return [getattr(dev, m)() for m in READS if hasattr(dev, m)]


# ---- device faults: proxy ---------------------------------------------------------------


def test_protocols_preserved_for_every_sim_device() -> None:
    p = sim_platform()
    for role, inner in p.devices.items():
        w = wrap_device(inner, role)
        assert isinstance(w, FaultableDevice)
        for name, proto in KINDS.items():
            assert isinstance(w, proto) == isinstance(inner, proto), (role, name)
        for m in PORT_METHODS:
            assert hasattr(w, m) == hasattr(inner, m), (role, m)


class OnlyTemp:
    def read_temp_k(self) -> float:
        return 42.0


class HalfValve:  # commands a valve but has no position switch: not a Valve
    def set_open(self, is_open: bool) -> None:
        self.is_open = is_open


def test_protocols_preserved_for_tiny_fakes_without_getattr() -> None:
    t = wrap_device(OnlyTemp(), "t")
    assert isinstance(t, Thermometer) and not isinstance(t, Valve)
    assert not hasattr(t, "read_pressure_pa") and not hasattr(t, "set_power_w")
    assert "read_temp_k" in type(t).__dict__  # defined on the class, not via __getattr__
    assert "__getattr__" not in type(t).__dict__ and "__getattr__" not in vars(FaultableDevice)
    v = wrap_device(HalfValve(), "v")
    assert not isinstance(v, Valve) and not isinstance(v, Thermometer)
    assert t.read_temp_k() == 42.0


def test_pass_through_is_exact_for_noisy_devices() -> None:
    """Same seed: a wrapped noisy platform reads exactly what an unwrapped one does."""
    a, b = sim_platform(seed=3, quiet=False), sim_platform(seed=3, quiet=False)
    wrapped = wrap_devices(b.devices)
    for _ in range(3):
        heat(a, 2.0)
        heat(b, 2.0)
        for role in a.devices:
            assert read_all(wrapped[role]) == read_all(a.devices[role]), role


def test_flight_sensor_reader_sees_faults_activated_later() -> None:
    """flight.channels binds the port methods once; a fault activated afterwards still applies."""
    from flight.channels import SensorReader

    p = sim_platform()
    devices = wrap_devices(p.devices)
    events: list[tuple[str, dict[str, object]]] = []
    reader = SensorReader(devices, lambda name, **kw: events.append((name, kw)))
    assert reader.read_all()["heater_temp_k"] is not None
    devices["heater_temp"].activate("dropout")
    assert reader.read_all()["heater_temp_k"] is None
    assert events[0][0] == "sensor_failed" and "heater_temp" in str(events[0][1]["error"])
    devices["heater_temp"].clear()
    assert reader.read_all()["heater_temp_k"] == p.devices["heater_temp"].read_temp_k()


# ---- device faults: kinds ---------------------------------------------------------------


def test_stuck_freezes_the_last_reading_or_a_given_value() -> None:
    p = sim_platform()
    inner = p.devices["heater_temp"]
    w = wrap_device(inner, "heater_temp")
    before = w.read_temp_k()
    w.activate("stuck")
    heat(p)
    assert inner.read_temp_k() > before + 1.0  # the plant moved ...
    assert w.read_temp_k() == before  # ... the sensor did not
    assert w.read_temp_k() == before
    w.activate("stuck", {"value": 123.0})
    assert w.read_temp_k() == 123.0
    valve = wrap_device(p.devices["valve"], "valve")
    valve.activate("stuck", {"value": 1.0})
    assert valve.read_open() is True and p.devices["valve"].read_open() is False


def test_stuck_never_read_before_freezes_the_first_read_after() -> None:
    p = sim_platform()
    w = wrap_device(p.devices["heater_temp"], "heater_temp")
    w.activate("stuck")
    first = w.read_temp_k()
    heat(p)
    assert w.read_temp_k() == first


def test_bias_offsets_exactly() -> None:
    p = sim_platform()
    inner = p.devices["chamber_pressure"]
    w = wrap_device(inner, "chamber_pressure")
    w.activate("bias", {"offset": 2.5})
    heat(p)
    for _ in range(5):
        assert w.read_pressure_pa() == inner.read_pressure_pa() + 2.5
        p.advance(1.0)


def test_drift_grows_linearly_on_the_injected_clock() -> None:
    p = sim_platform()
    inner = p.devices["trap_temp"]
    w = wrap_device(inner, "trap_temp")
    clock = SteppedClock(100.0)
    w.activate("drift", {"rate_per_s": 0.05}, clock)
    assert w.read_temp_k() == inner.read_temp_k()
    for k in range(1, 6):
        clock.advance(10.0)
        assert w.read_temp_k() - inner.read_temp_k() == pytest.approx(0.05 * 10.0 * k,
                                                                      abs=1e-9)
    p.advance(5.0)  # plant time alone does not move the drift: only the injected clock
    assert w.read_temp_k() - inner.read_temp_k() == pytest.approx(2.5, abs=1e-9)


def noise_samples(seed: int, n: int = 4000, sigma: float = 0.3) -> np.ndarray:
    p = sim_platform()
    inner = p.devices["h2_tank"]
    w = wrap_device(inner, "h2_tank")
    truth = inner.read_pressure_pa()
    w.activate("noise", {"sigma": sigma}, rng=fault_rng(seed, "h2_tank.noise"))
    return np.array([w.read_pressure_pa() - truth for _ in range(n)])


def test_noise_has_its_sigma_and_is_reproducible_for_a_seed() -> None:
    a = noise_samples(7)
    assert a.std() == pytest.approx(0.3, rel=0.10)
    assert abs(a.mean()) < 4 * 0.3 / np.sqrt(a.size)
    assert np.array_equal(a, noise_samples(7))
    assert not np.array_equal(a, noise_samples(8))


def test_noise_applies_to_one_method_only_when_asked() -> None:
    p = sim_platform()
    inner = p.devices["electrolyzer"]
    w = wrap_device(inner, "electrolyzer")
    w.activate("noise", {"sigma": 1.0}, rng=fault_rng(1, "x"), methods=["read_voltage_v"])
    assert w.read_current_a() == inner.read_current_a()
    assert w.read_voltage_v() != inner.read_voltage_v()


def test_dropout_raises_device_timeout_naming_the_role() -> None:
    p = sim_platform()
    w = wrap_device(p.devices["reservoir"], "reservoir")
    w.activate("dropout")
    with pytest.raises(DeviceTimeout, match="reservoir") as info:
        w.read_mass_kg()
    assert info.value.device == "reservoir" and isinstance(info.value, HalError)


def dropout_pattern(seed: int, n: int = 2000) -> list[bool]:
    p = sim_platform()
    w = wrap_device(p.devices["power"], "power")
    w.activate("dropout", {"probability": 0.5}, rng=fault_rng(seed, "power.dropout"))
    out = []
    for _ in range(n):
        try:
            w.read_power_w()
            out.append(False)
        except DeviceTimeout:
            out.append(True)
    return out


def test_dropout_with_probability_is_seeded() -> None:
    a = dropout_pattern(5)
    assert 0.45 < sum(a) / len(a) < 0.55
    assert a == dropout_pattern(5)
    assert a != dropout_pattern(6)


def test_ignore_drops_commands_but_read_back_reports_the_real_device() -> None:
    p = sim_platform()
    valve = wrap_device(p.devices["valve"], "valve")
    heater = wrap_device(p.devices["heater"], "heater")
    valve.activate("ignore")
    heater.activate("ignore")
    valve.set_open(True)
    heater.set_power_w(20.0)
    assert p.plant.inputs.valve_open is False and p.plant.inputs.heater_power_w == 0.0
    assert valve.read_open() is False  # the position switch tells the truth
    p.plant.inputs.valve_open = True  # the valve moves by itself: the read-back follows
    assert valve.read_open() is True
    valve.clear("ignore")
    heater.clear()
    valve.set_open(False)
    heater.set_power_w(7.0)
    assert p.plant.inputs.valve_open is False and p.plant.inputs.heater_power_w == 7.0
    assert valve.counts["ignore"] == 1 and heater.counts["ignore"] == 1


def test_clear_restores_exact_pass_through() -> None:
    p = sim_platform()
    inner = p.devices["electrolyzer"]
    w = wrap_device(inner, "electrolyzer")
    clock = SteppedClock()
    w.activate("stuck")
    w.activate("bias", {"offset": 1.0})
    w.activate("drift", {"rate_per_s": 1.0}, clock)
    w.activate("noise", {"sigma": 1.0}, rng=fault_rng(1, "e"))
    w.activate("ignore")
    clock.advance(3.0)
    assert w.read_voltage_v() != inner.read_voltage_v()
    assert set(w.active) == {"stuck", "bias", "drift", "noise", "ignore"}
    w.clear()
    assert w.active == {}
    heat(p, 2.0)
    assert read_all(w) == read_all(inner)
    w.set_current_a(3.0)
    assert p.plant.inputs.electrolyzer_current_a == 3.0


# ---- device faults: validation ----------------------------------------------------------


def test_catalogue_defaults_are_in_range() -> None:
    for kind, spec in DEVICE_FAULT_KINDS.items():
        for name, (default, lo, hi) in spec.items():
            assert lo < hi, (kind, name)
            assert default is None or lo <= default <= hi, (kind, name)
    assert validate_device_fault("dropout") == {"probability": 1.0}
    assert validate_device_fault("stuck") == {"value": None}


@pytest.mark.parametrize(("kind", "params", "match"), [
    ("melt", {}, "'melt'"),
    ("bias", {"offset": 1.0, "gain": 2.0}, "'gain'"),
    ("bias", {}, "offset"),
    ("noise", {"sigma": -1.0}, "sigma"),
    ("dropout", {"probability": 0.0}, r"probability.*\(0, 1\]"),
    ("dropout", {"probability": 1.5}, "probability"),
    ("drift", {"rate_per_s": float("nan")}, "rate_per_s"),
    ("stuck", {"value": "hot"}, "value"),
])
def test_bad_kind_or_param_raises_value_error(kind: str, params: dict, match: str) -> None:
    w = wrap_device(sim_platform().devices["heater_temp"], "heater_temp")
    with pytest.raises(ValueError, match=match):
        w.activate(kind, params, SteppedClock(), fault_rng(1, "x"))
    with pytest.raises(ValueError, match=match):
        validate_device_fault(kind, params)


def test_inapplicable_faults_raise_value_error() -> None:
    p = sim_platform()
    therm = wrap_device(p.devices["heater_temp"], "heater_temp")
    valve = wrap_device(p.devices["valve"], "valve")
    heater = wrap_device(p.devices["heater"], "heater")
    with pytest.raises(ValueError, match="ignore"):
        therm.activate("ignore")
    with pytest.raises(ValueError, match="bias"):
        valve.activate("bias", {"offset": 1.0})  # read_open is a bool
    with pytest.raises(ValueError, match="stuck"):
        heater.activate("stuck")
    with pytest.raises(ValueError, match="clock"):
        therm.activate("drift", {"rate_per_s": 1.0})
    with pytest.raises(ValueError, match="rng"):
        therm.activate("noise", {"sigma": 1.0})
    stack = wrap_device(p.devices["electrolyzer"], "electrolyzer")
    with pytest.raises(ValueError, match="read_temp_k"):
        stack.activate("bias", {"offset": 1.0}, methods=["read_temp_k"])
    with pytest.raises(ValueError, match="'melt'"):
        therm.clear("melt")
    assert therm.active == {} and valve.active == {}


# ---- link faults over a scripted byte pipe ----------------------------------------------


class FakePort:
    """A byte pipe: records writes; reads hand out queued bytes in ``chunk``-sized pieces,
    and an empty read takes one port timeout (``tick_s``) on the SteppedClock."""

    def __init__(self, clock: SteppedClock, chunk: int = 1000, tick_s: float = 0.01) -> None:
        self.clock, self.chunk, self.tick_s = clock, chunk, tick_s
        self.written = bytearray()
        self.rx = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self, max_bytes: int) -> bytes:
        n = min(max_bytes, self.chunk, len(self.rx))
        if not n:
            self.clock.advance(self.tick_s)
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out

    def close(self) -> None:
        self.closed = True


def frames(n: int, start: int = 0) -> list[bytes]:
    """``n`` distinct TM frames (housekeeping-sized, so some bytes are zero-free runs)."""
    return [encode_frame(tm(Apid.SYSTEM, start + i, Service.HOUSEKEEPING, Status.OK,
                            bytes((i + k) % 256 for k in range(32))).pack())
            for i in range(n)]


def drain(t: FaultyTransport, port: FakePort, max_reads: int = 100000) -> bytes:
    out = bytearray()
    for _ in range(max_reads):
        if not port.rx and not t.held_bytes:
            break
        out += t.read(256)
    return bytes(out)


def link(chunk: int = 1000, seed: int = 1) -> tuple[FaultyTransport, FakePort, SteppedClock]:
    clock = SteppedClock()
    port = FakePort(clock, chunk)
    return FaultyTransport(port, clock, fault_rng(seed, "link")), port, clock


def test_no_fault_and_cleared_faults_pass_bytes_unchanged() -> None:
    t, port, _ = link(chunk=7)
    data = b"".join(frames(20))
    t.write(data)
    port.rx += data
    assert bytes(port.written) == data and drain(t, port) == data
    for kind, params in [("corrupt", {"rate": 0.5}), ("drop", {"probability": 0.5}),
                         ("delay", {"delay_s": 1.0}), ("disconnect", {})]:
        t.activate(kind, params)
    t.clear()
    port.written.clear()
    t.write(data)
    port.rx += data
    assert bytes(port.written) == data and drain(t, port) == data
    t.close()
    assert port.closed


def test_corrupt_flips_one_bit_per_hit_byte_both_ways() -> None:
    t, port, _ = link(chunk=13)
    data = b"".join(frames(40))
    t.activate("corrupt", {"rate": 1.0})
    t.write(data)
    port.rx += data
    got = drain(t, port)
    for out in (bytes(port.written), got):
        x = np.frombuffer(out, np.uint8) ^ np.frombuffer(data, np.uint8)
        assert np.all(np.unpackbits(x).reshape(-1, 8).sum(axis=1) == 1)
        assert set(np.log2(x).astype(int)) == set(range(8))  # every bit position occurs
    assert t.stats.bits_flipped_tx == t.stats.bits_flipped_rx == len(data)


def test_corrupt_rate_and_chunking_independence() -> None:
    data = bytes(range(256)) * 200  # 51200 bytes
    rng = fault_rng(3, "c")
    whole, n = corrupt_bytes(data, 0.01, rng)
    assert 400 < n < 620  # binomial(51200, 0.01): mean 512, sd 22.5
    rng = fault_rng(3, "c")
    parts = b"".join(corrupt_bytes(data[i:i + 97], 0.01, rng)[0]
                     for i in range(0, len(data), 97))
    assert parts == whole
    assert corrupt_bytes(data, 0.01, fault_rng(4, "c"))[0] != whole


def test_corrupt_on_a_link_is_seen_as_crc_errors() -> None:
    t, port, _ = link()
    t.activate("corrupt", {"rate": 0.02})
    port.rx += b"".join(frames(200))
    dec = FrameDecoder()
    good = dec.feed(drain(t, port))
    assert dec.stats.crc_errors + dec.stats.cobs_errors > 20
    assert len(good) + dec.stats.crc_errors + dec.stats.cobs_errors >= 180


def test_drop_removes_whole_frames_each_way() -> None:
    t, port, _ = link(chunk=5)  # frames arrive split across reads
    sent = frames(1000)
    t.activate("drop", {"probability": 0.3})
    for f in sent:
        t.write(f)
    port.rx += b"".join(sent)
    got = drain(t, port)
    for out, dropped in ((bytes(port.written), t.stats.frames_dropped_tx),
                         (got, t.stats.frames_dropped_rx)):
        dec = FrameDecoder()
        pkts = dec.feed(out)
        assert dec.stats.crc_errors == dec.stats.cobs_errors == 0  # only whole frames
        assert len(pkts) + dropped == 1000
        assert 250 < dropped < 350
        seqs = [p.seq for p in pkts]
        assert seqs == sorted(seqs)
    t2, port2, _ = link()
    t2.activate("drop", {"probability": 1.0})
    t2.write(sent[0])
    assert port2.written == b""


def test_frame_gate_finishes_a_frame_it_started_dropping() -> None:
    gate, rng = FrameGate(), fault_rng(1, "g")
    f1, f2 = frames(2)
    assert gate.feed(f1[:5], 1.0, rng) == (b"", 1)
    assert gate.feed(f1[5:] + f2, None, rng) == (f2, 0)  # the fault ended mid-frame


def test_delay_holds_received_bytes_on_the_injected_clock() -> None:
    t, port, clock = link()
    t.activate("delay", {"delay_s": 0.05})
    f = frames(3)
    port.rx += f[0]
    assert t.read(256) == b""  # arrived at t = 0, due at 0.05
    assert t.held_bytes == len(f[0])
    got = bytearray()
    while clock.now_s() < 0.0399:
        got += t.read(256)  # each empty read takes 10 ms
    assert got == b""
    while not got:
        got += t.read(256)
    assert bytes(got) == f[0] and clock.now_s() == pytest.approx(0.05)
    port.rx += f[1] + f[2]
    assert t.read(256) == b""
    clock.advance(1.0)
    assert t.read(10) == (f[1] + f[2])[:10]  # max_bytes is honoured
    port.rx += f[0]
    t.clear("delay")  # the rest is released at once, in order
    assert drain(t, port) == (f[1] + f[2])[10:] + f[0]
    assert t.stats.bytes_delayed == len(f[0] + f[1] + f[2])  # the last f[0] was not


def test_disconnect_swallows_writes_and_silences_reads() -> None:
    t, port, clock = link()
    f = frames(3)
    t.activate("delay", {"delay_s": 1.0})
    port.rx += f[0]
    assert t.read(256) == b""  # held ...
    t.activate("disconnect")  # ... and lost with the cable
    t.write(f[1])
    port.rx += f[2]
    assert t.read(256) == b"" and t.read(256) == b""
    assert port.written == b"" and not port.rx  # the port was still drained
    assert t.stats.bytes_lost_tx == len(f[1])
    assert t.stats.bytes_lost_rx == len(f[0]) + len(f[2])
    t.clear()
    t.write(f[1])
    port.rx += f[2]
    assert bytes(port.written) == f[1] and drain(t, port) == f[2]


@pytest.mark.parametrize(("kind", "params", "match"), [
    ("duplicate", {}, "'duplicate'"),
    ("corrupt", {"probability": 0.1}, "'probability'"),
    ("corrupt", {"rate": 0.0}, "rate"),
    ("drop", {"probability": 2.0}, "probability"),
    ("delay", {}, "delay_s"),
    ("delay", {"delay_s": -1.0}, "delay_s"),
])
def test_bad_link_fault_raises_value_error(kind: str, params: dict, match: str) -> None:
    t, _, _ = link()
    with pytest.raises(ValueError, match=match):
        t.activate(kind, params)
    with pytest.raises(ValueError, match=match):
        validate_link_fault(kind, params)
    assert t.active == {}


def test_link_catalogue_and_install_needs_a_serial_platform() -> None:
    for kind, spec in LINK_FAULT_KINDS.items():
        for name, (default, lo, hi) in spec.items():
            assert lo < hi and (default is None or lo <= default <= hi), (kind, name)
    with pytest.raises(TypeError, match="SimPlatform"):
        install_link_faults(sim_platform(), SteppedClock(), fault_rng(1, "l"))


# ---- link faults end to end: real link, real transport, board emulator over TCP -----------


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    board = BoardEmulator(load_board_platform(QUICK_YAML, SIM_YAML, seed=1), "lockstep")
    port = board.serve_tcp(0)
    board.start()
    try:
        yield f"socket://127.0.0.1:{port}"
    finally:
        board.stop()


@pytest.fixture
def bench(emulator_url: str, tmp_path: Path) -> Iterator[tuple[SerialPlatform, FaultyTransport]]:
    """A serial platform on the emulator (timeout 0.2 s, 3 retries) with link faults."""
    hw = yaml.safe_load(BENCH_YAML.read_text(encoding="utf-8"))
    hw["serial"].update(url=emulator_url, timeout_s=0.2, retries=3)
    path = tmp_path / "bench.yaml"
    path.write_text(yaml.safe_dump(hw), encoding="utf-8")
    platform = build_platform(path, load_hardware(path, BOARD_DEVICES), {}, seed=1)
    assert isinstance(platform, SerialPlatform)
    try:
        faulty = install_link_faults(platform, platform.board.link.clock,
                                     fault_rng(1, "link"))
        yield platform, faulty
    finally:
        platform.close()


def test_e2e_install_wraps_the_real_transport(bench) -> None:
    platform, faulty = bench
    assert platform.board.link.transport is faulty
    assert faulty.url.startswith("socket://")  # other attributes are the port's
    with pytest.raises(ValueError, match="already"):
        install_link_faults(platform, platform.board.link.clock, fault_rng(1, "x"))
    platform.advance(0.1)
    assert platform.devices["heater_temp"].read_temp_k() > 0.0  # type: ignore[attr-defined]


def test_e2e_corrupt_gives_crc_errors_and_retries_but_requests_succeed(bench) -> None:
    platform, faulty = bench
    stats = platform.board.link.stats
    faulty.activate("corrupt", {"rate": 1e-3})
    polls = 0
    while (stats.crc_errors == 0 or stats.retries == 0) and polls < 300:
        assert platform.board.poll_housekeeping(), platform.board.stale_reason
        polls += 1
    assert stats.crc_errors >= 1 and stats.retries >= 1 and stats.timeouts == 0, polls
    assert faulty.stats.bits_flipped_rx >= 1


def test_e2e_drop_gives_retries_but_requests_succeed(bench) -> None:
    platform, faulty = bench
    link = platform.board.link
    # 30 % each way fails a try with p = 1 - 0.7**2 = 0.51; 4 tries would still lose
    # 0.51**4 = 7 % of requests, 11 tries 0.06 %
    link.retries = 10
    faulty.activate("drop", {"probability": 0.3})
    for _ in range(6):
        assert platform.board.poll_housekeeping(), platform.board.stale_reason
    assert link.stats.retries >= 1 and link.stats.timeouts == 0
    assert faulty.stats.frames_dropped_tx + faulty.stats.frames_dropped_rx >= 1


def test_e2e_disconnect_times_out_bounded_then_recovers(bench) -> None:
    platform, faulty = bench
    link = platform.board.link
    faulty.activate("disconnect")
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout, match="SYSTEM"):
        platform.board.ping()
    assert time.monotonic() - t0 < 2.0  # 4 tries of 0.2 s, no hang
    assert link.stats.timeouts == 1 and link.stats.retries == 3
    assert faulty.stats.bytes_lost_tx == 4 * len(encode_frame(tc(Apid.SYSTEM, 1,
                                                                 Service.PING).pack()))
    faulty.clear("disconnect")
    platform.board.ping()
    assert platform.board.poll_housekeeping()


def test_e2e_delay_within_timeout_succeeds_beyond_it_times_out(bench) -> None:
    platform, faulty = bench
    link = platform.board.link
    faulty.activate("delay", {"delay_s": 0.02})
    for _ in range(5):
        platform.board.ping(Apid.HEATER)
    assert link.stats.timeouts == 0 and faulty.stats.bytes_delayed > 0
    faulty.activate("delay", {"delay_s": 1.0})
    with pytest.raises(DeviceTimeout, match="HEATER"):
        platform.board.ping(Apid.HEATER)
    assert link.stats.timeouts == 1 and faulty.held_bytes > 0
    wrong = link.stats.wrong_seq
    faulty.clear("delay")  # the late replies arrive now: stale, counted and dropped
    platform.board.ping(Apid.HEATER)
    assert link.stats.wrong_seq > wrong
    assert faulty.held_bytes == 0

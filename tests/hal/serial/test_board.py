"""hal.serial.board / platform / transport: drivers, time modes, port errors, config.

Drivers run against a fake link (calls recorded, replies scripted) or a scripted
transport (exact bytes); port errors against real pseudo-terminals (os.openpty), each
wait bounded by a few tens of milliseconds.
"""

import os
import select
import struct
import threading
from pathlib import Path

import pytest
import yaml

from common.clock import SteppedClock, WallClock
from common.errors import ConfigError
from hal.errors import DeviceError, DeviceTimeout
from hal.interfaces import KINDS, truth_of
from hal.registry import build_platform, load_hardware
from hal.serial.backend import BoardSilent, SerialPlatform, wait_for_board
from hal.serial.board import CHANNELS, Board, make_device
from hal.serial.framing import FrameDecoder, encode_frame, tc, tm
from hal.serial.icd import HK_LAYOUT, Apid, Service, Status
from hal.serial.link import Link, Nack
from hal.serial.transport import RX_CAPTURE, TX_CAPTURE, LinkError, SerialTransport

REPO = Path(__file__).resolve().parents[3]
BENCH_YAML = REPO / "configs" / "hardware" / "bench-emulator.yaml"
DEVBOARD_YAML = REPO / "configs" / "hardware" / "devboard.yaml"
REQUIRED = {
    "heater_temp": "thermometer", "sample_temp": "thermometer", "trap_temp": "thermometer",
    "chamber_pressure": "pressure_gauge", "h2_tank": "pressure_gauge",
    "o2_tank": "pressure_gauge", "reservoir": "mass_gauge", "heater": "heater",
    "trap_heater": "heater", "valve": "valve", "cryocooler": "cryocooler",
    "electrolyzer": "electrolyzer", "power": "power_monitor",
}

# Housekeeping packed by hand (big-endian, raw units of the ICD), not with HK_LAYOUT.
HK_RAW = struct.pack(">HHHfffIHHHHBB", 29315, 25000, 12050, 12.5, 1.5e5, 7.5e4,
                     12_300_000, 1850, 2500, 3025, 4500, 1, 0)
HK_SI = {"heater_temp_k": 293.15, "sample_temp_k": 250.0, "trap_temp_k": 120.5,
         "chamber_pressure_pa": 12.5, "h2_tank_pressure_pa": 1.5e5,
         "o2_tank_pressure_pa": 7.5e4, "reservoir_mass_kg": 0.0123, "stack_voltage_v": 1.85,
         "stack_current_a": 2.5, "bus_power_w": 30.25, "bus_cap_w": 45.0}


class FakeLink:
    """Records requests; replies from a script (bytes, or an exception to raise)."""

    def __init__(self, replies=()) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[int, int, bytes]] = []

    def request(self, apid: int, service: int, payload: bytes = b"") -> bytes:
        self.calls.append((apid, service, payload))
        r = self.replies.pop(0) if self.replies else b""
        if isinstance(r, Exception):
            raise r
        return r


def board_with_devices(replies=()):
    link = FakeLink(replies)
    board = Board(link)
    cfg = load_hardware(BENCH_YAML, REQUIRED)
    devs = {role: make_device(board, role, d.kind, d.channel) for role, d in cfg.devices.items()}
    return link, board, devs


# ---- housekeeping and sensors --------------------------------------------------------


def test_housekeeping_is_decoded_into_si():
    assert len(HK_RAW) == HK_LAYOUT.size
    link, board, d = board_with_devices([HK_RAW])
    assert board.poll_housekeeping() is True
    assert link.calls == [(Apid.SYSTEM, Service.HOUSEKEEPING, b"")]
    assert d["heater_temp"].read_temp_k() == pytest.approx(293.15)
    assert d["sample_temp"].read_temp_k() == pytest.approx(250.0)
    assert d["trap_temp"].read_temp_k() == pytest.approx(120.5)
    assert d["chamber_pressure"].read_pressure_pa() == pytest.approx(12.5)
    assert d["h2_tank"].read_pressure_pa() == pytest.approx(1.5e5)
    assert d["o2_tank"].read_pressure_pa() == pytest.approx(7.5e4)
    assert d["reservoir"].read_mass_kg() == pytest.approx(0.0123, rel=1e-9)
    assert d["electrolyzer"].read_voltage_v() == pytest.approx(1.85)
    assert d["electrolyzer"].read_current_a() == pytest.approx(2.5)
    assert d["power"].read_power_w() == pytest.approx(30.25)
    assert d["power"].read_cap_w() == pytest.approx(45.0)
    assert d["valve"].read_open() is True
    for name, value in HK_SI.items():
        assert board.hk[name] == pytest.approx(value)


def test_reads_before_any_housekeeping_time_out():
    _, _, d = board_with_devices()
    with pytest.raises(DeviceTimeout, match="heater_temp"):
        d["heater_temp"].read_temp_k()


@pytest.mark.parametrize("failure", [
    DeviceTimeout("SYSTEM", "no reply"),
    Nack(Apid.SYSTEM, Service.HOUSEKEEPING, 1, Status.DEVICE_FAULT),
    LinkError("/dev/ttyACM0", "vanished"),
    HK_RAW[:-1],  # one byte short
    struct.pack(">HHHfffIHHHHBB", 29315, 25000, 12050, 2.0e6, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    struct.pack(">HHHfffIHHHHBB", 29315, 25000, 12050, float("nan"), 0, 0, 0, 0, 0, 0, 0, 0, 0),
    struct.pack(">HHHfffIHHHHBB", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 0),  # valve_open = 2
])
def test_a_failed_poll_makes_every_sensor_time_out_until_the_next_good_one(failure):
    _, board, d = board_with_devices([HK_RAW, failure, HK_RAW])
    assert board.poll_housekeeping()
    assert board.poll_housekeeping() is False  # never raises
    assert board.stale and board.hk_failures == 1
    for read in (d["heater_temp"].read_temp_k, d["valve"].read_open,
                 d["electrolyzer"].read_voltage_v, d["power"].read_cap_w):
        with pytest.raises(DeviceTimeout, match="stale"):
            read()
    assert board.poll_housekeeping()
    assert d["heater_temp"].read_temp_k() == pytest.approx(293.15)


# ---- actuators ------------------------------------------------------------------------


@pytest.mark.parametrize(("power_w", "payload"), [
    (12.5, b"\x04\xe2"), (0.0, b"\x00\x00"), (0.01, b"\x00\x01"), (655.35, b"\xff\xff"),
    (1000.0, b"\xff\xff"), (-3.0, b"\x00\x00"), (float("nan"), b"\x00\x00"),
    (float("inf"), b"\xff\xff"),
])
def test_heater_power_is_sent_in_centiwatts_and_clipped(power_w, payload):
    link, _, d = board_with_devices()
    d["heater"].set_power_w(power_w)
    d["trap_heater"].set_power_w(power_w)
    assert link.calls == [(Apid.HEATER, Service.SET_POWER, payload),
                          (Apid.TRAP_HEATER, Service.SET_POWER, payload)]


def test_switches_and_current():
    link, _, d = board_with_devices()
    d["valve"].set_open(True)
    d["valve"].set_open(False)
    d["cryocooler"].set_on(True)
    d["electrolyzer"].set_current_a(1.234)
    d["electrolyzer"].set_current_a(100.0)
    assert link.calls == [(Apid.VALVE, Service.SET_OPEN, b"\x01"),
                          (Apid.VALVE, Service.SET_OPEN, b"\x00"),
                          (Apid.CRYOCOOLER, Service.SET_ON, b"\x01"),
                          (Apid.ELECTROLYZER, Service.SET_CURRENT, b"\x04\xd2"),
                          (Apid.ELECTROLYZER, Service.SET_CURRENT, b"\xff\xff")]


def test_actuator_nack_and_bad_reply_are_device_errors():
    _, _, d = board_with_devices([Nack(Apid.HEATER, Service.SET_POWER, 0, Status.DEVICE_FAULT),
                                  b"\x00"])
    with pytest.raises(DeviceError, match="DEVICE_FAULT"):
        d["heater"].set_power_w(5.0)
    with pytest.raises(DeviceError, match="reply of 1 bytes"):
        d["heater"].set_power_w(5.0)


def test_devices_satisfy_their_ports():
    _, _, d = board_with_devices()
    for role, kind in REQUIRED.items():
        assert isinstance(d[role], KINDS[kind]), role
    assert not isinstance(d["valve"], KINDS["heater"])


def test_time_sync_sends_microseconds_and_returns_board_time():
    link = FakeLink([b"\x00\x00\x30\x0c", b"\x00\x00\xea\x60", b"\x00\x01\x11\x70"])
    board = Board(link)
    assert board.time_sync(0.1) == pytest.approx(12.3)
    assert link.calls[0] == (Apid.SYSTEM, Service.TIME_SYNC, b"\x00\x01\x86\xa0")
    board.time_sync(70.0)  # over the 60 s field limit: two steps
    assert [c[2] for c in link.calls[1:]] == [struct.pack(">I", 60_000_000),
                                              struct.pack(">I", 10_000_000)]
    with pytest.raises(ValueError):
        board.time_sync(0.0)


# ---- the platform in both time modes ----------------------------------------------------

H = bytes.fromhex
HK_TC_0 = H("04 10 10 c0 01 01 04 02 cf cb 00")  # SYSTEM HOUSEKEEPING seq 0
SYNC_TC_1 = H("05 10 10 c0 01 03 04 03 06 01 86 a0 69 8b 00")  # TIME_SYNC 100000 us seq 1
SYNC_TM_1 = H("01 04 10 c0 01 03 05 03 01 01 05 30 0c df 97 00")  # board time 12.300 s
HK_TC_2 = H("05 10 10 c0 02 01 04 02 22 a3 00")


def hk_tm(seq: int) -> bytes:
    return encode_frame(tm(Apid.SYSTEM, seq, Service.HOUSEKEEPING, Status.OK, HK_RAW).pack())


class Scripted:
    """(expected write, reply) rows; an empty read costs one port timeout on the clock."""

    def __init__(self, clock, script) -> None:
        self.clock, self.script, self.rx, self.closed = clock, list(script), b"", 0

    def write(self, data: bytes) -> None:
        assert self.script, f"unexpected write {data.hex(' ')}"
        expected, reply = self.script.pop(0)
        assert data.hex(" ") == expected.hex(" ")
        self.rx += reply

    def read(self, max_bytes: int) -> bytes:
        if not self.rx:
            self.clock.advance(0.01)
        out, self.rx = self.rx[:max_bytes], self.rx[max_bytes:]
        return out

    def close(self) -> None:
        self.closed += 1


def platform(script, mode="lockstep", clock=None, retries=0):
    link_clock = SteppedClock()
    t = Scripted(link_clock, script)
    board = Board(Link(t, link_clock, timeout_s=0.05, retries=retries))
    devs = {"heater_temp": make_device(board, "heater_temp", "thermometer", "heater_temp_k")}
    mission_clock = clock or (SteppedClock() if mode == "lockstep" else link_clock)
    return SerialPlatform(board, devs, mode, mission_clock, t.close), t


def test_lockstep_advance_sends_time_sync_in_microseconds_then_housekeeping():
    p, t = platform([(HK_TC_0, hk_tm(0)), (SYNC_TC_1, SYNC_TM_1), (HK_TC_2, hk_tm(2))])
    assert p.devices["heater_temp"].read_temp_k() == pytest.approx(293.15)  # polled at start
    assert p.clock.now_s() == 0.0
    p.advance(0.1)
    assert not t.script  # exactly TIME_SYNC then HOUSEKEEPING, bytes as in the table
    assert p.clock.now_s() == pytest.approx(0.1)
    diag = p.diagnostics()
    assert diag["board_time_s"] == pytest.approx(12.3)
    assert diag["link_frames_sent"] == 3.0 and diag["link_hk_stale"] == 0.0
    assert truth_of(p) is None  # (no plant on this side of the link)
    p.close()
    p.close()
    assert t.closed == 1


def test_lockstep_failed_sync_does_not_raise_and_time_still_moves():
    p, _ = platform([(HK_TC_0, hk_tm(0)), (SYNC_TC_1, b""), (HK_TC_2, b"")])
    p.advance(0.1)
    assert p.clock.now_s() == pytest.approx(0.1)
    assert p.sync_failures == 1
    assert p.diagnostics()["link_hk_stale"] == 1.0
    with pytest.raises(DeviceTimeout):
        p.devices["heater_temp"].read_temp_k()


def test_lockstep_against_a_realtime_board_is_a_config_error():
    nack = encode_frame(tm(Apid.SYSTEM, 1, Service.TIME_SYNC, Status.NOT_IN_MODE).pack())
    p, _ = platform([(HK_TC_0, hk_tm(0)), (SYNC_TC_1, nack)])
    with pytest.raises(ConfigError, match="time_mode"):
        p.advance(0.1)


def test_realtime_advance_waits_for_the_cycle_deadline_then_polls():
    clock = SteppedClock()
    hk1 = encode_frame(tm(Apid.SYSTEM, 1, Service.HOUSEKEEPING, Status.OK, HK_RAW).pack())
    hk1_tc = encode_frame(tc(Apid.SYSTEM, 1, Service.HOUSEKEEPING).pack())
    p, t = platform([(HK_TC_0, hk_tm(0)), (hk1_tc, hk1), (HK_TC_2, hk_tm(2))], "realtime",
                    clock)
    p.advance(0.1)
    assert clock.now_s() == pytest.approx(0.1)  # slept to the deadline
    clock.advance(1.0)  # a cycle that overran by ten periods
    p.advance(0.1)
    assert p.cycle_overruns == 1
    assert not t.script


# ---- the port: real pseudo-terminals, missing ports, TCP --------------------------------


@pytest.fixture
def pty():
    master, slave = os.openpty()
    yield master, os.ttyname(slave)
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def drain(fd: int) -> bytes:
    out = b""
    while select.select([fd], [], [], 0.05)[0]:
        out += os.read(fd, 4096)
    return out


def test_missing_port_is_a_link_error_naming_it():
    with pytest.raises(LinkError, match="/dev/does-not-exist.*does not exist"):
        SerialTransport("/dev/does-not-exist")


def test_a_port_in_use_is_refused(pty):
    _, name = pty
    first = SerialTransport(name)
    try:
        with pytest.raises(LinkError, match=f"{name}.*in use by another process"):
            SerialTransport(name)
    finally:
        first.close()


def test_refused_tcp_is_a_link_error():
    with pytest.raises(LinkError, match="socket://127.0.0.1:1"):
        SerialTransport("socket://127.0.0.1:1")


def test_silent_pty_times_out_without_hanging(pty):
    master, name = pty
    t = SerialTransport(name, timeout_s=0.005)
    link = Link(t, WallClock(), timeout_s=0.02, retries=1)
    with pytest.raises(DeviceTimeout):
        link.request(Apid.SYSTEM, Service.PING)
    t.close()
    ping = H("04 10 10 c0 01 01 04 01 ff a8 00")
    assert drain(master) == ping + ping  # the retry was the same frame


def test_pty_bytes_both_ways_and_capture(pty, tmp_path):
    master, name = pty
    t = SerialTransport(name, timeout_s=0.05, capture_dir=tmp_path / "cap")
    t.write(b"\x01\x02\x00")
    os.write(master, b"\x05\x06\x07\x00")
    got = b""
    for _ in range(10):
        got += t.read(64)
        if len(got) == 4:
            break
    t.close()
    assert got == b"\x05\x06\x07\x00"
    assert drain(master) == b"\x01\x02\x00"
    assert (tmp_path / "cap" / TX_CAPTURE).read_bytes() == b"\x01\x02\x00"
    assert (tmp_path / "cap" / RX_CAPTURE).read_bytes() == b"\x05\x06\x07\x00"


def test_a_vanished_port_is_a_link_error(pty):
    master, name = pty
    t = SerialTransport(name, timeout_s=0.01)
    os.close(master)
    with pytest.raises(LinkError, match="vanished"):
        t.read(16)
    t.close()


def test_write_timeout_is_a_link_error(pty):
    _, name = pty  # nobody reads the master: the pty buffer fills
    t = SerialTransport(name, write_timeout_s=0.01)
    with pytest.raises(LinkError, match="write timed out"):
        t.write(b"\x55" * 1_000_000)
    t.close()


def test_closed_port_is_a_link_error(pty):
    t = SerialTransport(pty[1])
    t.close()
    with pytest.raises(LinkError, match="closed port"):
        t.read(1)


# ---- config and the registry ------------------------------------------------------------


def bench_data(**serial) -> dict:
    data = yaml.safe_load(BENCH_YAML.read_text(encoding="utf-8"))
    data["serial"].update(serial)
    return data


def build(tmp_path, data, capture_dir=None):
    p = tmp_path / "hw.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p, build_platform(p, load_hardware(p, REQUIRED), {}, 0, capture_dir)


def test_shipped_serial_yamls_load():
    for path in (BENCH_YAML, DEVBOARD_YAML):
        cfg = load_hardware(path, REQUIRED)
        assert cfg.backend == "serial" and cfg.plant == {}
        for role, d in cfg.devices.items():
            assert d.channel in CHANNELS[d.kind], role
    assert load_hardware(DEVBOARD_YAML, REQUIRED).serial["time_mode"] == "realtime"


@pytest.mark.parametrize(("change", "where", "text"), [
    (lambda d: d["devices"]["heater"].update(channel="heater"), "devices.heater.channel",
     "HEATER, TRAP_HEATER"),
    (lambda d: d["devices"]["heater_temp"].update(channel="chamber_pressure_pa"),
     "devices.heater_temp.channel", "heater_temp_k, sample_temp_k, trap_temp_k"),
    (lambda d: d["devices"]["reservoir"].update(noise=0.1), "devices.reservoir.noise", "sim"),
    (lambda d: d["serial"].update(baudrate=12345), "serial.baudrate", "115200"),
    (lambda d: d["serial"].update(time_mode="fast"), "serial.time_mode", "lockstep"),
    (lambda d: d["serial"].update(retries=11), "serial.retries", "out of range"),
    (lambda d: d["serial"].pop("url"), "serial.url", "required"),
    (lambda d: d["serial"].update(url="/dev/ttyUSB0", baudrate=9600), "serial.timeout_s",
     "too short"),
    (lambda d: d.update(plant={"power": {}}), "plant", "sim only"),
])
def test_config_errors_name_the_key(tmp_path, change, where, text):
    data = bench_data()
    change(data)
    with pytest.raises(ConfigError) as info:
        build(tmp_path, data)
    assert info.value.where.endswith(f"hw.yaml: {where}")
    assert text in str(info.value)


def test_missing_port_through_the_registry(tmp_path):
    with pytest.raises(LinkError, match="/dev/does-not-exist"):
        build(tmp_path, bench_data(url="/dev/does-not-exist"))


def test_a_board_that_never_answers_is_reported_clearly(tmp_path, pty):
    _, name = pty
    data = bench_data(url=name, timeout_s=0.02, retries=0, boot_timeout_s=0.0)
    with pytest.raises(BoardSilent, match=f"no answer from the board on {name} after 1 tries"):
        build(tmp_path, data)


PING_0 = H("04 10 10 c0 01 01 04 01 ff a8 00")
ACK_PING_0 = H("01 03 10 c0 01 03 01 01 03 bc 74 00")


def test_every_boot_ping_opens_the_session_at_count_0():
    clock = SteppedClock()
    t = Scripted(clock, [(PING_0, b""), (PING_0, b""), (PING_0, ACK_PING_0)])
    link = Link(t, clock, timeout_s=0.05, retries=0)
    wait_for_board(Board(link), link, clock, "socket://x", boot_timeout_s=1.0)
    assert not t.script and link.next_seq(Apid.SYSTEM) == 1


def test_boot_gives_up_after_boot_timeout_on_the_given_clock():
    clock = SteppedClock()
    t = Scripted(clock, [(PING_0, b"")] * 6)
    link = Link(t, clock, timeout_s=0.05, retries=1)
    with pytest.raises(BoardSilent, match="after 4 tries: is the emulator running"):
        wait_for_board(Board(link), link, clock, "socket://x", boot_timeout_s=0.15)


class MiniBoard(threading.Thread):
    """A tiny lockstep board on the master side of a pty: ACKs everything, serves HK."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master, self.stop, self.got = master, threading.Event(), []

    def run(self) -> None:
        dec = FrameDecoder()
        while not self.stop.is_set():
            if not select.select([self.master], [], [], 0.01)[0]:
                continue
            for p in dec.feed(os.read(self.master, 4096)):
                self.got.append(p)
                payload = {Service.HOUSEKEEPING: HK_RAW,
                           Service.TIME_SYNC: b"\x00\x00\x00\x64",
                           # lockstep, speed 1.00, watchdog 2.00 s
                           Service.RESET: b"\x01\x00\x64\x00\xc8"}.get(p.service, b"")
                os.write(self.master, encode_frame(
                    tm(p.apid, p.seq, p.service, Status.OK, payload).pack()))


def test_end_to_end_over_a_pty(tmp_path, pty):
    master, name = pty
    board = MiniBoard(master)
    board.start()
    try:
        _, p = build(tmp_path, bench_data(url=name, capture=True), capture_dir=tmp_path / "run")
        try:
            assert p.devices["trap_temp"].read_temp_k() == pytest.approx(120.5)
            p.devices["heater"].set_power_w(12.5)
            p.advance(0.1)
            assert p.clock.now_s() == pytest.approx(0.1)
            assert p.diagnostics()["board_time_s"] == pytest.approx(0.1)
        finally:
            p.close()
    finally:
        board.stop.set()
        board.join(1.0)
    services = [(pk.apid, pk.service) for pk in board.got]
    assert services == [(Apid.SYSTEM, Service.PING), (Apid.SYSTEM, Service.RESET),
                        (Apid.SYSTEM, Service.HOUSEKEEPING),
                        (Apid.HEATER, Service.SET_POWER), (Apid.SYSTEM, Service.TIME_SYNC),
                        (Apid.SYSTEM, Service.HOUSEKEEPING)]
    tx = (tmp_path / "run" / TX_CAPTURE).read_bytes()
    assert FrameDecoder().feed(tx) == board.got  # the capture holds exactly what was sent
    assert len(FrameDecoder().feed((tmp_path / "run" / RX_CAPTURE).read_bytes())) == 6

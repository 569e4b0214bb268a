"""ground.gse.emulator: the board side of the ICD, byte for byte, in-process and over TCP/pty."""

from __future__ import annotations

import dataclasses
import math
import os
import random
import re
import select
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml

from common.clock import SteppedClock
from common.errors import ConfigError
from ground.gse.board_server import BOARD_DEVICES, load_board_platform
from ground.gse.emulator import MAX_STEPS_PER_POLL, BoardEmulator
from ground.gse.emulator_cli import run_emulator
from hal.errors import DeviceError
from hal.registry import load_hardware
from hal.serial import icd
from hal.serial.framing import FrameDecoder, Packet, encode_frame, tc, tm
from hal.sim import devices as dev
from hal.sim.backend import SimPlatform, build

REPO = Path(__file__).resolve().parents[2]
SIM_YAML = REPO / "configs" / "hardware" / "sim.yaml"
QUICK_YAML = REPO / "configs" / "missions" / "quick.yaml"
SMALL = {"mass_kg": 0.02, "ice_mass_fraction": 0.056, "initial_temp_k": 40.0}
A, S, ST = icd.Apid, icd.Service, icd.Status
WAIT_S = 1.5  # longest wait for a reply; every wait is a select() with a deadline


def quiet_platform(seed: int = 1) -> SimPlatform:
    """The sim.yaml platform with every sensor noise-free, so HK equals the plant."""
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    devices = {r: dataclasses.replace(d, noise=0.0) for r, d in cfg.devices.items()}
    return build("sim.yaml:", cfg.plant, devices, SMALL, seed)


@pytest.fixture
def platform() -> SimPlatform:
    return quiet_platform()


@pytest.fixture
def board(platform: SimPlatform) -> BoardEmulator:
    return BoardEmulator(platform, "lockstep")


def frame(apid: int, seq: int, service: int, payload: bytes = b"") -> bytes:
    return encode_frame(tc(apid, seq, service, payload).pack())


def u16(v: int) -> bytes:
    return v.to_bytes(2, "big")


def u32(v: int) -> bytes:
    return v.to_bytes(4, "big")


def decode(data: bytes) -> list[Packet]:
    return FrameDecoder().feed(data)


def assert_reply(reply: Packet | None, apid: int, seq: int, service: int, status: int) -> None:
    assert reply is not None
    assert (reply.is_tc, reply.apid, reply.seq, reply.service, reply.status) == (
        False, apid, seq, service, status)
    if status != ST.OK:
        assert reply.payload == b""


# ---- transports as seen by a client --------------------------------------------------------


class Conn:
    """A client end: a TCP socket or the pty slave fd."""

    def __init__(self, sock: socket.socket | None = None, fd: int | None = None) -> None:
        self.sock, self.fd = sock, fd

    def fileno(self) -> int:
        return self.sock.fileno() if self.sock is not None else self.fd  # type: ignore[return-value]

    def send(self, data: bytes) -> None:
        if self.sock is not None:
            self.sock.sendall(data)
        else:
            os.write(self.fd, data)  # type: ignore[arg-type]

    def read(self) -> bytes:
        return self.sock.recv(4096) if self.sock is not None else os.read(self.fd, 4096)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        else:
            os.close(self.fd)  # type: ignore[arg-type]


def tcp_client(port: int) -> Conn:
    return Conn(sock=socket.create_connection(("127.0.0.1", port), timeout=WAIT_S))


def pty_client(path: str) -> Conn:
    return Conn(fd=os.open(path, os.O_RDWR | os.O_NOCTTY))


def recv(conn: Conn, n: int, timeout: float = WAIT_S) -> tuple[list[Packet], bytes]:
    """Read until ``n`` packets arrived or the deadline passed (bounded select waits)."""
    decoder, got, raw = FrameDecoder(), [], bytearray()
    deadline = time.monotonic() + timeout
    while len(got) < n:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([conn], [], [], left)[0]:
            break
        data = conn.read()
        if not data:
            break
        raw += data
        got += decoder.feed(data)
    return got, bytes(raw)


def silent(conn: Conn, wait: float = 0.15) -> bool:
    """True if nothing arrives within ``wait`` seconds."""
    return not select.select([conn], [], [], wait)[0]


def exchange(conn: Conn, data: bytes, n: int = 1) -> list[Packet]:
    conn.send(data)
    got, _ = recv(conn, n)
    assert len(got) == n, f"expected {n} replies, got {len(got)}"
    return got


@pytest.fixture
def tcp_board(board: BoardEmulator):
    port = board.serve_tcp(0)
    board.start()
    yield board, port
    board.stop()


@pytest.fixture
def pty_board(board: BoardEmulator):
    path = board.serve_pty()
    board.start()
    yield board, path
    board.stop()


# ---- the ICD, through handle() and receive() ------------------------------------------------


def test_icd_example_exchange_is_byte_exact(board: BoardEmulator, platform: SimPlatform):
    """docs/icd.md section 6: heater to 12.5 W, sequence count 5."""
    reply = board.receive(bytes.fromhex("05 10 20 C0 05 07 02 10 04 E2 BA 53 00"))
    # TM, APID 0x020, seq 5, data length 1, service 0x10, status 0; CRC 0xF6EC
    assert reply == bytes.fromhex("01 04 20 C0 05 03 01 10 03 F6 EC 00")
    assert platform.plant.inputs.heater_power_w == 12.5


@pytest.mark.parametrize("apid", list(A))
def test_ping_acks_on_every_apid(board: BoardEmulator, apid: A):
    assert_reply(board.handle(tc(apid, 77, S.PING)), apid, 77, S.PING, ST.OK)
    (reply,) = decode(board.receive(frame(apid, 16383, S.PING)))
    assert_reply(reply, apid, 16383, S.PING, ST.OK)
    assert reply.payload == b""


def test_housekeeping_is_the_plant_within_resolution(board: BoardEmulator,
                                                     platform: SimPlatform):
    plant = platform.plant
    plant.trap.reservoir_kg = 2.0e-3
    plant.inputs.heater_power_w = 20.0
    plant.inputs.cryocooler_on = True
    plant.inputs.valve_open = True
    plant.inputs.electrolyzer_current_a = 3.0
    for _ in range(200):
        platform.advance(1.0)
    reply = board.handle(tc(A.SYSTEM, 1, S.HOUSEKEEPING))
    assert_reply(reply, A.SYSTEM, 1, S.HOUSEKEEPING, ST.OK)
    assert len(reply.payload) == icd.HK_LAYOUT.size == 32
    hk = icd.HK_LAYOUT.unpack(reply.payload)
    cfg = load_hardware(SIM_YAML, BOARD_DEVICES)
    want = {name: dev.SENSOR_CHANNELS[cfg.devices[role].channel](plant)
            for name, role in [("heater_temp_k", "heater_temp"), ("sample_temp_k", "sample_temp"),
                               ("trap_temp_k", "trap_temp"),
                               ("chamber_pressure_pa", "chamber_pressure"),
                               ("h2_tank_pressure_pa", "h2_tank"),
                               ("o2_tank_pressure_pa", "o2_tank"),
                               ("reservoir_mass_kg", "reservoir")]}
    want.update(stack_voltage_v=plant.stack.voltage_v, stack_current_a=plant.stack.current_a,
                bus_power_w=plant.bus_power_w, bus_cap_w=45.0, valve_open=1.0,
                cryocooler_on=1.0)
    assert want["heater_temp_k"] > 100.0 and want["stack_voltage_v"] > 1.0
    assert want["h2_tank_pressure_pa"] > 0.0 and want["bus_power_w"] > 20.0
    for f in icd.HK_LAYOUT.fields:
        tol = abs(want[f.name]) * 1e-6 if f.fmt == "f" else f.scale / 2 * (1 + 1e-9)
        assert abs(hk[f.name] - want[f.name]) <= tol, f.name


class Stub:
    """A device whose every read returns ``value`` (or raises it, if an exception)."""

    def __init__(self, value: object) -> None:
        self.value = value

    def _read(self, *args: object) -> object:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value

    read_temp_k = read_pressure_pa = read_mass_kg = set_power_w = set_open = _read


def test_housekeeping_saturates_at_the_layout_range(board: BoardEmulator,
                                                    platform: SimPlatform):
    platform.devices["heater_temp"] = Stub(900.0)
    platform.devices["h2_tank"] = Stub(3.0e9)
    platform.devices["chamber_pressure"] = Stub(-4.0)
    hk = icd.HK_LAYOUT.unpack(board.handle(tc(A.SYSTEM, 1, S.HOUSEKEEPING)).payload)
    assert hk["heater_temp_k"] == pytest.approx(655.35)
    assert hk["h2_tank_pressure_pa"] == 1.0e8
    assert hk["chamber_pressure_pa"] == 0.0


@pytest.mark.parametrize("bad", [DeviceError("heater_temp", "open circuit"), math.nan])
def test_housekeeping_of_a_failed_sensor_is_a_device_fault(board: BoardEmulator,
                                                           platform: SimPlatform, bad):
    platform.devices["heater_temp"] = Stub(bad)
    assert_reply(board.handle(tc(A.SYSTEM, 9, S.HOUSEKEEPING)), A.SYSTEM, 9, S.HOUSEKEEPING,
                 ST.DEVICE_FAULT)
    assert board.stats.device_faults == 1 and board.stats.nacks == 1


def test_a_device_that_raises_on_command_is_a_device_fault(board: BoardEmulator,
                                                           platform: SimPlatform):
    platform.devices["heater"] = Stub(DeviceError("heater", "driver tripped"))
    assert_reply(board.handle(tc(A.HEATER, 2, S.SET_POWER, u16(500))), A.HEATER, 2,
                 S.SET_POWER, ST.DEVICE_FAULT)
    assert "driver tripped" in board.stats.errors[-1]


@pytest.mark.parametrize(("apid", "service", "payload", "attr", "value"), [
    (A.HEATER, S.SET_POWER, u16(1234), "heater_power_w", 12.34),
    (A.HEATER, S.SET_POWER, u16(65535), "heater_power_w", 655.35),
    (A.TRAP_HEATER, S.SET_POWER, u16(250), "trap_heater_power_w", 2.5),
    (A.VALVE, S.SET_OPEN, b"\x01", "valve_open", True),
    (A.CRYOCOOLER, S.SET_ON, b"\x01", "cryocooler_on", True),
    (A.ELECTROLYZER, S.SET_CURRENT, u16(15000), "electrolyzer_current_a", 15.0),
])
def test_set_commands_drive_the_plant(board: BoardEmulator, platform: SimPlatform,
                                      apid, service, payload, attr, value):
    (reply,) = decode(board.receive(frame(apid, 3, service, payload)))
    assert_reply(reply, apid, 3, service, ST.OK)
    assert reply.payload == b""
    assert getattr(platform.plant.inputs, attr) == pytest.approx(value, abs=1e-12)
    if isinstance(value, bool):  # and back off
        board.handle(tc(apid, 4, service, b"\x00"))
        assert getattr(platform.plant.inputs, attr) is False


@pytest.mark.parametrize(("apid", "service", "payload", "status"), [
    (0x7FF, S.PING, b"", ST.UNKNOWN_APID),
    (0x011, S.HOUSEKEEPING, b"", ST.UNKNOWN_APID),
    (A.HEATER, S.SET_OPEN, b"\x01", ST.UNKNOWN_SERVICE),
    (A.VALVE, S.HOUSEKEEPING, b"", ST.UNKNOWN_SERVICE),
    (A.SYSTEM, 0xEE, b"", ST.UNKNOWN_SERVICE),
    (A.SYSTEM, S.PING, b"\x00", ST.BAD_LENGTH),
    (A.SYSTEM, S.HOUSEKEEPING, b"\x00", ST.BAD_LENGTH),
    (A.HEATER, S.SET_POWER, b"\x01", ST.BAD_LENGTH),
    (A.VALVE, S.SET_OPEN, b"\x00\x01", ST.BAD_LENGTH),
    (A.SYSTEM, S.TIME_SYNC, u16(100), ST.BAD_LENGTH),
    (A.VALVE, S.SET_OPEN, b"\x02", ST.OUT_OF_RANGE),
    (A.CRYOCOOLER, S.SET_ON, b"\xff", ST.OUT_OF_RANGE),
    (A.SYSTEM, S.TIME_SYNC, u32(0), ST.OUT_OF_RANGE),
    (A.SYSTEM, S.TIME_SYNC, u32(60_000_001), ST.OUT_OF_RANGE),
])
def test_nacks(board: BoardEmulator, platform: SimPlatform, apid, service, payload, status):
    (reply,) = decode(board.receive(frame(apid, 41, service, payload)))
    assert_reply(reply, apid, 41, service, status)
    assert platform.plant.inputs == type(platform.plant.inputs)()  # nothing moved
    assert platform.clock.now_s() == 0.0
    assert board.stats.nacks == 1 and board.stats.acks == 0


def test_time_sync_in_realtime_is_not_in_mode(platform: SimPlatform):
    board = BoardEmulator(platform, "realtime", clock=SteppedClock())
    assert_reply(board.handle(tc(A.SYSTEM, 5, S.TIME_SYNC, u32(100_000))), A.SYSTEM, 5,
                 S.TIME_SYNC, ST.NOT_IN_MODE)
    assert platform.clock.now_s() == 0.0


def test_lockstep_time_sync_advances_exactly_dt(board: BoardEmulator, platform: SimPlatform):
    reply = board.handle(tc(A.SYSTEM, 1, S.TIME_SYNC, u32(100_000)))
    assert_reply(reply, A.SYSTEM, 1, S.TIME_SYNC, ST.OK)
    assert platform.clock.now_s() == 0.1  # exactly, not 100000 * 1e-6
    assert icd.TIME_LAYOUT.unpack(reply.payload)["time_s"] == pytest.approx(0.1)
    for seq in range(2, 11):
        board.handle(tc(A.SYSTEM, seq, S.TIME_SYNC, u32(100_000)))
    assert platform.clock.now_s() == 1.0
    reply = board.handle(tc(A.SYSTEM, 11, S.TIME_SYNC, u32(60_000_000)))
    assert platform.clock.now_s() == 61.0
    assert reply.payload == u32(61_000)
    assert board.poll() == 0  # lockstep: only TIME_SYNC moves the plant


def test_duplicate_is_answered_from_memory_and_not_executed(board: BoardEmulator,
                                                            platform: SimPlatform):
    sync = frame(A.SYSTEM, 8, S.TIME_SYNC, u32(250_000))
    sync_reply = board.receive(sync)
    assert board.receive(sync) == sync_reply and len(decode(sync_reply)) == 1
    assert platform.clock.now_s() == 0.25  # advanced once
    # SET_POWER: the retry must not re-apply (someone changed the input meanwhile)
    power = frame(A.HEATER, 3, S.SET_POWER, u16(1000))
    first = board.receive(power)
    platform.plant.inputs.heater_power_w = 0.0
    assert board.receive(power) == first
    assert platform.plant.inputs.heater_power_w == 0.0
    # memories are per APID: a TC on another APID in between does not clear it
    board.receive(frame(A.VALVE, 3, S.SET_OPEN, b"\x01"))
    assert board.receive(sync) == sync_reply
    s = board.stats
    assert (s.duplicates, s.tcs, s.acks, s.frames_out) == (3, 6, 3, 6)
    # a NACK is remembered as well: its retry gets the same NACK
    bad = frame(A.VALVE, 4, S.SET_OPEN, b"\x02")
    assert board.receive(bad) == board.receive(bad)


def test_reused_count_with_other_bytes_is_a_new_command(board: BoardEmulator,
                                                        platform: SimPlatform):
    """After a flight restart the counters start again: same count, different TC."""
    board.handle(tc(A.HEATER, 0, S.SET_POWER, u16(1000)))
    board.handle(tc(A.HEATER, 0, S.SET_POWER, u16(300)))
    assert platform.plant.inputs.heater_power_w == 3.0
    assert board.stats.duplicates == 0


def test_tm_is_ignored_and_counted(board: BoardEmulator):
    assert board.handle(tm(A.SYSTEM, 1, S.PING, ST.OK)) is None
    assert board.receive(encode_frame(tm(A.HEATER, 2, S.SET_POWER, 0, u16(5)).pack())) == b""
    assert board.stats.tm_ignored == 2 and board.stats.tcs == 0


def test_realtime_follows_the_clock_times_speed(platform: SimPlatform):
    clock = SteppedClock(100.0)
    board = BoardEmulator(platform, "realtime", speed=10.0, clock=clock)
    assert board.poll() == 0
    clock.advance(1.0)
    assert board.poll() == 100
    assert platform.clock.now_s() == pytest.approx(10.0)
    clock.advance(0.005)  # 0.05 s of plant time: not yet a whole 0.1 s step
    assert board.poll() == 0
    clock.advance(0.005)
    assert board.poll() == 1
    # a request catches the plant up before it answers
    clock.advance(2.0)
    board.handle(tc(A.SYSTEM, 1, S.HOUSEKEEPING))
    assert platform.clock.now_s() == pytest.approx(30.1)
    # a long gap is caught up in bounded chunks
    clock.advance(100.0)
    assert board.poll() == MAX_STEPS_PER_POLL
    while board.poll():
        pass
    assert platform.clock.now_s() == pytest.approx(1030.1)
    assert board.stats.plant_steps == 10301


def test_every_single_bit_flip_is_dropped_without_reply(board: BoardEmulator,
                                                        platform: SimPlatform):
    good = frame(A.HEATER, 12, S.SET_POWER, u16(2000))
    for i in range((len(good) - 1) * 8):  # every bit but the delimiter's
        bad = bytearray(good)
        bad[i // 8] ^= 1 << (i % 8)
        assert board.receive(bytes(bad) + b"\x00") == b"", f"bit {i}"
    assert platform.plant.inputs.heater_power_w == 0.0
    s = board.stats
    assert s.crc_errors + s.cobs_errors + s.bad_packets > 0 and s.tcs == 0
    assert len(decode(board.receive(good))) == 1  # and the decoder is still in step
    assert platform.plant.inputs.heater_power_w == 20.0


def test_garbage_never_raises_and_valid_frames_still_get_through(board: BoardEmulator):
    rng = random.Random(3)
    for _ in range(300):
        board.receive(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80))))
    board.receive(b"\x55" * 400 + b"\x00")  # over-long: discarded up to the delimiter
    (reply,) = decode(board.receive(b"\x00" + frame(A.SYSTEM, 1, S.PING)))
    assert_reply(reply, A.SYSTEM, 1, S.PING, ST.OK)
    assert board.stats.too_long >= 1


def test_noise_is_seeded():
    def hk(seed: int) -> bytes:
        b = BoardEmulator(load_board_platform(QUICK_YAML, SIM_YAML, seed))
        return b.handle(tc(A.SYSTEM, 1, S.HOUSEKEEPING)).payload
    assert hk(5) == hk(5)
    assert hk(5) != hk(6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="time_mode"):
        BoardEmulator(quiet_platform(), "fast")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="speed"):
        BoardEmulator(quiet_platform(), "realtime", speed=0.0)
    b = BoardEmulator(quiet_platform())
    with pytest.raises(RuntimeError, match="serve"):
        b.start()
    b.serve_tcp(0)
    with pytest.raises(RuntimeError, match="already"):
        b.serve_pty()
    b.stop()


# ---- over TCP ------------------------------------------------------------------------------


def test_tcp_exchange(tcp_board, platform: SimPlatform):
    board, port = tcp_board
    assert board.endpoint.address == ("127.0.0.1", port)
    c = tcp_client(port)
    try:
        pings = exchange(c, b"".join(frame(a, 100 + i, S.PING) for i, a in enumerate(A)),
                         len(A))
        for i, (a, reply) in enumerate(zip(A, pings, strict=True)):
            assert_reply(reply, a, 100 + i, S.PING, ST.OK)
        (hk,) = exchange(c, frame(A.SYSTEM, 1, S.HOUSEKEEPING))
        assert icd.HK_LAYOUT.unpack(hk.payload)["heater_temp_k"] == pytest.approx(40.0, abs=0.01)
        (ack,) = exchange(c, frame(A.HEATER, 1, S.SET_POWER, u16(1500)))
        assert_reply(ack, A.HEATER, 1, S.SET_POWER, ST.OK)
        assert platform.plant.inputs.heater_power_w == 15.0
        (nack,) = exchange(c, frame(A.VALVE, 1, S.SET_OPEN, b"\x02"))
        assert_reply(nack, A.VALVE, 1, S.SET_OPEN, ST.OUT_OF_RANGE)
        sync = frame(A.SYSTEM, 2, S.TIME_SYNC, u32(100_000))
        c.send(sync + sync)
        got, raw = recv(c, 2)
        assert len(got) == 2 and raw[: len(raw) // 2] == raw[len(raw) // 2:]
        assert platform.clock.now_s() == 0.1
        # one byte at a time is the same stream
        for b in frame(A.CRYOCOOLER, 1, S.SET_ON, b"\x01"):
            c.send(bytes([b]))
        assert recv(c, 1)[0][0].status == ST.OK and platform.plant.inputs.cryocooler_on
    finally:
        c.close()
    s = board.stats
    assert s.duplicates == 1 and s.nacks == 1 and s.clients == 1 and s.bytes_out > 0


def test_tcp_garbage_and_flipped_bits_get_no_reply(tcp_board):
    board, port = tcp_board
    c = tcp_client(port)
    try:
        good = frame(A.SYSTEM, 3, S.PING)
        flipped = bytearray(good)
        flipped[4] ^= 0x10
        c.send(bytes(flipped) + bytes(random.Random(1).randrange(1, 256) for _ in range(50))
               + b"\x00" + b"\x00\x00\x01\x02\x00")
        assert silent(c)
        (reply,) = exchange(c, good)
        assert_reply(reply, A.SYSTEM, 3, S.PING, ST.OK)
    finally:
        c.close()
    s = board.stats
    assert s.crc_errors + s.cobs_errors + s.bad_packets >= 2 and board.running


def test_tcp_disconnect_reconnect_and_replacement(tcp_board):
    board, port = tcp_board
    a = tcp_client(port)
    exchange(a, frame(A.SYSTEM, 1, S.PING))
    a.send(frame(A.SYSTEM, 2, S.PING)[:4])  # half a frame, then gone
    a.close()
    b = tcp_client(port)  # the half frame must not spoil the new client's first frame
    assert_reply(exchange(b, frame(A.SYSTEM, 3, S.PING))[0], A.SYSTEM, 3, S.PING, ST.OK)
    c = tcp_client(port)  # replaces b
    assert_reply(exchange(c, frame(A.HEATER, 4, S.PING))[0], A.HEATER, 4, S.PING, ST.OK)
    got, raw = recv(b, 1)  # b was closed by the board
    assert got == [] and raw == b""
    b.close()
    c.close()
    d = tcp_client(port)
    assert_reply(exchange(d, frame(A.VALVE, 5, S.PING))[0], A.VALVE, 5, S.PING, ST.OK)
    d.close()
    s = board.stats
    assert s.clients == 4 and s.disconnects >= 2 and board.running


def test_realtime_board_over_tcp(platform: SimPlatform):
    clock = SteppedClock()
    board = BoardEmulator(platform, "realtime", speed=10.0, clock=clock)
    port = board.serve_tcp(0)
    board.start()
    c = tcp_client(port)
    try:
        (nack,) = exchange(c, frame(A.SYSTEM, 1, S.TIME_SYNC, u32(100_000)))
        assert nack.status == ST.NOT_IN_MODE
        clock.advance(0.5)
        exchange(c, frame(A.SYSTEM, 2, S.HOUSEKEEPING))
        assert platform.clock.now_s() == pytest.approx(5.0)
    finally:
        c.close()
        board.stop()


def test_stop_ends_the_thread_promptly(board: BoardEmulator):
    port = board.serve_tcp(0)
    board.start()
    c = tcp_client(port)
    exchange(c, frame(A.SYSTEM, 1, S.PING))
    t0 = time.monotonic()
    board.stop()
    assert time.monotonic() - t0 < 1.0
    assert not board.running
    assert not [t for t in threading.enumerate() if t.name == "board-emulator"]
    got, raw = recv(c, 1)
    assert raw == b""  # the board closed its end
    c.close()
    board.stop()  # idempotent
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()


# ---- over a pseudo-terminal ----------------------------------------------------------------


def test_pty_exchange(pty_board, platform: SimPlatform):
    board, path = pty_board
    assert re.fullmatch(r"/dev/pts/\d+", path)
    c = pty_client(path)
    try:
        (reply,) = exchange(c, frame(A.SYSTEM, 1, S.PING))
        assert_reply(reply, A.SYSTEM, 1, S.PING, ST.OK)
        (ack,) = exchange(c, frame(A.ELECTROLYZER, 1, S.SET_CURRENT, u16(2500)))
        assert_reply(ack, A.ELECTROLYZER, 1, S.SET_CURRENT, ST.OK)
        assert platform.plant.inputs.electrolyzer_current_a == 2.5
        (hk,) = exchange(c, frame(A.SYSTEM, 2, S.HOUSEKEEPING))
        assert len(hk.payload) == 32  # every byte value passes the raw terminal unchanged
        c.send(b"\x13\x11\x03\x04\x7f\r\n\xff\x00")  # XOFF, XON, ^C, ^D, DEL, CR LF: no reply
        assert silent(c)
        (reply,) = exchange(c, frame(A.SYSTEM, 3, S.TIME_SYNC, u32(1_000_000)))
        assert reply.payload == u32(1000) and platform.clock.now_s() == 1.0
    finally:
        c.close()
    c = pty_client(path)  # the client went and came back
    try:
        assert_reply(exchange(c, frame(A.VALVE, 9, S.PING))[0], A.VALVE, 9, S.PING, ST.OK)
    finally:
        c.close()
    t0 = time.monotonic()
    board.stop()
    assert time.monotonic() - t0 < 1.0 and not board.running


# ---- the CLI entry point -------------------------------------------------------------------


def start_cli(mode: str) -> tuple[threading.Thread, threading.Event, list[str], list[int]]:
    lines: list[str] = []
    rc: list[int] = []
    until = threading.Event()
    announced = threading.Event()

    def out(line: str) -> None:
        lines.append(line)
        announced.set()

    t = threading.Thread(target=lambda: rc.append(run_emulator(
        QUICK_YAML, SIM_YAML, mode, 0, True, 1.0, 3, out, until=until)), daemon=True)
    t.start()
    assert announced.wait(WAIT_S)
    return t, until, lines, rc


def test_run_emulator_tcp():
    t, until, lines, rc = start_cli("tcp")
    try:
        assert len(lines) == 1
        m = re.fullmatch(r"board emulator \(lockstep, watchdog 2 s\) on "
                         r"socket://127\.0\.0\.1:(\d+)", lines[0])
        assert m
        c = tcp_client(int(m.group(1)))
        assert_reply(exchange(c, frame(A.SYSTEM, 1, S.PING))[0], A.SYSTEM, 1, S.PING, ST.OK)
        c.close()
    finally:
        until.set()
        t.join(1.0)
    assert not t.is_alive() and rc == [0]


def test_run_emulator_pty():
    t, until, lines, rc = start_cli("pty")
    try:
        m = re.fullmatch(r"board emulator \(lockstep, watchdog 2 s\) on (/dev/pts/\d+)", lines[0])
        assert m
        c = pty_client(m.group(1))
        assert_reply(exchange(c, frame(A.SYSTEM, 1, S.PING))[0], A.SYSTEM, 1, S.PING, ST.OK)
        c.close()
    finally:
        until.set()
        t.join(1.0)
    assert not t.is_alive() and rc == [0]


def write(tmp_path: Path, name: str, data: dict) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def test_load_board_platform_takes_the_mission_sample(tmp_path: Path):
    mission = write(tmp_path, "m.yaml", {"name": "x", "seed": 4, "cycle_hz": 5,
                                         "sample": {"mass_kg": 0.05, "initial_temp_k": 60.0}})
    p = load_board_platform(mission, SIM_YAML)
    assert p.plant.params.sample.mass_kg == 0.05
    assert p.plant.params.sample.initial_temp_k == 60.0
    assert p.plant.params.power.bus_cap_w == 45.0  # the hardware YAML's plant override


@pytest.mark.parametrize(("mission", "hardware", "where"), [
    ({"sample": {"mass_kg": -1.0}}, None, "sample.mass_kg"),
    ({"sample": {"mass_kgs": 1.0}}, None, "sample.mass_kgs"),
    ({"seed": "seven"}, None, "seed"),
    ({}, {"backend": "serial"}, "backend"),
    ({}, {"devices": {"heater": {"kind": "heater", "channel": "heater"}}}, "devices"),
    ({}, {"devices.heater_temp.channel": "nope"}, "heater_temp.channel"),
])
def test_bad_config_raises_config_error(tmp_path: Path, mission, hardware, where):
    hw_data = yaml.safe_load(SIM_YAML.read_text(encoding="utf-8"))
    for key, value in (hardware or {}).items():
        if key.startswith("devices."):
            _, role, field = key.split(".")
            hw_data["devices"][role][field] = value
        else:
            hw_data[key] = value
    m = write(tmp_path, "m.yaml", {"name": "x", **mission})
    h = write(tmp_path, "h.yaml", hw_data)
    with pytest.raises(ConfigError, match=re.escape(where)):
        run_emulator(m, h, "tcp", 0, True, 1.0, None, lambda line: pytest.fail(line))


def test_missing_files_and_bad_arguments_raise_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        run_emulator(tmp_path / "none.yaml", SIM_YAML, "tcp", 0, True, 1.0, None)
    with pytest.raises(ConfigError, match="speed"):
        run_emulator(QUICK_YAML, SIM_YAML, "tcp", 0, False, -2.0, None)
    with pytest.raises(ConfigError, match="mode"):
        run_emulator(QUICK_YAML, SIM_YAML, "udp", 0, True, 1.0, None)  # type: ignore[arg-type]

"""The payload board, emulated: the board side of the ICD (:mod:`hal.serial.icd`) over a
:class:`hal.sim.backend.SimPlatform`.

:meth:`BoardEmulator.handle` executes one TC and returns its TM; :meth:`BoardEmulator.receive`
does the same for raw bytes (frames in, frames out). The board serves a pseudo-terminal or
a TCP port on 127.0.0.1 (:mod:`ground.gse.board_server`) in one of two time modes:

- ``lockstep``: the plant moves only on TIME_SYNC, by exactly the ``dt`` the flight side
  sends (deterministic, as fast as the link allows);
- ``realtime``: the plant follows the injected clock times ``speed``, in fixed
  :data:`PLANT_STEP_S` steps; TIME_SYNC is refused with NOT_IN_MODE.

Sessions: RESET (SYSTEM, the flight side sends it when it opens a session) turns every
actuator off and, with a ``platform_factory``, gives the board a fresh plant (the
mission's sample, the same seed) and restarts its clock, so two sessions on one emulator
see the same payload; its reply says the board's time mode, speed and watchdog.

Scoops: LOAD_SAMPLE (SYSTEM) puts the mission's next sample in the plant's crucible
(:meth:`hal.sim.backend.SimPlatform.load_sample`: the mission's ``samples:`` in turn,
then its ``sample`` again) and answers with the scoop's number; RESET (with a
``platform_factory``) starts again at scoop 1.

Link-loss watchdog: once a session has sent a TC, the board turns every actuator off by
itself when no valid TC has arrived for ``watchdog_s`` of wall time (a flight computer
that died must not leave the payload heating); the next TC re-arms it.

Duplicates: per APID the board keeps the sequence count, the TC bytes and the reply of the
last TC it answered; a retry (same APID, count and bytes) is not executed again, the
stored reply is re-sent. A TC that reuses a count with other bytes (e.g. after a flight
restart reset its counters) is a new command and is executed.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from typing import Literal

from common.clock import WallClock
from ground.gse.board_server import (
    BoardServer,
    Endpoint,
    PtyEndpoint,
    TcpEndpoint,
)
from ground.gse.board_tables import ACTUATORS, APIDS, HK_SOURCES, SERVICES, Statistics
from hal.interfaces import Clock
from hal.serial import icd
from hal.serial.framing import DecoderStats, FrameDecoder, Packet, encode_frame, tm
from hal.sim.backend import SimPlatform

TimeMode = Literal["lockstep", "realtime"]
#: plant step of the real-time mode [s] (plant time, not wall time)
PLANT_STEP_S = 0.1
#: at most this many plant steps per poll, so a late plant never starves the link
MAX_STEPS_PER_POLL = 500
#: default link-loss timeout [s of wall time] of the board's watchdog
WATCHDOG_S = 2.0

class _Nack(Exception):
    def __init__(self, status: icd.Status, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class BoardEmulator:
    """The payload board over a SimPlatform. Thread-safe (one lock around the plant).

    Args:
        platform: the simulated devices and plant the board stands for.
        time_mode: ``"lockstep"`` (TIME_SYNC moves the plant) or ``"realtime"``.
        speed: real-time only: plant seconds per second of ``clock``.
        clock: wall time source of the real-time plant and of the watchdog (default
            :class:`common.clock.WallClock`).
        platform_factory: builds a fresh platform for RESET (None: RESET only turns the
            actuators off and keeps the plant, and the scoop in its crucible).
        watchdog_s: link-loss timeout [s of ``clock``].
        on_event: called with one line for each reset, sample loaded and watchdog trip
            (e.g. print).

    Raises:
        ValueError: unknown ``time_mode``; ``speed`` or ``watchdog_s`` outside
            what RESET's reply can carry (0.01 .. 655.35).
    """

    def __init__(self, platform: SimPlatform, time_mode: TimeMode = "lockstep",
                 speed: float = 1.0, clock: Clock | None = None, *,
                 platform_factory: Callable[[], SimPlatform] | None = None,
                 watchdog_s: float = WATCHDOG_S,
                 on_event: Callable[[str], object] | None = None) -> None:
        if time_mode not in ("lockstep", "realtime"):
            raise ValueError(f"time_mode must be 'lockstep' or 'realtime', got {time_mode!r}")
        speed_f, watchdog_f = icd.RESET_LAYOUT.fields[1:]
        if not speed_f.lo <= speed <= speed_f.hi:
            raise ValueError(f"speed must be in [{speed_f.lo}, {speed_f.hi}], got {speed}")
        if not watchdog_f.lo <= watchdog_s <= watchdog_f.hi:
            raise ValueError(f"watchdog_s must be in [{watchdog_f.lo}, {watchdog_f.hi}] s, "
                             f"got {watchdog_s}")
        self.platform = platform
        self.time_mode: TimeMode = time_mode
        self.speed = float(speed)
        self.clock: Clock = clock if clock is not None else WallClock()
        self.watchdog_s = float(watchdog_s)
        self._factory = platform_factory
        self._on_event = on_event
        self._last_tc_s = self.clock.now_s()
        self._armed = False  # a session has sent a TC since the last trip or reset
        self._epoch_s = self.clock.now_s()
        self._steps_done = 0
        self._lock = threading.RLock()
        self._last: dict[int, tuple[int, bytes, Packet]] = {}  # apid -> (seq, tc, reply)
        self._decoder = FrameDecoder()
        self._old = DecoderStats()  # decoders of earlier clients, summed
        self._stats = Statistics()
        self._server: BoardServer | None = None

    # ---- protocol ----------------------------------------------------------------
    def handle(self, packet: Packet) -> Packet | None:
        """Execute one TC and return its TM (ACK or NACK, same APID and count).

        A TM (wrong packet type) is ignored and counted: None. A retry of the last TC of
        its APID returns the stored reply without executing. Never raises.
        """
        with self._lock:
            s = self._stats
            if not packet.is_tc:
                s.tm_ignored += 1
                return None
            s.tcs += 1
            self._last_tc_s = self.clock.now_s()
            self._armed = True
            if (packet.apid == icd.Apid.SYSTEM and packet.service == icd.Service.PING
                    and packet.seq == 0):
                self._last.clear()  # a new session (ICD 3): forget the stored replies
            tc_bytes = packet.pack()
            last = self._last.get(packet.apid)
            if last is not None and last[0] == packet.seq and last[1] == tc_bytes:
                s.duplicates += 1
                return dataclasses.replace(last[2])
            self.poll()
            try:
                reply = tm(packet.apid, packet.seq, packet.service, int(icd.Status.OK),
                           self._execute(packet))
                s.acks += 1
            except _Nack as exc:
                reply = tm(packet.apid, packet.seq, packet.service, int(exc.status))
                s.nacks += 1
                if exc.status == icd.Status.DEVICE_FAULT:
                    s.device_faults += 1
                self.note_error(f"NACK {exc.status.name} apid {packet.apid:#05x} "
                                f"seq {packet.seq}: {exc}")
            self._last[packet.apid] = (packet.seq, tc_bytes, reply)
            return dataclasses.replace(reply)

    def _execute(self, p: Packet) -> bytes:
        """The ACK payload of TC ``p``. Raises _Nack with the status to send."""
        if p.apid not in APIDS:
            raise _Nack(icd.Status.UNKNOWN_APID, "no such APID")
        if p.service not in SERVICES or (icd.Apid(p.apid), icd.Service(p.service)) \
                not in icd.COMMANDS:
            raise _Nack(icd.Status.UNKNOWN_SERVICE, f"service {p.service:#04x}")
        tc_layout, _ = icd.COMMANDS[(icd.Apid(p.apid), icd.Service(p.service))]
        if len(p.payload) != tc_layout.size:
            raise _Nack(icd.Status.BAD_LENGTH, f"{len(p.payload)} bytes, not {tc_layout.size}")
        try:
            args = tc_layout.unpack(p.payload)  # exact scaling: 100000 us is 0.1 s
        except ValueError as exc:
            raise _Nack(icd.Status.OUT_OF_RANGE, str(exc)) from None
        try:
            return self._act(p.apid, p.service, args)
        except _Nack:
            raise
        except Exception as exc:  # the device failed to act: tell the flight side
            raise _Nack(icd.Status.DEVICE_FAULT, f"{type(exc).__name__}: {exc}") from None

    def _act(self, apid: int, service: int, args: dict[str, float]) -> bytes:
        if service == icd.Service.PING:
            return b""
        if service == icd.Service.HOUSEKEEPING:
            return self._housekeeping()
        if service == icd.Service.RESET:
            return self._reset()
        if service == icd.Service.LOAD_SAMPLE:
            scoop = self.platform.load_sample()
            self._event(f"sample loaded: scoop {scoop}")
            return icd.SAMPLE_LAYOUT.pack({"scoop": float(scoop)})
        if service == icd.Service.TIME_SYNC:
            if self.time_mode != "lockstep":
                raise _Nack(icd.Status.NOT_IN_MODE, "the board runs on its own clock")
            self.platform.advance(args["dt_s"])
            return self._board_time()
        role, method, name = ACTUATORS[(apid, service)]
        value = args[name]
        getattr(self.platform.devices[role], method)(bool(value) if name == "on" else value)
        return b""

    def _reset(self) -> bytes:
        """A new session: every actuator off, a fresh plant (with a factory), the clock
        restarted; the reply says how the board keeps time."""
        if self._factory is not None:
            self.platform = self._factory()
            what = "a fresh plant"
        else:
            self._all_off()
            what = "every actuator off"
        self._epoch_s = self.clock.now_s()
        self._steps_done = 0
        self._stats.resets += 1
        self._event(f"session reset: {what}")
        return icd.RESET_LAYOUT.pack({"lockstep": float(self.time_mode == "lockstep"),
                                      "speed": self.speed, "watchdog_s": self.watchdog_s})

    def _all_off(self) -> list[str]:
        """Command every actuator off; returns those that were on (``heater 24.8 W``)."""
        inputs, was_on = self.platform.plant.inputs, []
        for name in ("heater_power_w", "trap_heater_power_w", "electrolyzer_current_a"):
            value = getattr(inputs, name)
            if value > 0.0:
                was_on.append(f"{name} {value:g}")
        for name in ("valve_open", "cryocooler_on"):
            if getattr(inputs, name):
                was_on.append(name)
        for role, method, arg in ACTUATORS.values():
            getattr(self.platform.devices[role], method)(False if arg == "on" else 0.0)
        return was_on

    def _watch(self) -> None:
        """The link-loss watchdog (under the lock): silent too long -> every actuator off."""
        if self._armed and self.clock.now_s() - self._last_tc_s > self.watchdog_s:
            self._armed = False
            self._stats.watchdog_trips += 1
            was_on = self._all_off()
            if was_on:  # (a session that ended with everything off needs no word)
                self._event(f"watchdog: no TC for {self.watchdog_s:g} s, every actuator "
                            f"off (was on: {', '.join(was_on)})")

    def _event(self, line: str) -> None:
        if self._on_event is not None:
            self._on_event(line)

    def _board_time(self) -> bytes:
        """u32 board time [ms]; it wraps after 2**32 ms (49.7 days), like a counter."""
        ms = round(self.platform.clock.now_s() * 1000.0) % (1 << 32)
        return icd.TIME_LAYOUT.struct.pack(ms)

    def _housekeeping(self) -> bytes:
        """Every sensor, saturated into its layout range. Raises on a failed/NaN read."""
        dev = self.platform.devices
        values: dict[str, float] = {}
        for f in icd.HK_LAYOUT.fields:
            if f.name == "cryocooler_on":
                v = float(self.platform.plant.inputs.cryocooler_on)
            else:
                role, method = HK_SOURCES[f.name]
                v = float(getattr(dev[role], method)())
            if math.isnan(v):
                raise ValueError(f"{f.name} reads NaN")
            values[f.name] = min(max(v, f.lo), f.hi)  # a real sensor saturates
        return icd.HK_LAYOUT.pack(values)

    # ---- bytes and time ------------------------------------------------------------
    def receive(self, data: bytes) -> bytes:
        """Bytes from the link (any chunking) -> the reply frames to write. Never raises."""
        out = bytearray()
        with self._lock:
            for packet in self._decoder.feed(data):
                reply = self.handle(packet)
                if reply is not None:
                    out += encode_frame(reply.pack())
                    self._stats.frames_out += 1
        return bytes(out)

    def reset_link(self) -> None:
        """A new client: drop any half-received frame and the stored replies (a new
        session); decoder statistics are kept."""
        with self._lock:
            self._last.clear()
            old, d = self._old, self._decoder.stats
            for name in ("frames", "bytes_in", "crc_errors", "cobs_errors", "too_long",
                         "bad_packets", "empty_frames"):
                setattr(old, name, getattr(old, name) + getattr(d, name))
            self._decoder = FrameDecoder()

    def poll(self) -> int:
        """Real time: step the plant by :data:`PLANT_STEP_S` for each step that the clock
        times ``speed`` says is due (at most :data:`MAX_STEPS_PER_POLL`). Returns the
        steps taken; always 0 in lockstep. Runs the link-loss watchdog first."""
        with self._lock:
            self._watch()
            if self.time_mode != "realtime":
                return 0
            due_s = (self.clock.now_s() - self._epoch_s) * self.speed
            n = min(int(due_s / PLANT_STEP_S + 1e-9) - self._steps_done, MAX_STEPS_PER_POLL)
            for _ in range(n):
                self.platform.advance(PLANT_STEP_S)
            n = max(n, 0)
            self._steps_done += n
            self._stats.plant_steps += n
            return n

    def note_error(self, reason: str) -> None:
        """Keep ``reason`` among the last few errors of :attr:`stats`."""
        with self._lock:
            self._stats.errors.append(reason)
            del self._stats.errors[:-8]

    @property
    def stats(self) -> Statistics:
        """A snapshot of the statistics (decoder, protocol and transport counts)."""
        with self._lock:
            s = dataclasses.replace(self._stats, errors=list(self._stats.errors))
            d, o = self._decoder.stats, self._old
            s.frames_in = d.frames + o.frames
            s.bytes_in = d.bytes_in + o.bytes_in
            s.crc_errors = d.crc_errors + o.crc_errors
            s.cobs_errors = d.cobs_errors + o.cobs_errors
            s.too_long = d.too_long + o.too_long
            s.bad_packets = d.bad_packets + o.bad_packets
            s.empty_frames = d.empty_frames + o.empty_frames
            s.errors = (o.errors + d.errors + s.errors)[-8:]
        if self._server is not None:
            for name, n in self._server.endpoint.counters.items():
                setattr(s, name, n)
        return s

    # ---- serving -------------------------------------------------------------------
    def serve_pty(self) -> str:
        """Open a pseudo-terminal (raw mode) and return the path a client opens
        (e.g. ``/dev/pts/7``). Serve it with :meth:`start` or :meth:`run_forever`.

        Raises:
            RuntimeError: this board already serves an endpoint.
            OSError: no pseudo-terminal available.
        """
        endpoint = PtyEndpoint()
        self._attach(endpoint)
        return endpoint.path

    def serve_tcp(self, port: int) -> int:
        """Listen on 127.0.0.1:``port`` (0: a free port) and return the port. One client
        at a time; a new connection replaces the old one.

        Raises:
            RuntimeError: this board already serves an endpoint.
            OSError: the port cannot be bound.
        """
        endpoint = TcpEndpoint(port)
        self._attach(endpoint)
        return endpoint.port

    def _attach(self, endpoint: Endpoint) -> None:
        if self._server is not None:
            endpoint.close()
            raise RuntimeError("the board already serves an endpoint")
        self._server = BoardServer(self, endpoint)

    def start(self) -> None:
        """Serve in a background thread; returns once serving.

        Raises:
            RuntimeError: no endpoint (call serve_pty/serve_tcp first) or already started.
        """
        self._require_server().start()

    def run_forever(self, until: threading.Event | None = None) -> None:
        """Serve in this thread until :meth:`stop`, ``until`` is set or KeyboardInterrupt
        (which propagates). Raises RuntimeError without an endpoint."""
        self._require_server().run_forever(until)

    def stop(self) -> None:
        """Stop serving (within a second) and close the endpoint; idempotent."""
        if self._server is not None:
            self._server.stop()

    @property
    def endpoint(self) -> Endpoint | None:
        """The pty or TCP endpoint being served, None before serve_pty/serve_tcp."""
        return None if self._server is None else self._server.endpoint

    @property
    def running(self) -> bool:
        """True while the background thread serves."""
        return self._server is not None and self._server.running

    def _require_server(self) -> BoardServer:
        if self._server is None:
            raise RuntimeError("call serve_pty() or serve_tcp() first")
        return self._server

    def __enter__(self) -> BoardEmulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""The bench platform: the payload board (or its emulator) over a serial link.

Two time modes (``serial.time_mode``):

- ``lockstep``: mission time is a :class:`common.clock.SteppedClock`. ``advance(dt)`` sends
  TIME_SYNC(dt) (the emulator steps its plant by exactly dt), advances the clock, then
  polls housekeeping. A serial SIL run is deterministic and as fast as the link allows.
- ``realtime``: mission time is :class:`common.clock.WallClock`. ``advance(dt)`` sleeps until
  the next cycle deadline, then polls housekeeping. A cycle that overran by more than one
  ``dt`` is counted (``cycle_overruns``) and the schedule restarts from now, rather than
  bursting to catch up.

Link deadlines are always measured on the wall clock (the board answers in wall time).
The first housekeeping poll happens at construction, so the first cycle has readings.
A failed TIME_SYNC or poll never raises out of ``advance``: the snapshot goes stale and
the sensors raise DeviceTimeout, which flight (FDIR) sees as missing readings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.clock import SteppedClock, WallClock
from common.errors import ConfigError
from common.schema import load, param
from hal.errors import DeviceTimeout, HalError
from hal.interfaces import SampleExchangeError
from hal.serial.board import CHANNELS, Board, make_device
from hal.serial.framing import encode_frame, tc, tm
from hal.serial.icd import (
    HK_LAYOUT,
    TIME_MODE_OF_LOCKSTEP,
    TIME_SYNC_LAYOUT,
    Apid,
    Service,
    Status,
)
from hal.serial.link import Link, Nack, status_name
from hal.serial.transport import SerialTransport, is_device_path

BAUDRATES = (9600, 38400, 57600, 115200, 230400)
TIME_MODES = ("lockstep", "realtime")
#: bytes on the wire of the longest regular exchange: a TIME_SYNC TC + a housekeeping TM
_EXCHANGE_BYTES = (len(encode_frame(tc(Apid.SYSTEM, 0, Service.TIME_SYNC,
                                       bytes(TIME_SYNC_LAYOUT.size)).pack()))
                   + len(encode_frame(tm(Apid.SYSTEM, 0, Service.HOUSEKEEPING, Status.OK,
                                         bytes(HK_LAYOUT.size)).pack())))


@dataclass(frozen=True)
class SerialConfig:
    """The ``serial:`` section of a hardware YAML."""

    url: str = param(doc="pyserial port: /dev/ttyACM0, or socket://127.0.0.1:5555")
    baudrate: int = param(115200, 9600, 230400, f"line rate [bit/s], one of {BAUDRATES}")
    timeout_s: float = param(0.05, 0.001, 5.0, "how long one try waits for its reply [s]")
    retries: int = param(3, 0, 10, "re-sends after a try times out")
    time_mode: str = param("lockstep", choices=TIME_MODES,
                           doc="lockstep: TIME_SYNC steps the board; realtime: wall clock")
    capture: bool = param(False, doc="append raw tx/rx bytes to serial_*.bin in the run dir")
    boot_timeout_s: float = param(2.0, 0.0, 60.0, "how long to keep pinging at start [s]")


class BoardSilent(HalError):
    """The board never answered the start-up PING."""


class SerialPlatform:
    """Devices on the payload board; implements :class:`hal.interfaces.Platform`.

    Args:
        board: the board driver (its link already up).
        devices: role -> driver.
        time_mode: ``lockstep`` (``clock`` has ``advance``) or ``realtime`` (``clock`` has
            ``sleep_until``).
        clock: the mission clock.
        closer: releases the port (called once by :meth:`close`).
        where: 'file.yaml:' for messages.
    """

    def __init__(self, board: Board, devices: Mapping[str, object], time_mode: str,
                 clock: Any, closer: Callable[[], None] = lambda: None,
                 where: str = "hardware:") -> None:
        if time_mode not in TIME_MODES:
            raise ValueError(f"time_mode must be one of {TIME_MODES}, got {time_mode!r}")
        self.board = board
        self.devices = dict(devices)
        self.time_mode = time_mode
        self.clock = clock
        self.where = where
        self.cycle_overruns = 0
        self.sync_failures = 0
        self._closer: Callable[[], None] | None = closer
        self._deadline_s = clock.now_s()
        board.poll_housekeeping()

    def advance(self, dt_s: float) -> None:
        """Let ``dt_s`` [s] pass (TIME_SYNC or a wall-clock wait), then poll housekeeping.

        Raises:
            ValueError: ``dt_s`` is not a positive finite number.
            ConfigError: lockstep, but the board refuses TIME_SYNC as NOT_IN_MODE.
        """
        if not 0 < dt_s < math.inf:
            raise ValueError(f"dt_s must be finite and > 0, got {dt_s}")
        if self.time_mode == "lockstep":
            try:
                self.board.time_sync(dt_s)
            except Nack as exc:
                if exc.status == Status.NOT_IN_MODE:
                    raise ConfigError(f"{self.where} serial.time_mode", "lockstep, but the "
                                      "board runs on its own clock (TIME_SYNC refused: "
                                      "NOT_IN_MODE); use time_mode: realtime or start the "
                                      "emulator with --lockstep") from exc
                self.sync_failures += 1
            except HalError:
                self.sync_failures += 1
            self.clock.advance(dt_s)
        else:
            self._deadline_s += dt_s
            now = self.clock.now_s()
            if now > self._deadline_s + dt_s:
                self.cycle_overruns += 1
                self._deadline_s = now
            self.clock.sleep_until(self._deadline_s)
        self.board.poll_housekeeping()

    def load_sample(self) -> int:
        """Tell the board a fresh scoop is in the crucible (SYSTEM LOAD_SAMPLE; the
        emulator loads the mission's next sample into its plant); returns the number of
        the scoop now in it (2 after the session's first exchange).

        Raises:
            SampleExchangeError: the board refused (NACK: the message says why; a board
                whose firmware predates LOAD_SAMPLE answers UNKNOWN_SERVICE), did not
                answer, or answered out of the ICD.
        """
        try:
            return self.board.load_sample()
        except Nack as exc:
            why = ("its firmware predates the sample exchange (docs/icd.md section 10)"
                   if exc.status == Status.UNKNOWN_SERVICE else "the scoop was not counted")
            raise SampleExchangeError(f"the board refused LOAD_SAMPLE "
                                      f"({status_name(exc.status)}): {why}") from exc
        except HalError as exc:  # no reply (it may have been lost after the board acted)
            raise SampleExchangeError(f"LOAD_SAMPLE not confirmed, the board's scoop count "
                                      f"is unknown: {exc}") from exc

    def diagnostics(self) -> dict[str, float]:
        """Link counters (``link_*``), housekeeping staleness, board time, overruns."""
        stats = getattr(self.board.link, "stats", None)
        d = stats.as_telemetry() if stats is not None else {}
        d["link_hk_stale"] = 1.0 if self.board.stale else 0.0
        d["link_hk_failures"] = float(self.board.hk_failures)
        d["link_sync_failures"] = float(self.sync_failures)
        d["board_time_s"] = float(self.board.board_time_s)
        d["cycle_overruns"] = float(self.cycle_overruns)
        return d

    def close(self) -> None:
        """Close the port (and capture files); safe to call twice."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()


def check_devices(where: str, devices: Mapping[str, Any]) -> dict[str, str]:
    """role -> board channel, validated against :data:`hal.serial.board.CHANNELS`.

    A kind with one channel may leave ``channel`` empty. Raises ConfigError naming
    ``devices.<role>.channel`` (with the allowed channels) or ``devices.<role>.noise``.
    """
    out: dict[str, str] = {}
    for role, d in devices.items():
        allowed = CHANNELS[d.kind]
        channel = d.channel or (allowed[0] if len(allowed) == 1 else "")
        if channel not in allowed:
            raise ConfigError(f"{where} devices.{role}.channel",
                              f"unknown serial channel {d.channel!r} for a {d.kind}; "
                              f"allowed: {', '.join(allowed)}")
        if d.noise:
            raise ConfigError(f"{where} devices.{role}.noise", "sensor noise is a sim "
                              "setting; on the serial backend the board's readings are used "
                              "as they come (remove it)")
        out[role] = channel
    return out


def load_config(where: str, serial_cfg: Mapping[str, Any]) -> SerialConfig:
    """Validate the ``serial:`` section. Raises ConfigError naming ``serial.<key>``."""
    cfg = load(SerialConfig, dict(serial_cfg), f"{where} serial")
    if cfg.baudrate not in BAUDRATES:
        raise ConfigError(f"{where} serial.baudrate",
                          f"{cfg.baudrate} is not one of {', '.join(map(str, BAUDRATES))}")
    if is_device_path(cfg.url):
        need_s = 2 * 10 * _EXCHANGE_BYTES / cfg.baudrate  # 10 bits per byte, 2x margin
        if cfg.timeout_s < need_s:
            raise ConfigError(f"{where} serial.timeout_s", f"{cfg.timeout_s:g} s is too short "
                              f"for a {_EXCHANGE_BYTES}-byte exchange at {cfg.baudrate} bit/s; "
                              f"use at least {need_s:.3f}")
    return cfg


def open_session(board: Board, where: str, time_mode: str) -> float:
    """RESET the board (every actuator off, a fresh session: a run never starts from
    what the last one left) and check that it keeps time as ``time_mode`` says.

    Returns the board's speed (board seconds per wall second; 1 on hardware), which the
    flight clock follows in real time so that flight and board agree on time.

    Raises:
        ConfigError: the board's time mode is not ``time_mode`` (names the key and the fix).
        DeviceError: the board refused RESET (an older board: update its firmware).
        DeviceTimeout, LinkError: from the link.
    """
    info = board.reset()
    mode = TIME_MODE_OF_LOCKSTEP[info["lockstep"]]
    if mode != time_mode:
        fix = ("start the emulator with --lockstep, or set serial.time_mode: realtime"
               if time_mode == "lockstep" else
               "set serial.time_mode: lockstep, or start the emulator without --lockstep")
        raise ConfigError(f"{where} serial.time_mode", f"{time_mode}, but the board runs "
                          f"{mode}" + (f" x{info['speed']:g}" if mode == "realtime" else "")
                          + f"; {fix}")
    return info["speed"]


def wait_for_board(board: Board, link: Link, clock: Any, url: str,
                   boot_timeout_s: float) -> None:
    """Open the session: PING SYSTEM at sequence count 0 (ICD 3, so the board forgets the
    replies of any previous session) until it answers or ``boot_timeout_s`` [s] have
    passed on ``clock`` (the wall clock).

    Raises:
        BoardSilent: no answer in time. DeviceError (NACK), LinkError: as they come.
    """
    deadline_s = clock.now_s() + boot_timeout_s
    sent0 = link.stats.frames_sent
    while True:
        link.restart_session()  # every boot ping is the session-opening PING at count 0
        try:
            board.ping(Apid.SYSTEM)
            return
        except DeviceTimeout:
            if clock.now_s() >= deadline_s:
                tries = link.stats.frames_sent - sent0
                raise BoardSilent(f"no answer from the board on {url} after {tries} tries: "
                                  "is the emulator running?") from None


def build(where: str, serial_cfg: Mapping[str, Any], devices: Mapping[str, Any],
          capture_dir: Path | None = None) -> SerialPlatform:
    """Open the port, find the board and build the drivers.

    ``where`` is 'file.yaml:'; ``devices`` maps role -> :class:`hal.registry.DeviceConfig`.
    Capture files go to ``capture_dir`` when ``serial.capture`` is true and a directory is
    given (a run directory); otherwise nothing is captured.

    Raises:
        ConfigError: the ``serial:`` section or a device channel is wrong, or the board
            keeps time otherwise than ``serial.time_mode`` says.
        LinkError: the port is missing, in use or refused.
        BoardSilent: the board does not answer PING within ``boot_timeout_s``.
    """
    cfg = load_config(where, serial_cfg)
    channels = check_devices(where, devices)
    wall = WallClock()
    transport = SerialTransport(cfg.url, cfg.baudrate, timeout_s=max(0.001, cfg.timeout_s / 5),
                                write_timeout_s=max(0.5, cfg.timeout_s),
                                capture_dir=capture_dir if cfg.capture else None)
    try:
        link = Link(transport, wall, cfg.timeout_s, cfg.retries)
        board = Board(link)
        wait_for_board(board, link, wall, cfg.url, cfg.boot_timeout_s)
        speed = open_session(board, where, cfg.time_mode)
        built = {role: make_device(board, role, devices[role].kind, channels[role])
                 for role in devices}
        # mission time starts at 0 once the board is up (the link keeps its own clock);
        # in real time it runs at the board's speed, so flight and board agree on time
        clock: Any = SteppedClock() if cfg.time_mode == "lockstep" else WallClock(speed)
        return SerialPlatform(board, built, cfg.time_mode, clock, transport.close, where)
    except BaseException:
        transport.close()
        raise

"""``thermine emulate``: build the board emulator from a mission and a sim hardware YAML
and serve it until Ctrl-C."""

from __future__ import annotations

import datetime as dt
import errno
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from common.errors import ConfigError
from ground.gse.board_server import load_board_platform
from ground.gse.emulator import WATCHDOG_S, BoardEmulator
from hal.serial.icd import RESET_LAYOUT


def run_emulator(mission: Path, hardware: Path, mode: Literal["pty", "tcp"], port: int,
                 lockstep: bool, speed: float, seed: int | None,
                 out: Callable[[str], Any] = print, *,
                 until: threading.Event | None = None,
                 watchdog_s: float = WATCHDOG_S) -> int:
    """The ``thermine emulate`` command: build the board, print one line saying where to
    connect (then one line per session reset and watchdog trip), serve until
    KeyboardInterrupt (or ``until`` is set); returns 0.

    Every session (RESET from the flight side) gets a fresh plant built from the same
    mission, hardware and seed, so two runs against one emulator see the same payload;
    LOAD_SAMPLE gives it the mission's next scoop (its ``samples:``, then its ``sample``
    again), and the next session starts at scoop 1 again.

    Raises:
        ConfigError: bad mission/hardware YAML, bad ``mode``, ``port``, ``speed`` or
            ``watchdog_s``; the TCP port is in use (the message says how to pick another).
        OSError: the pty or the port cannot be opened for another reason.
    """
    if mode not in ("pty", "tcp"):
        raise ConfigError("board emulator: mode", f"must be 'pty' or 'tcp', got {mode!r}")
    if not 0 <= port <= 65535:
        raise ConfigError("--tcp", f"port must be 0..65535, got {port}")
    speed_f, watchdog_f = RESET_LAYOUT.fields[1:]
    if not speed_f.lo <= speed <= speed_f.hi:
        raise ConfigError("--speed", f"must be {speed_f.lo:g}..{speed_f.hi:g}, got {speed}")
    if not watchdog_f.lo <= watchdog_s <= watchdog_f.hi:
        raise ConfigError("--watchdog-s", f"must be {watchdog_f.lo:g}..{watchdog_f.hi:g} s, "
                          f"got {watchdog_s}")
    platform = load_board_platform(mission, hardware, seed)

    def event(line: str) -> None:
        out(f"{dt.datetime.now().strftime('%H:%M:%S.%f')[:-3]}  {line}")
        sys.stdout.flush()

    board = BoardEmulator(platform, "lockstep" if lockstep else "realtime", speed,
                          platform_factory=lambda: load_board_platform(mission, hardware, seed),
                          watchdog_s=watchdog_s, on_event=event)
    try:
        where = (f"socket://127.0.0.1:{board.serve_tcp(port)}" if mode == "tcp"
                 else board.serve_pty())
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError("--tcp", f"port {port} is in use; pick another with --tcp PORT "
                              "(or stop the emulator that holds it)") from None
        if exc.errno == errno.EACCES:
            raise ConfigError("--tcp", f"port {port} needs privileges; pick one above 1023 "
                              "with --tcp PORT") from None
        raise
    timing = "lockstep" if lockstep else f"realtime x{speed:g}"
    try:
        out(f"board emulator ({timing}, watchdog {watchdog_s:g} s) on {where}")
        sys.stdout.flush()  # a script waiting for the line on a pipe sees it now
        board.run_forever(until)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0

"""``thermine emulate``: build the board emulator from a mission and a sim hardware YAML
and serve it until Ctrl-C."""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from hal.errors import ConfigError
from hal.sim.board_server import load_board_platform
from hal.sim.emulator import BoardEmulator


def run_emulator(mission: Path, hardware: Path, mode: Literal["pty", "tcp"], port: int,
                 lockstep: bool, speed: float, seed: int | None,
                 out: Callable[[str], Any] = print, *,
                 until: threading.Event | None = None) -> int:
    """The ``thermine emulate`` command: build the board, print one line saying where to
    connect, serve until KeyboardInterrupt (or ``until`` is set); returns 0.

    Raises:
        ConfigError: bad mission/hardware YAML, bad ``mode``, ``port`` or ``speed``.
        OSError: the pty or the port cannot be opened.
    """
    if mode not in ("pty", "tcp"):
        raise ConfigError("board emulator: mode", f"must be 'pty' or 'tcp', got {mode!r}")
    if not 0 <= port <= 65535:
        raise ConfigError("board emulator: port", f"must be 0..65535, got {port}")
    if not 0.0 < speed < math.inf:
        raise ConfigError("board emulator: speed", f"must be finite and > 0, got {speed}")
    platform = load_board_platform(mission, hardware, seed)
    board = BoardEmulator(platform, "lockstep" if lockstep else "realtime", speed)
    where = f"socket://127.0.0.1:{board.serve_tcp(port)}" if mode == "tcp" else board.serve_pty()
    timing = "lockstep" if lockstep else f"realtime x{speed:g}"
    try:
        out(f"board emulator ({timing}) on {where}")
        sys.stdout.flush()  # a script waiting for the line on a pipe sees it now
        board.run_forever(until)
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
    return 0

"""``thermine ground``: a small ground console on the CCSDS link of a run.

    thermine run configs/missions/nominal.yaml --speed 10 \\
        --ground udp://127.0.0.1:10015 --uplink udp://127.0.0.1:10025
    thermine ground [--tm udp://127.0.0.1:10015] [--tc udp://127.0.0.1:10025]
                    [--record FILE] [--mission YAML]
    thermine ground replay runs/X/downlink.bin [--to udp://127.0.0.1:10015] [--speed N]

The console listens for telemetry on --tm (it binds 127.0.0.1 unless the URL names
another address) and sends telecommands to --tc, the run's --uplink. Commands are typed
by name: ``ARM START_EXTRACTION`` (a lone value fills the only argument),
``SET_HEATER_SETPOINT setpoint_k=380``, ``SAFE``, ``RECOVER``, ``SEQ_START 1``;
``help [NAME]``; ``quit``. Each is checked against the command dictionary first: a bad one
is refused with the reason and nothing is sent. Then its verification stages are shown
as they come (accepted / rejected + reason / completed / failed + reason), matched by
sequence count.

``upload FILE [SLOT]`` sends a stored sequence (slot 1 by default): the file is checked
here as flight will check it (a bad one is refused, naming the step and key, and nothing
is sent), then it goes as SEQ_UPLOAD chunks of at most 200 bytes, each once the one
before has completed, then SEQ_LOAD SLOT; one line says how many chunks and bytes. When a
chunk is not completed the rest is not sent. SEQ_UPLOAD itself is not typed.

On a terminal: a full-screen view (housekeeping with units and limit colours: red beyond
an FDIR limit, yellow outside the plausible range; the state; the last events; the last
telecommands) redrawn every second, with a command prompt (Tab completes a name, Up/Down
recall, Ctrl-C or quit leaves).

Line mode (stdin or stdout not a terminal, or --lines): one command per input line
(``#`` comments and blank lines skipped; ``wait S`` pauses S wall seconds, ``wait STATE``
until the housekeeping shows that state, e.g. ``wait IDLE``); one output line
per state change, event, verification, command sent or refused, e.g.
``t=12.3 s VERIFY 4 SET_HEATER_SETPOINT completed``. Commands are sent one at a time: the
first once telemetry has been heard (or --timeout passed), each next one once the
previous has its final verification (rejected, completed, failed) or --timeout seconds
passed without one (``no answer``). At the end of the input the commands already read
are still sent (after ``quit``, none is); the console then listens --linger seconds more
(``inf``: until Ctrl-C) and exits: 0 when every command sent was completed, 1 when one was
refused, rejected, failed or unanswered, 130 on Ctrl-C; 2 for bad arguments or a port
in use.

--record FILE writes every well-formed telemetry datagram received, in order (the
downlink.bin format: ``thermine decode FILE``, ``thermine ground replay FILE``).
"""

from __future__ import annotations

import argparse
import os
import selectors
import sys
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from common.errors import ConfigError
from flight.commands import CommandError
from flight.tmtc.layout import STATES
from ground.harness.ground_link import DEFAULT_TC_PORT, DEFAULT_TM_PORT, parse_udp
from ground.tmtc import replay, standalone
from ground.tmtc.command_line import help_lines, parse_command, parse_upload
from ground.tmtc.link import GroundLink, Notice

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
TICK_S = 0.2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``ground`` (and its sub-command ``replay``) to the ``thermine`` sub-commands;
    returns the ``ground`` parser."""
    p = subparsers.add_parser("ground", help="ground console on a run's UDP link (live "
                              "telemetry, telecommands), or replay a downlink file",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    _arguments(p)
    return p


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tm", default=f"udp://127.0.0.1:{DEFAULT_TM_PORT}", metavar="udp://HOST:PORT",
                   help="listen for telemetry here (the run's --ground; default %(default)s)")
    p.add_argument("--tc", default=f"udp://127.0.0.1:{DEFAULT_TC_PORT}", metavar="udp://HOST:PORT",
                   help="send telecommands here (the run's --uplink; default %(default)s)")
    p.add_argument("--record", type=Path, metavar="FILE",
                   help="write every telemetry datagram received (downlink.bin format)")
    p.add_argument("--mission", type=Path, metavar="YAML",
                   help="colour by this mission's FDIR limits (default: the shipped table)")
    p.add_argument("--lines", action="store_true", help="line mode even on a terminal")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="a command without a final verification after S wall seconds is "
                   "reported unanswered (default %(default)s)")
    p.add_argument("--linger", type=float, default=1.0, metavar="S",
                   help="line mode: listen this long after the last command (default "
                   "%(default)s; inf: until Ctrl-C)")
    sub = p.add_subparsers(dest="ground_cmd", metavar="{replay}")
    r = sub.add_parser("replay", help="send a downlink file's packets as UDP datagrams",
                       description=replay.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    replay.arguments(r)


def run(args: argparse.Namespace) -> int:
    """``thermine ground [replay]``; returns the exit code.

    Raises:
        ConfigError: a bad URL, --timeout or --linger, the telemetry port in use, the
            record file not writable, a bad --mission; for replay see
            :func:`ground.tmtc.replay.run`.
    """
    if getattr(args, "ground_cmd", None) == "replay":
        return replay.run(args)
    if not args.timeout > 0:
        raise ConfigError("--timeout", f"must be > 0 s, got {args.timeout}")
    if not args.linger >= 0:
        raise ConfigError("--linger", f"must be >= 0 s, got {args.linger}")
    from ground.tmtc.limits import load_limits

    limits = load_limits(args.mission)
    tm, tc = parse_udp(args.tm, "--tm"), parse_udp(args.tc, "--tc")
    interactive = not args.lines and sys.stdin.isatty() and sys.stdout.isatty()
    link = GroundLink(tm, tc, args.record, events_kept=40 if interactive else 1)
    try:
        if interactive:
            from ground.tmtc.screen import run_screen

            return run_screen(link, limits, args.timeout)
        return run_lines(link, sys.stdin.fileno(), sys.stdout, args.timeout, args.linger)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        link.close()


class LineConsole:
    """Line mode: commands from input lines, one line out per notice (module doc)."""

    def __init__(self, link: GroundLink, out: IO[str], timeout_s: float) -> None:
        self.link = link
        self.out = out
        self.timeout_s = timeout_s
        self.queue: deque[str] = deque()
        self.refused = 0
        self.quit = False
        self.wait_until = 0.0
        self.wait_state: str | None = None
        self.started = link.clock.now_s()
        self._warned_silent = False

    def emit(self, notices: list[Notice]) -> None:
        for n in notices:
            print(n.line, file=self.out, flush=True)

    def ready(self, now: float) -> bool:
        """Whether the next queued line may go now."""
        if now < self.wait_until or self.link.pending() or self.link.batch is not None:
            return False
        if self.wait_state is not None:
            return False
        if self.link.last_tm_s is None and now - self.started < self.timeout_s:
            return False
        return True

    def step(self, now: float) -> None:
        """Handle queued lines while they may go."""
        if self.wait_state is not None and self.link.state == self.wait_state:
            self.wait_state = None
        self.pump()
        while self.queue and self.ready(now):
            self.handle(self.queue.popleft(), now)

    def handle(self, line: str, now: float) -> None:
        text = line.split("#", 1)[0].strip()
        word = text.split(maxsplit=1)[0].lower() if text else ""
        if not text:
            return
        if word in ("quit", "exit"):
            self.quit = True
            self.queue.clear()
            return
        if word == "help":
            try:
                self.emit([Notice("INFO", s) for s in help_lines(text[4:].strip())])
            except CommandError as exc:
                self.emit([Notice("INFO", str(exc))])
            return
        if word == "wait":
            self.wait(text, now)
            return
        if word == "upload":
            self.upload(text)
            return
        try:
            name, args = parse_command(text)
        except CommandError as exc:
            self.refused += 1
            self.emit([Notice("REFUSED", f"REFUSED {text}: {exc} (not sent)")])
            return
        if self.link.last_tm_s is None and not self._warned_silent:
            self._warned_silent = True
            self.emit([Notice("INFO", f"INFO no telemetry heard in {self.timeout_s:g} s; "
                              "sending anyway")])
        notice = self.link.send(name, args)
        if notice.kind == "REFUSED":
            self.refused += 1
        self.emit([notice])

    def upload(self, text: str) -> None:
        """``upload FILE [SLOT]``: check the file, then send it as a batch (module doc)."""
        try:
            up = parse_upload(text)
        except CommandError as exc:
            self.refused += 1
            self.emit([Notice("REFUSED", f"REFUSED {text}: {exc} (not sent)")])
            return
        self.emit([Notice("INFO", up.line())])
        self.emit_counted(self.link.send_batch(f"upload {up.path}", up.commands))

    def pump(self) -> None:
        """The batch's next telecommand, when the one before has completed."""
        self.emit_counted(self.link.pump())

    def emit_counted(self, notices: list[Notice]) -> None:
        self.refused += sum(1 for n in notices if n.kind == "REFUSED")
        self.emit(notices)

    def wait(self, text: str, now: float) -> None:
        """``wait SECONDS`` (wall) or ``wait STATE`` (until the housekeeping says so)."""
        arg = text.split()[1:]
        if len(arg) == 1 and arg[0].upper() in STATES:
            self.wait_state = arg[0].upper()
            return
        try:
            self.wait_until = now + max(0.0, float(arg[0]))
            if len(arg) == 1:
                return
        except (IndexError, ValueError):
            pass
        self.refused += 1
        self.emit([Notice("REFUSED", f"REFUSED {text}: expected wait SECONDS or wait STATE "
                          f"({', '.join(STATES)})")])

    def failures(self) -> int:
        return self.refused + sum(1 for tc in self.link.tcs.values() if not tc.completed)


def run_lines(link: GroundLink, fd: int, out: IO[str], timeout_s: float,
              linger_s: float, poll: Callable[[], None] | None = None) -> int:
    """Line mode over input ``fd`` (module doc); returns the exit code (0 or 1)."""
    console = LineConsole(link, out, timeout_s)
    clock = link.clock
    sel = selectors.SelectSelector()  # (select takes a regular file, epoll does not)
    sel.register(link.fileno(), selectors.EVENT_READ, "tm")
    sel.register(fd, selectors.EVENT_READ, "in")
    reading, buf, done_at = True, b"", None
    flush_at = clock.now_s() + 1.0
    try:
        while True:
            now = clock.now_s()
            console.step(now)
            for key, _ in sel.select(TICK_S):
                if key.data == "tm":
                    console.emit(link.receive())
                    continue
                chunk = os.read(fd, 65536)
                if chunk and not console.quit:
                    buf += chunk
                    *lines, buf = buf.split(b"\n")
                    console.queue.extend(s.decode("utf-8", "replace") for s in lines)
                else:  # end of input (or quit: the rest is not read)
                    if buf:
                        console.queue.append(buf.decode("utf-8", "replace"))
                        buf = b""
                    sel.unregister(fd)
                    reading = False
            console.emit(link.expire(timeout_s))
            console.pump()
            now = clock.now_s()
            if now >= flush_at:
                link.flush()
                flush_at = now + 1.0
            if poll is not None:
                poll()
            if ((reading and not console.quit) or console.queue or link.pending()
                    or link.batch is not None or now < console.wait_until
                    or console.wait_state is not None):
                done_at = None
                continue
            done_at = now if done_at is None else done_at
            if now - done_at >= linger_s:
                break
    finally:
        sel.close()
    return EXIT_FAILED if console.failures() else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``python -m ground.tmtc.console ...``: as ``thermine ground ...``."""
    return standalone("thermine ground", __doc__, _arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())

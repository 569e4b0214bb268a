"""``thermine ground replay``: send a downlink file's telemetry packets, one UDP datagram
each, in order, at the pace they were made (by their CUC mission time).

    thermine ground replay runs/X/downlink.bin [--to udp://127.0.0.1:10015] [--speed N]

--speed N: N times the recorded mission-time pace (default 1; 0: as fast as possible).
The whole file is checked before the first packet goes: a malformed one is an error
(exit 2) naming its index (from 0) and byte offset, and nothing is sent.
"""

from __future__ import annotations

import argparse
import math
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from common.clock import WallClock
from common.errors import ConfigError
from ground.harness.ground_link import DEFAULT_TM_PORT, Endpoint, parse_udp
from ground.tmtc import standalone
from ground.tmtc.packets import decode_packet, read_stream, split_packets

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130


class Pacer(Protocol):
    """A clock that waits: :class:`WallClock` (at a speed), or a stepped one in tests."""

    def sleep_until(self, t_s: float) -> None: ...


@dataclass(frozen=True)
class Replay:
    """What was sent: packets, the mission time they span, the wall time it took."""

    packets: int
    first_t_s: float
    last_t_s: float
    wall_s: float


def arguments(p: argparse.ArgumentParser) -> None:
    """The replay's arguments (on ``thermine ground replay``'s parser)."""
    p.add_argument("file", type=Path, help="downlink.bin of a run, or a --record file")
    p.add_argument("--to", default=f"udp://127.0.0.1:{DEFAULT_TM_PORT}",
                   metavar="udp://HOST:PORT", help="send the packets here (default %(default)s)")
    p.add_argument("--speed", type=float, default=1.0, metavar="N",
                   help="N x the recorded pace (default 1; 0: as fast as possible)")


def load_packets(path: str | Path) -> list[tuple[float, bytes]]:
    """Every telemetry packet of a downlink file with its mission time (idle packets
    skipped), the whole file checked first.

    Raises:
        ConfigError: the file cannot be read; PacketError (a ConfigError) naming the
            first malformed packet's index and byte offset.
    """
    out = []
    for raw in split_packets(read_stream(path), str(path)):
        record = decode_packet(raw, str(path))
        if record is not None:
            out.append((record.t_s, raw.data))
    return out


def replay(packets: list[tuple[float, bytes]], to: Endpoint, speed: float = 1.0,
           clock: Pacer | None = None,
           send: Callable[[bytes], None] | None = None) -> Replay:
    """Send ``packets`` to ``to`` at ``speed`` x their mission-time pace (0: at once).

    Raises:
        ConfigError: ``speed`` is negative or not finite; the address cannot be sent to.
    """
    if not 0 <= speed < math.inf:
        raise ConfigError("--speed", f"must be >= 0 (0: as fast as possible), got {speed}")
    wall = WallClock()
    pace: Pacer | None = clock or (WallClock(speed) if speed > 0 else None)
    sock = None
    if send is None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

        def send(packet: bytes) -> None:
            assert sock is not None
            sock.sendto(packet, (to.host, to.port))

    try:
        t0 = packets[0][0] if packets else 0.0
        for t_s, packet in packets:
            if pace is not None:
                pace.sleep_until(t_s - t0)
            try:
                send(packet)
            except OSError as exc:
                raise ConfigError("--to", f"cannot send to udp://{to.host}:{to.port}: "
                                  f"{exc.strerror or exc}") from None
    finally:
        if sock is not None:
            sock.close()
    last = packets[-1][0] if packets else 0.0
    return Replay(len(packets), t0, last, wall.now_s())


def run(args: argparse.Namespace) -> int:
    """``thermine ground replay FILE``; returns the exit code (0, or 130 on Ctrl-C).

    Raises:
        ConfigError: a bad --to or --speed, an unreadable or malformed file.
    """
    to = parse_udp(args.to, "--to")
    if not 0 <= args.speed < math.inf:
        raise ConfigError("--speed", f"must be >= 0 (0: as fast as possible), got {args.speed}")
    packets = load_packets(args.file)
    try:
        r = replay(packets, to, args.speed)
    except KeyboardInterrupt:
        print("thermine: replay interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"replayed {r.packets} packets (t={r.first_t_s:.1f}..{r.last_t_s:.1f} s) to "
          f"udp://{to.host}:{to.port} in {r.wall_s:.1f} s")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """``python -m ground.tmtc.replay FILE ...``: as ``thermine ground replay``."""
    return standalone("thermine ground replay", __doc__, arguments, run, argv)


if __name__ == "__main__":
    sys.exit(main())


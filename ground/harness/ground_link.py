"""The run's ground link: downlink.bin in the run directory, and optionally the live
link, telemetry out to ``--ground udp://HOST:PORT`` and telecommands in from
``--uplink udp://HOST:PORT`` (the ports Yamcs' quickstart uses: 10015 and 10025).

Both sockets are UDP, one datagram per space packet. The uplink binds 127.0.0.1 unless
the URL names another address (``udp://0.0.0.0:10025`` accepts commands from any host
that can reach this machine: anyone on the network could then command the payload).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from common.errors import ConfigError
from flight.storage import RotatingFile, Rotation

#: Yamcs quickstart's UDP ports: telemetry in (to Yamcs), telecommands out (from Yamcs)
DEFAULT_TM_PORT = 10015
DEFAULT_TC_PORT = 10025


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int


def parse_udp(url: str, option: str) -> Endpoint:
    """``udp://HOST:PORT`` (HOST defaults to 127.0.0.1).

    Raises:
        ConfigError: naming ``option`` when the URL is not a UDP address with a port.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "udp" or port is None or not 0 < port < 65536:
        raise ConfigError(option, f"{url!r}: expected udp://HOST:PORT, e.g. "
                          f"udp://127.0.0.1:{DEFAULT_TM_PORT}")
    return Endpoint(parts.hostname or "127.0.0.1", port)


def _udp_socket(endpoint: Endpoint, option: str, listen: bool) -> socket.socket:
    """A non-blocking UDP socket bound to (``listen``) or connected to ``endpoint``.

    Raises:
        ConfigError: naming ``option``: the address is in use, not this machine's, or does
            not resolve.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        (sock.bind if listen else sock.connect)((endpoint.host, endpoint.port))
    except OSError as exc:
        sock.close()
        what = "listen on" if listen else "send to"
        raise ConfigError(option, f"cannot {what} udp://{endpoint.host}:{endpoint.port}: "
                          f"{exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


class DownlinkFile:
    """downlink.bin: every TM packet, in order, concatenated (rolled over by size with
    ``rotation``: :mod:`flight.storage`)."""

    def __init__(self, path: Path, rotation: Rotation | None = None,
                 now_s: Callable[[], float] | None = None) -> None:
        self.path = path
        self._f: IO[bytes] | RotatingFile = (
            RotatingFile(path, "wb", rotation, now_s) if rotation is not None
            else open(path, "wb"))  # noqa: SIM115 closed in close()
        self.bytes = 0
        #: a service's downlink is on disk as it goes (a batch run's when it ends)
        self._flush = self._f.flush if rotation is not None else None

    def write(self, packet: bytes) -> None:
        self._f.write(packet)
        self.bytes += len(packet)
        if self._flush is not None:
            self._flush()

    def close(self) -> None:
        self._f.close()


class UdpSender:
    """Sends each packet as one datagram to ``endpoint``, its name resolved once here
    (never per packet); never blocks: a full buffer or a refusal drops the packet and
    counts it.

    Raises:
        ConfigError: the host name does not resolve.
    """

    def __init__(self, endpoint: Endpoint, option: str = "--ground") -> None:
        self._sock = _udp_socket(endpoint, option, listen=False)
        self.dropped = 0

    def send(self, packet: bytes) -> None:
        try:
            self._sock.send(packet)
        except (BlockingIOError, ConnectionRefusedError):
            self.dropped += 1

    def close(self) -> None:
        self._sock.close()


class UdpReceiver:
    """A bound, non-blocking UDP socket: :meth:`receive` gives a datagram or None.

    Raises:
        ConfigError: the address cannot be bound (in use, not this machine's).
    """

    MAX_DATAGRAM = 65535

    def __init__(self, endpoint: Endpoint, option: str = "--uplink") -> None:
        self._sock = _udp_socket(endpoint, option, listen=True)
        self.port = self._sock.getsockname()[1]

    def receive(self) -> bytes | None:
        try:
            return self._sock.recv(self.MAX_DATAGRAM)
        except (BlockingIOError, InterruptedError):
            return None
        except ConnectionRefusedError:  # an ICMP error from an earlier send: skip it
            return None

    def close(self) -> None:
        self._sock.close()

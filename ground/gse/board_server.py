"""Plumbing of the board emulator: its SimPlatform from the YAMLs, and its byte transports
(a pseudo-terminal or a TCP port on 127.0.0.1).

The loop is the same for both: ``select()`` with a short timeout on the endpoint's file
descriptors, bytes in -> :meth:`BoardCore.receive` -> reply bytes out, and
:meth:`BoardCore.poll` once per turn (the real-time plant steps there). Every wait has a
timeout and every turn checks the stop flag, so :meth:`BoardServer.stop` returns within a
fraction of a second. Nothing here knows the protocol: that is :mod:`ground.gse.emulator`.
:func:`load_board_platform` reads the mission's samples and the sim hardware YAML.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import threading
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from common.dictionary import DICTIONARY
from common.errors import ConfigError
from common.schema import load, param, read_yaml
from hal.sim.backend import SimPlatform, build, mission_samples
from sims.params import SampleParams

#: select() timeout [s]: the longest the loop waits before it checks the stop flag again
POLL_S = 0.02
#: a client that does not take a reply within this long [s] is dropped
SEND_TIMEOUT_S = 0.2
#: bytes read per call
READ_BYTES = 4096
#: longest wait [s] of start() for the thread and of stop() for it to end
JOIN_S = 1.0

#: device role -> kind the board needs from a (sim) hardware YAML (the dictionary's)
BOARD_DEVICES: dict[str, str] = DICTIONARY.devices


class BoardCore(Protocol):
    """What a transport drives: the protocol side of the board."""

    def receive(self, data: bytes) -> bytes:
        """Bytes from the link -> reply frames to write (possibly none). Never raises."""
        ...

    def reset_link(self) -> None:
        """A new client: forget any half-received frame."""
        ...

    def poll(self) -> int:
        """Idle work once per loop turn (real-time plant steps); returns the steps taken."""
        ...

    def note_error(self, reason: str) -> None:
        """Record an unexpected error the loop survived."""
        ...


class Endpoint(Protocol):
    """One way in and out of the board: what to select on and how to serve it."""

    counters: dict[str, int]

    def fds(self) -> list[int]:
        """File descriptors to wait on for reading."""
        ...

    def service(self, fd: int, core: BoardCore) -> None:
        """``fd`` is readable: read, hand the bytes to ``core``, write the replies."""
        ...

    def close(self) -> None:
        """Release every descriptor; idempotent."""
        ...


def _counters() -> dict[str, int]:
    return {"clients": 0, "disconnects": 0, "bytes_out": 0, "tx_dropped": 0}


class PtyEndpoint:
    """A pseudo-terminal: the board holds the master, a client opens :attr:`path`.

    The slave end stays open on the board side too (in raw mode), so a client that
    closes its end never makes the master report EIO; there is no notion of a client,
    and replies nobody reads are dropped once the terminal's buffer is full.
    """

    def __init__(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # bytes pass unchanged: no echo, no line discipline
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self.counters = _counters()

    def fds(self) -> list[int]:
        return [self._master] if self._master >= 0 else []

    def service(self, fd: int, core: BoardCore) -> None:
        try:
            data = os.read(self._master, READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:  # EIO: no slave open; cannot happen while we hold ours
            core.note_error(f"pty read: {exc}")
            return
        reply = core.receive(data)
        if not reply:
            return
        try:
            n = os.write(self._master, reply)
        except BlockingIOError:
            n = 0
        except OSError as exc:
            core.note_error(f"pty write: {exc}")
            n = 0
        self.counters["bytes_out"] += n
        self.counters["tx_dropped"] += len(reply) - n

    def close(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1


class TcpEndpoint:
    """A TCP server on 127.0.0.1 only; one client at a time, a new client replaces the old.

    Raises:
        OSError: the port cannot be bound (in use, or privileged).
    """

    def __init__(self, port: int) -> None:
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, got {port}")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind(("127.0.0.1", port))
            self._listener.listen(1)
            self._listener.setblocking(False)
        except OSError:
            self._listener.close()
            raise
        self.port: int = self._listener.getsockname()[1]
        self._client: socket.socket | None = None
        self.counters = _counters()

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the listener is bound to."""
        host, port = self._listener.getsockname()[:2]
        return host, port

    def fds(self) -> list[int]:
        out = [self._listener.fileno()]
        if self._client is not None:
            out.append(self._client.fileno())
        return [fd for fd in out if fd >= 0]

    def service(self, fd: int, core: BoardCore) -> None:
        if fd == self._listener.fileno():
            self._accept(core)
            return
        client = self._client
        if client is None or fd != client.fileno():
            return
        try:
            data = client.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the peer
            data = b""
        if not data:
            self._drop(core)
            return
        reply = core.receive(data)
        if reply:
            try:
                client.sendall(reply)
                self.counters["bytes_out"] += len(reply)
            except OSError:  # gone, or not reading (send timeout)
                self.counters["tx_dropped"] += len(reply)
                self._drop(core)

    def _accept(self, core: BoardCore) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            if exc.errno not in (errno.ECONNABORTED, errno.EPROTO):
                core.note_error(f"accept: {exc}")
            return
        if self._client is not None:
            self._drop(core)
        conn.settimeout(SEND_TIMEOUT_S)
        self._client = conn
        self.counters["clients"] += 1
        core.reset_link()

    def _drop(self, core: BoardCore) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
            self.counters["disconnects"] += 1
        core.reset_link()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._listener.close()


class BoardServer:
    """Runs the select loop of one endpoint for one core, in a thread or in the caller."""

    def __init__(self, core: BoardCore, endpoint: Endpoint) -> None:
        self.core = core
        self.endpoint = endpoint
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False

    def start(self) -> None:
        """Run the loop in a daemon thread; returns once it is serving.

        Raises:
            RuntimeError: already running, or already stopped.
        """
        if self._thread is not None or self._closed:
            raise RuntimeError("the board server is already running or was stopped")
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(None, ready),
                                        name="board-emulator", daemon=True)
        self._thread.start()
        ready.wait(JOIN_S)

    def run_forever(self, until: threading.Event | None = None) -> None:
        """Serve in the calling thread until :meth:`stop`, ``until`` is set, or an exception
        (e.g. KeyboardInterrupt) propagates; the endpoint is closed on the way out."""
        if self._closed:
            raise RuntimeError("the board server was stopped")
        try:
            self._run(until, None)
        finally:
            self._close()

    def stop(self) -> None:
        """End the loop (within ``POLL_S`` plus one turn) and close the endpoint; idempotent."""
        self._stop.set()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(JOIN_S)
        self._close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self.endpoint.close()

    def _run(self, until: threading.Event | None, ready: threading.Event | None) -> None:
        if ready is not None:
            ready.set()
        while not self._stop.is_set() and not (until is not None and until.is_set()):
            fds = self.endpoint.fds()
            if not fds:  # nothing to serve (closed): still wait, never spin
                self._stop.wait(POLL_S)
            try:
                readable = select.select(fds, [], [], POLL_S)[0] if fds else []
            except (OSError, ValueError) as exc:  # a descriptor closed under us (stop)
                if self._stop.is_set():
                    break
                self.core.note_error(f"select: {exc}")
                readable = []
            for fd in readable:
                if self._stop.is_set():
                    break
                try:
                    self.endpoint.service(fd, self.core)
                except Exception as exc:  # a bug must not kill the board: record it
                    self.core.note_error(f"serve: {exc!r}")
            try:
                self.core.poll()
            except Exception as exc:
                self.core.note_error(f"poll: {exc!r}")


@dataclass(frozen=True)
class _MissionPart:
    """The parts of a mission YAML the board uses (the rest is flight's business)."""

    seed: int = param(1, 0, 2**32 - 1, "seed of the simulation's random numbers")
    sample: SampleParams = param(SampleParams(), doc="the scooped sample")


def load_board_platform(mission: str | Path, hardware: str | Path,
                        seed: int | None = None) -> SimPlatform:
    """The SimPlatform of the board: plant and devices of the sim ``hardware`` YAML with
    the sample of the ``mission`` YAML, and its ``samples:`` for the scoops after the
    first (LOAD_SAMPLE); ``seed`` overrides the mission's.

    Raises:
        ConfigError: a file is missing or wrong (a sample: naming ``samples[k].key``), or
            the hardware is not ``backend: sim``.
    """
    from hal.registry import load_hardware  # late: the registry may come to import hal.sim

    hw = load_hardware(hardware, BOARD_DEVICES)
    if hw.backend != "sim":
        raise ConfigError(f"{hardware}: backend",
                          f"the board emulator needs a sim hardware YAML, not {hw.backend!r}")
    data = read_yaml(mission)
    part = load(_MissionPart, {k: data[k] for k in ("seed", "sample") if k in data},
                f"{mission}:")
    raw_sample = data.get("sample") or {}
    sample = {k: getattr(part.sample, k) for k in raw_sample}
    raw_samples = data.get("samples") or []
    if not isinstance(raw_samples, list):
        raise ConfigError(f"{mission}: samples", f"expected a list of samples, got "
                          f"{type(raw_samples).__name__}")
    samples = mission_samples(sample, raw_samples, hw.plant, f"{mission}:")
    return build(f"{hardware}:", hw.plant, hw.devices, sample,
                 part.seed if seed is None else seed, samples=samples)

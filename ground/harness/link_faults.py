"""Link fault injectors: a byte-stream wrapper around the serial transport (DESIGN.md,
"Faults"). The link above it cannot tell it is being faulted: it sees bad CRCs, missing
replies and silence, as on a bad cable.

:class:`FaultyTransport` wraps anything with ``write(bytes)``, ``read(max_bytes)`` and
``close()`` (:class:`hal.serial.transport.SerialTransport`). Faults (several may be active):

- ``corrupt``: each byte, in both directions, has one random bit flipped with probability
  ``rate`` (one uniform draw per byte, so the pattern does not depend on how the bytes
  were chunked);
- ``drop``: with ``probability`` per frame (the bytes up to and including a 0x00
  delimiter), a written frame is not sent and a received frame is swallowed, whole;
- ``delay``: received bytes are held back until ``now >= arrival + delay_s`` on the
  injected clock; clearing the fault releases what is held at once (nothing is lost);
- ``disconnect``: as if the cable were pulled: writes are swallowed, reads return b""
  (the inner port is still read, with its own timeout, and what arrives is lost, as are
  bytes held by ``delay``); nothing raises.

Received bytes pass drop -> corrupt -> delay; written bytes drop -> corrupt. Draws come
from generators derived once from the injected one (one per fault and direction), so a
run is deterministic for a seed. :func:`install_link_faults` puts one into a serial
platform's link.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from common.clock import Clock
from ground.harness.device_faults import Catalogue, check_params

#: kind -> allowed params -> (default, lo, hi); a default of None means required
LINK_FAULT_KINDS: Catalogue = {
    "corrupt": {"rate": (None, 0.0, 1.0)},
    "drop": {"probability": (None, 0.0, 1.0)},
    "delay": {"delay_s": (None, 0.0, 60.0)},
    "disconnect": {},
}
#: (kind, param) whose low bound is excluded: the range is (lo, hi]
LINK_OPEN_LO: frozenset[tuple[str, str]] = frozenset(
    {("corrupt", "rate"), ("drop", "probability")})
#: where the transport sits inside a hal.serial.backend.SerialPlatform (all public
#: attributes: SerialPlatform.board -> Board.link -> Link.transport)
TRANSPORT_PATH = ("board", "link", "transport")


class ByteTransport(Protocol):
    """The byte pipe being wrapped (:class:`hal.serial.transport.SerialTransport`)."""

    def write(self, data: bytes) -> None: ...

    def read(self, max_bytes: int) -> bytes: ...

    def close(self) -> None: ...


def validate_link_fault(kind: str, params: Mapping[str, Any] | None = None
                        ) -> dict[str, float | None]:
    """Check one link fault of a plan; returns its params with defaults.

    Raises:
        ValueError: unknown kind or param, value out of range, required param missing.
    """
    return check_params(LINK_FAULT_KINDS, kind, params, what="link fault",
                        open_lo=LINK_OPEN_LO)


@dataclass
class LinkFaultStats:
    """What the injector did; every counter only grows."""

    bits_flipped_tx: int = 0
    bits_flipped_rx: int = 0
    frames_dropped_tx: int = 0
    frames_dropped_rx: int = 0
    bytes_delayed: int = 0
    bytes_lost_tx: int = 0  # swallowed by a disconnect
    bytes_lost_rx: int = 0  # arrived during a disconnect (or held when it began)


def corrupt_bytes(data: bytes, rate: float, rng: np.random.Generator) -> tuple[bytes, int]:
    """``data`` with one random bit flipped in each byte hit with probability ``rate``;
    returns (bytes, bits flipped). One uniform draw per byte: u < rate hits, and the bit
    is ``floor(8 u / rate)`` (uniform given a hit)."""
    if not data:
        return data, 0
    u = rng.random(len(data))
    hit = np.flatnonzero(u < rate)
    if hit.size == 0:
        return data, 0
    arr = np.frombuffer(data, dtype=np.uint8).copy()
    bits = np.minimum((u[hit] * (8.0 / rate)).astype(np.int64), 7)
    arr[hit] ^= np.left_shift(1, bits).astype(np.uint8)
    return arr.tobytes(), int(hit.size)


class FrameGate:
    """Drops whole frames (bytes up to and including a 0x00) of a byte stream, deciding at
    the first byte of each frame. A frame being dropped when the fault ends is dropped to
    its end, so only whole frames ever go missing."""

    def __init__(self) -> None:
        self.at_start = True
        self.dropping = False

    def feed(self, data: bytes, probability: float | None,
             rng: np.random.Generator) -> tuple[bytes, int]:
        """(bytes kept, frames dropped); ``probability`` None: the fault is not active."""
        if probability is None and not self.dropping:
            if data:
                self.at_start = data[-1] == 0
            return data, 0
        out = bytearray()
        dropped = 0
        i, n = 0, len(data)
        while i < n:
            if self.at_start:
                self.at_start = False
                self.dropping = probability is not None and bool(rng.random() < probability)
                dropped += self.dropping
            end = data.find(0, i)
            stop = n if end < 0 else end + 1
            if not self.dropping:
                out += data[i:stop]
            if end >= 0:
                self.at_start, self.dropping = True, False
            i = stop
        return bytes(out), dropped


class FaultyTransport:
    """A transport that corrupts, drops, delays or disconnects the bytes of ``inner``.

    Args:
        inner: the real byte pipe; its errors (e.g. LinkError) pass up unchanged.
        clock: time source of ``delay`` [s] (on a bench the link's deadline clock,
            ``platform.board.link.clock``).
        rng: seeded generator (e.g. :func:`ground.harness.device_faults.fault_rng`); one
            child stream per fault and direction is derived from it here.
    """

    def __init__(self, inner: ByteTransport, clock: Clock,
                 rng: np.random.Generator) -> None:
        self.inner = inner
        self.clock = clock
        self.stats = LinkFaultStats()
        names = ("corrupt_tx", "corrupt_rx", "drop_tx", "drop_rx")
        seeds = rng.integers(0, 2**63 - 1, size=len(names), dtype=np.int64)
        self._rng = {n: np.random.default_rng(int(s)) for n, s in zip(names, seeds, strict=True)}
        self._faults: dict[str, dict[str, float | None]] = {}
        self._tx_gate = FrameGate()
        self._rx_gate = FrameGate()
        self._held: deque[tuple[float, bytes]] = deque()  # (due [s], bytes), oldest first

    def __getattr__(self, name: str) -> Any:
        """Other attributes (``url`` ...) are the inner transport's."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    @property
    def active(self) -> dict[str, dict[str, float | None]]:
        """kind -> params of every active fault (a copy)."""
        return {k: dict(p) for k, p in self._faults.items()}

    @property
    def held_bytes(self) -> int:
        """Received bytes being held back by ``delay``."""
        return sum(len(b) for _, b in self._held)

    def activate(self, kind: str, params: Mapping[str, Any] | None = None) -> None:
        """Start fault ``kind`` of :data:`LINK_FAULT_KINDS` (replacing an active one).

        Raises:
            ValueError: unknown kind or param, value out of range, required param missing.
        """
        p = validate_link_fault(kind, params)
        if kind == "disconnect":
            self.stats.bytes_lost_rx += self.held_bytes
            self._held.clear()
        self._faults[kind] = p

    def clear(self, kind: str | None = None) -> None:
        """End fault ``kind`` (every fault when None); clearing an inactive kind is a no-op.

        Raises:
            ValueError: ``kind`` is not a link fault kind.
        """
        if kind is None:
            self._faults.clear()
        elif kind not in LINK_FAULT_KINDS:
            raise ValueError(f"unknown link fault kind {kind!r}; "
                             f"known: {', '.join(LINK_FAULT_KINDS)}")
        else:
            self._faults.pop(kind, None)

    def write(self, data: bytes) -> None:
        """Pass ``data`` on, less dropped frames and with corrupted bits; swallowed while
        disconnected. Raises what the inner transport raises."""
        f = self._faults
        if "disconnect" in f:
            self._tx_gate.feed(data, None, self._rng["drop_tx"])  # keep frame boundaries
            self.stats.bytes_lost_tx += len(data)
            return
        drop = f.get("drop")
        data, n = self._tx_gate.feed(data, None if drop is None else drop["probability"],
                                     self._rng["drop_tx"])
        self.stats.frames_dropped_tx += n
        corrupt = f.get("corrupt")
        if corrupt is not None:
            data, k = corrupt_bytes(data, corrupt["rate"] or 0.0, self._rng["corrupt_tx"])
            self.stats.bits_flipped_tx += k
        if data:
            self.inner.write(data)

    def read(self, max_bytes: int = 256) -> bytes:
        """At most ``max_bytes`` received bytes that survived the active faults; b"" if none
        (after the inner read's own timeout). Raises what the inner transport raises."""
        data = self.inner.read(max_bytes)
        f = self._faults
        if not f and not self._held and not self._rx_gate.dropping:
            if data:
                self._rx_gate.at_start = data[-1] == 0
            return data
        if "disconnect" in f:
            self._rx_gate.feed(data, None, self._rng["drop_rx"])
            self.stats.bytes_lost_rx += len(data)
            return b""
        drop = f.get("drop")
        data, n = self._rx_gate.feed(data, None if drop is None else drop["probability"],
                                     self._rng["drop_rx"])
        self.stats.frames_dropped_rx += n
        corrupt = f.get("corrupt")
        if corrupt is not None:
            data, k = corrupt_bytes(data, corrupt["rate"] or 0.0, self._rng["corrupt_rx"])
            self.stats.bits_flipped_rx += k
        delay = f.get("delay")
        if delay is None and not self._held:
            return data
        now = self.clock.now_s()
        if data:
            if delay is not None:
                self.stats.bytes_delayed += len(data)
            self._held.append((now + (delay["delay_s"] or 0.0) if delay else now, data))
        return self._release(max_bytes, now, delay is not None)

    def _release(self, max_bytes: int, now_s: float, delaying: bool) -> bytes:
        """Held bytes that are due (all of them when ``delaying`` is False), oldest first."""
        out = bytearray()
        while self._held and len(out) < max_bytes:
            due, chunk = self._held[0]
            if delaying and due > now_s:
                break
            room = max_bytes - len(out)
            if len(chunk) > room:
                out += chunk[:room]
                self._held[0] = (due, chunk[room:])
                break
            out += chunk
            self._held.popleft()
        return bytes(out)

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()


def install_link_faults(platform: object, clock: Clock,
                        rng: np.random.Generator) -> FaultyTransport:
    """Put a :class:`FaultyTransport` between the link and the port of a serial platform
    (``platform.board.link.transport``, see :data:`TRANSPORT_PATH`) and return it. The
    platform's ``close`` still closes the real port.

    Args:
        platform: a :class:`hal.serial.backend.SerialPlatform`.
        clock: time source of ``delay`` [s]; ``platform.board.link.clock`` (the wall clock
            the link measures its deadlines on) makes a delay compete with the timeout.
        rng: seeded generator of the link faults.

    Raises:
        TypeError: the platform has no serial link (e.g. a SIL SimPlatform).
        ValueError: link faults are already installed on it.
    """
    board = getattr(platform, TRANSPORT_PATH[0], None)
    link = getattr(board, TRANSPORT_PATH[1], None)
    inner = getattr(link, TRANSPORT_PATH[2], None)
    if inner is None:
        raise TypeError(f"link faults need a serial platform with "
                        f"{'.'.join(TRANSPORT_PATH)}; got {type(platform).__name__}")
    if isinstance(inner, FaultyTransport):
        raise ValueError("link faults are already installed on this platform")
    faulty = FaultyTransport(inner, clock, rng)
    setattr(link, TRANSPORT_PATH[2], faulty)
    return faulty

"""The link: one TC out, the one matching TM back, with deadlines, retries and statistics.

``Link.request`` sends a TC carrying the APID's next 14-bit sequence count (one counter
per APID), then reads and decodes until a TM arrives on the same APID with the same
count, or the deadline passes on the injected clock. A retry re-sends the *same* bytes
(same count), so a board that de-duplicates by (APID, count) acts once; a late reply to
the first try is accepted as the answer. Every other packet is counted and dropped:

- ``duplicates``: a TM repeating the last accepted (APID, count);
- ``wrong_seq``: a TM for a count nobody is waiting for (stale, or a board bug);
- ``bad_packets``: frames with a bad packet (decoder), a TC arriving at flight, or a TM
  whose service is not the one asked for.

Nothing waits without a deadline: each try ends ``timeout_s`` after its send, measured on
``clock.now_s()`` (the wall clock on a bench; a SteppedClock advanced by a fake transport
in tests), and the transport's own read returns within its short port timeout. As a
backstop against a clock that never moves, a try also ends after ``max_idle_reads``
consecutive empty reads.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Protocol

from common.clock import Clock
from hal.errors import DeviceError, DeviceTimeout
from hal.serial.framing import FrameDecoder, Packet, encode_frame, tc
from hal.serial.icd import SEQ_MODULO, Apid, Service, Status

READ_CHUNK = 256  # bytes asked of the transport per read


class Transport(Protocol):
    """What the link needs of a byte pipe (:class:`hal.serial.transport.SerialTransport`)."""

    def write(self, data: bytes) -> None: ...

    def read(self, max_bytes: int) -> bytes: ...


@dataclass
class LinkStats:
    """Counters of the link; every field only ever grows.

    ``timeouts`` counts requests that failed for want of an answer (DeviceTimeout raised),
    ``retries`` every re-send, ``resyncs`` every frame the decoder dropped and resynchronised
    after (COBS error, CRC error or too long).
    """

    frames_sent: int = 0
    frames_received: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    too_long: int = 0
    bad_packets: int = 0
    timeouts: int = 0
    retries: int = 0
    nacks: int = 0
    duplicates: int = 0
    wrong_seq: int = 0
    resyncs: int = 0
    bytes_tx: int = 0
    bytes_rx: int = 0

    def as_telemetry(self) -> dict[str, float]:
        """Every counter as ``link_<name>`` -> float, for the telemetry record."""
        return {f"link_{k}": float(v) for k, v in dataclasses.asdict(self).items()}


class Nack(DeviceError):
    """The board answered a request with a status other than OK (``status``)."""

    def __init__(self, apid: int, service: int, seq: int, status: int) -> None:
        super().__init__(apid_name(apid), f"{service_name(service)} (seq {seq}) refused: "
                         f"{status_name(status)}")
        self.apid, self.service, self.seq, self.status = apid, service, seq, status


def apid_name(apid: int) -> str:
    """``HEATER (0x020)`` for a known APID, ``APID 0x7ff`` otherwise."""
    try:
        return f"{Apid(apid).name} ({apid:#05x})"
    except ValueError:
        return f"APID {apid:#05x}"


def service_name(service: int) -> str:
    try:
        return Service(service).name
    except ValueError:
        return f"service {service:#04x}"


def status_name(status: int) -> str:
    try:
        return Status(status).name
    except ValueError:
        return f"status {status:#04x}"


class Link:
    """Request/response over a transport.

    Args:
        transport: byte pipe; its errors (:class:`hal.serial.transport.LinkError`) pass up.
        clock: deadlines are measured on ``clock.now_s()`` [s].
        timeout_s: how long one try waits for its reply [s].
        retries: re-sends after the first try (so ``retries + 1`` sends at most).
        max_idle_reads: backstop: empty reads that also end a try.
    """

    def __init__(self, transport: Transport, clock: Clock, timeout_s: float = 0.05,
                 retries: int = 3, max_idle_reads: int = 1000) -> None:
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.transport = transport
        self.clock = clock
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.max_idle_reads = int(max_idle_reads)
        self.decoder = FrameDecoder()
        self.stats = LinkStats()
        self._next_seq: dict[int, int] = {}
        self._last_done: dict[int, int] = {}  # APID -> count of the last answered request
        self._bad_replies = 0

    def restart_session(self) -> None:
        """Reset every sequence count to 0 (ICD 3: a session opens with SYSTEM PING at 0)."""
        self._next_seq.clear()
        self._last_done.clear()

    def next_seq(self, apid: int) -> int:
        """The sequence count the next request on ``apid`` will carry."""
        return self._next_seq.get(apid, 0)

    def request(self, apid: int, service: int, payload: bytes = b"") -> bytes:
        """Send one TC and return the payload of its acknowledge.

        Raises:
            Nack: (a DeviceError) the board answered with a NACK, named by its status;
                not retried.
            DeviceTimeout: no matching reply after ``retries + 1`` tries.
            LinkError: the transport failed (port vanished, write timeout).
            ValueError: the payload makes a packet longer than the ICD allows.
        """
        seq = self._next_seq.get(apid, 0)
        frame = encode_frame(tc(apid, seq, service, payload).pack())
        self._next_seq[apid] = (seq + 1) % SEQ_MODULO
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
            self.transport.write(frame)
            self.stats.frames_sent += 1
            self.stats.bytes_tx += len(frame)
            reply = self._await(apid, seq, service, self.clock.now_s() + self.timeout_s)
            if reply is not None:
                if reply.status != Status.OK:
                    self.stats.nacks += 1
                    raise Nack(apid, service, seq, reply.status or 0)
                return reply.payload
        self.stats.timeouts += 1
        raise DeviceTimeout(apid_name(apid), f"no reply to {service_name(service)} (seq {seq}) "
                            f"after {self.retries + 1} tries of {self.timeout_s:g} s")

    def _await(self, apid: int, seq: int, service: int, deadline_s: float) -> Packet | None:
        """Read until the reply to (apid, seq) arrives or the deadline passes."""
        idle = 0
        while True:
            data = self.transport.read(READ_CHUNK)
            if data:
                idle = 0
                self.stats.bytes_rx += len(data)
            else:
                idle += 1
            found: Packet | None = None
            for pkt in self.decoder.feed(data) if data else ():
                if self._is_reply(pkt, apid, seq, service, waiting=found is None):
                    found = pkt
                    self._last_done[apid] = seq
            self._sync_decoder_stats()
            if found is not None:
                return found
            if self.clock.now_s() >= deadline_s or idle >= self.max_idle_reads:
                return None

    def _is_reply(self, pkt: Packet, apid: int, seq: int, service: int, waiting: bool) -> bool:
        """True for the awaited reply (while ``waiting``); counts and drops everything else."""
        if pkt.is_tc or pkt.status is None:
            self._bad_replies += 1
            self.decoder.stats.note(f"TC {apid_name(pkt.apid)} seq {pkt.seq} sent to flight")
            return False
        if waiting and pkt.apid == apid and pkt.seq == seq:
            if pkt.service == service:
                return True
            self._bad_replies += 1
            self.decoder.stats.note(f"reply to {service_name(service)} names "
                                    f"{service_name(pkt.service)}")
            return False
        if self._last_done.get(pkt.apid) == pkt.seq:
            self.stats.duplicates += 1
        else:
            self.stats.wrong_seq += 1
        return False

    def _sync_decoder_stats(self) -> None:
        d, s = self.decoder.stats, self.stats
        s.frames_received = d.frames
        s.crc_errors = d.crc_errors
        s.cobs_errors = d.cobs_errors
        s.too_long = d.too_long
        s.resyncs = d.cobs_errors + d.crc_errors + d.too_long
        s.bad_packets = d.bad_packets + self._bad_replies

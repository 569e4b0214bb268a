"""The console's live link: telemetry in on a bound UDP port, telecommands out to the
flight side's uplink port, and what the console knows from them (the latest
housekeeping, link diagnostics and OPS figures, the state, the last events, each
telecommand's verification stages).

A batch (:meth:`GroundLink.send_batch`: a sequence upload's chunks and its SEQ_LOAD) goes
one telecommand at a time, each once the one before has completed; when one is not
completed (rejected, failed, unanswered), the rest are not sent.

Every received datagram is split and decoded (:mod:`ground.tmtc.packets`); a malformed
one is counted and reported, never fatal. Telecommands carry an increasing sequence
count (from 1, modulo 2**14); a VERIFY packet is matched to the telecommand by it.
"""

from __future__ import annotations

import json
import socket
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from common.clock import WallClock
from common.errors import ConfigError
from flight.commands import CommandError
from flight.tmtc.layout import OPS, SEQ_STATUSES
from flight.tmtc.uplink import encode_tc
from ground.harness.ground_link import Endpoint
from ground.tmtc.packets import PacketError, Record, decode_stream

MAX_DATAGRAM = 65535
_OPS_UNITS = {f.name: f.unit for f in OPS.fields}
FINAL_STAGES = ("rejected", "completed", "failed")


@dataclass
class Telecommand:
    """A telecommand this console sent and what the flight side said of it."""

    seq: int
    name: str
    args: dict[str, Any]
    sent_s: float  # wall time (console clock)
    #: (stage, reason, mission time) in the order they came
    stages: list[tuple[str, str, float]] = field(default_factory=list)
    timed_out: bool = False

    @property
    def final(self) -> bool:
        return self.timed_out or any(s in FINAL_STAGES for s, _r, _t in self.stages)

    @property
    def completed(self) -> bool:
        return any(s == "completed" for s, _r, _t in self.stages)

    def text(self) -> str:
        """``NAME arg=value ...`` (a bytes argument as its size only)."""
        args = " ".join(f"{k}=<{len(v)} bytes>" if isinstance(v, bytes | bytearray)
                        else f"{k}={v}" for k, v in self.args.items())
        return f"{self.name} {args}".rstrip()


@dataclass
class Batch:
    """Telecommands to send one after the other (:meth:`GroundLink.send_batch`):
    ``label`` names it in notices; ``last`` is the one sent most recently."""

    label: str
    commands: deque[tuple[str, dict[str, Any]]]
    last: Telecommand | None = None


@dataclass(frozen=True)
class Notice:
    """Something the operator should see: ``kind`` (STATE, EVENT, VERIFY, SENT,
    REFUSED, BAD, INFO) and its line of text."""

    kind: str
    line: str
    warning: bool = False


def t_prefix(t_s: float | None) -> str:
    return "" if t_s is None else f"t={t_s:.1f} s "


def format_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.6g}"
    return "---" if v is None else str(v)


class GroundLink:
    """The sockets and the console's picture of the payload.

    Raises:
        ConfigError: the telemetry port cannot be bound, the record file not written.
    """

    def __init__(self, tm: Endpoint, tc: Endpoint, record: Path | None = None,
                 clock: WallClock | None = None, events_kept: int = 8,
                 tcs_kept: int = 8) -> None:
        self.clock = clock or WallClock()
        self.tm_endpoint, self.tc_endpoint = tm, tc
        self.tm_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.tm_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            self.tm_sock.bind((tm.host, tm.port))
        except OSError as exc:
            self.tm_sock.close()
            raise ConfigError("--tm", f"cannot listen on udp://{tm.host}:{tm.port}: "
                              f"{exc.strerror or exc}") from None
        self.tm_sock.setblocking(False)
        self.tc_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.record: IO[bytes] | None = None
        if record is not None:
            try:
                self.record = open(record, "wb")  # noqa: SIM115 closed in close()
            except OSError as exc:
                self.close()
                raise ConfigError(f"--record {record}", f"cannot write it: "
                                  f"{exc.strerror or exc}") from None
        self.hk: dict[str, Any] | None = None
        self.link: dict[str, Any] | None = None
        self.ops: dict[str, Any] | None = None  # the latest OPS packet's figures
        self.batch: Batch | None = None
        self.state: str | None = None
        self.t_s: float | None = None  # the latest mission time heard
        self.last_tm_s: float | None = None  # wall time of the latest packet
        self.events: deque[dict[str, Any]] = deque(maxlen=events_kept)
        self.tcs: dict[int, Telecommand] = {}
        self.recent: deque[Telecommand] = deque(maxlen=tcs_kept)
        self.packets = 0
        self.bad = 0
        self._next_seq = 1

    # ---- telemetry -----------------------------------------------------------------------

    def fileno(self) -> int:
        return self.tm_sock.fileno()

    def receive(self) -> list[Notice]:
        """Take every datagram waiting on the telemetry port."""
        out: list[Notice] = []
        while True:
            try:
                datagram, sender = self.tm_sock.recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return out
            except OSError:  # an ICMP error of an earlier send: nothing to read
                continue
            out += self.take(datagram, f"datagram from {sender[0]}:{sender[1]}")

    def take(self, datagram: bytes, source: str = "datagram") -> list[Notice]:
        """Decode one datagram (all of it, or nothing when it is malformed)."""
        try:
            records = list(decode_stream(datagram, source, self.packets))
        except PacketError as exc:
            self.bad += 1
            return [Notice("BAD", f"BAD telemetry {exc} (dropped)", warning=True)]
        self.last_tm_s = self.clock.now_s()
        if self.record is not None:
            self.record.write(datagram)
        out: list[Notice] = []
        for r in records:
            self.packets += 1
            out += self._apply(r)
        return out

    def _apply(self, r: Record) -> list[Notice]:
        d = r.data
        self.t_s = d["t_s"]
        if r.kind == "HK":
            self.hk = d
            if d["state"] != self.state:
                self.state = d["state"]
                return [Notice("STATE", f"{t_prefix(r.t_s)}STATE {self.state}",
                               warning=self.state == "SAFE")]
            return []
        if r.kind == "LINK":
            self.link = d
            return []
        if r.kind == "OPS":
            self.ops = d
            return []
        if r.kind == "EVENT":
            self.events.append(d)
            fields = event_fields(d)
            flag = " (warning)" if d["severity"] == "warning" else ""
            return [Notice("EVENT", f"{t_prefix(r.t_s)}EVENT {d['event']}{flag} {fields}"
                           .rstrip(), warning=bool(flag))]
        return self._verify(r)

    def _verify(self, r: Record) -> list[Notice]:
        d = r.data
        tc = self.tcs.get(d["tc_seq"])
        stage, reason = d["stage"], d["reason"]
        if tc is not None:
            tc.stages.append((stage, reason, r.t_s))
        name = tc.name if tc is not None else (d["command"] or f"opcode {d['opcode']}")
        why = "" if reason == "ok" else f" {reason}"
        mine = "" if tc is not None else " (not sent by this console)"
        return [Notice("VERIFY", f"{t_prefix(r.t_s)}VERIFY {d['tc_seq']} {name} "
                       f"{stage}{why}{mine}", warning=stage in ("rejected", "failed"))]

    # ---- telecommands --------------------------------------------------------------------

    def send(self, name: str, args: dict[str, Any]) -> Notice:
        """Validate, encode and send one telecommand; a bad one is refused, not sent."""
        seq = self._next_seq
        try:
            packet = encode_tc(name, args, seq)
        except CommandError as exc:
            return Notice("REFUSED", f"REFUSED {name}: {exc} (not sent)", warning=True)
        try:
            self.tc_sock.sendto(packet, (self.tc_endpoint.host, self.tc_endpoint.port))
        except OSError as exc:
            return Notice("REFUSED", f"REFUSED {name}: cannot send to udp://"
                          f"{self.tc_endpoint.host}:{self.tc_endpoint.port}: "
                          f"{exc.strerror or exc}", warning=True)
        self._next_seq = (seq + 1) & 0x3FFF or 1
        tc = Telecommand(seq, name, dict(args), self.clock.now_s())
        self.tcs[seq] = tc
        self.recent.append(tc)
        return Notice("SENT", f"SENT {seq} {tc.text()}")

    def send_batch(self, label: str, commands: list[tuple[str, dict[str, Any]]]) -> list[Notice]:
        """Start sending ``commands`` one at a time (module doc); the first goes now.
        Refused while another batch is under way."""
        if self.batch is not None:
            return [Notice("REFUSED", f"REFUSED {label}: {self.batch.label} is still being "
                           f"sent ({len(self.batch.commands)} telecommand(s) to go)",
                           warning=True)]
        self.batch = Batch(label, deque(commands))
        return self.pump()

    def pump(self) -> list[Notice]:
        """Send the batch's next telecommand once the one before has completed (call it
        after receiving telemetry and after :meth:`expire`); drop the rest when it was
        not completed."""
        b = self.batch
        if b is None:
            return []
        if b.last is not None and not b.last.final:
            return []
        if b.last is not None and not b.last.completed:
            self.batch = None
            return [Notice("REFUSED", f"REFUSED {b.label}: {b.last.seq} {b.last.name} was not "
                           f"completed; the {len(b.commands)} telecommand(s) after it were "
                           "not sent", warning=True)]
        if not b.commands:
            self.batch = None
            return []
        name, args = b.commands.popleft()
        notice = self.send(name, args)
        if notice.kind != "SENT":
            self.batch = None
            return [notice, Notice("REFUSED", f"REFUSED {b.label}: the {len(b.commands)} "
                                   "telecommand(s) after it were not sent", warning=True)]
        b.last = self.recent[-1]
        return [notice]

    def pending(self) -> list[Telecommand]:
        """The telecommands sent and not yet answered for good (nor timed out)."""
        return [tc for tc in self.tcs.values() if not tc.final]

    def expire(self, timeout_s: float) -> list[Notice]:
        """Give up on the telecommands without a final verification after ``timeout_s``."""
        now = self.clock.now_s()
        out = []
        for tc in self.pending():
            if now - tc.sent_s >= timeout_s:
                tc.timed_out = True
                out.append(Notice("VERIFY", f"VERIFY {tc.seq} {tc.name} no answer after "
                                  f"{timeout_s:g} s", warning=True))
        return out

    def flush(self) -> None:
        if self.record is not None:
            self.record.flush()

    def close(self) -> None:
        for s in (self.tm_sock, self.tc_sock):
            s.close()
        if self.record is not None:
            self.record.close()
            self.record = None


def event_fields(d: dict[str, Any]) -> str:
    """An event record's fields as ``key=value`` text."""
    return " ".join(f"{k}={_short(v)}" for k, v in d.items()
                    if k not in ("t_s", "event", "severity"))


def _short(v: Any, limit: int = 60) -> str:
    if isinstance(v, dict | list):
        text = json.dumps(v, separators=(",", ":"), default=str)
    elif v is None:
        text = "null"
    elif isinstance(v, str):
        text = v if v and " " not in v else repr(v)
    else:
        text = format_value(v)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _v(ops: dict[str, Any], name: str) -> str:
    """One OPS figure with its unit (``---`` when flight had none)."""
    value = ops.get(name)
    if value is None:
        return "---"
    unit = _OPS_UNITS.get(name, "")
    return format_value(value) + ("" if unit in ("", "-", "count") else f" {unit}")


def ops_lines(ops: dict[str, Any] | None) -> list[str]:
    """The OPS block: accounting, energy and power cap, the stored sequence (SI units);
    empty before the first OPS packet."""
    if ops is None:
        return []
    status = ops.get("seq_status")
    state = (SEQ_STATUSES[status] if isinstance(status, int) and status < len(SEQ_STATUSES)
             else format_value(status))
    seq = "none" if not ops.get("seq_id") else f"{ops['seq_id']} {state}"
    if ops.get("seq_id"):
        nxt = ops.get("seq_next_s")
        seq += f"  step {_v(ops, 'seq_step')}  next " + (
            "on its condition" if nxt is None else f"at t={nxt:.1f} s")
    return [
        f"scoop {_v(ops, 'scoop')}  water caught {_v(ops, 'water_captured_kg')}  split "
        f"{_v(ops, 'water_electrolyzed_kg')}  power cap {_v(ops, 'power_cap_w')}",
        f"H2 {_v(ops, 'h2_produced_kg')} (tank {_v(ops, 'h2_tank_kg')})  O2 "
        f"{_v(ops, 'o2_produced_kg')} (tank {_v(ops, 'o2_tank_kg')})  bus energy "
        f"{_v(ops, 'energy_bus_j')}",
        f"sequence {seq}",
    ]

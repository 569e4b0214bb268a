"""Telecommands in: decode and validate a CCSDS TC packet against the dictionary, hand it
to the one command path (source ``ground``) and answer every one with verification
packets: ``accepted`` or ``rejected`` (with a reason code) at once, then ``completed`` or
``failed`` when the command path has executed it. Layout: :mod:`flight.tmtc.layout`.

The work per cycle is bounded: at most ``max_per_cycle`` TCs are decoded; the next
``drain_per_cycle`` waiting are read, answered ``rejected``/``dropped`` and counted; the
rest stay in the socket's buffer for the next cycle. A flood cannot stretch a cycle.
"""

from __future__ import annotations

import binascii
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from spacepackets.ccsds.spacepacket import PacketType, SequenceFlags, SpacePacketHeader

from common.dictionary import DICTIONARY
from common.dictionary.command_rows import Command
from flight.commands import Commander, CommandError, check_source, validate
from flight.tmtc.downlink import Downlink
from flight.tmtc.layout import APID_TC, CODES, CRC_LEN, OPCODES, PRIMARY_HEADER_LEN, REASONS

OPCODE = struct.Struct(">H")


class TcError(ValueError):
    """A telecommand that cannot be executed: ``reason`` is a key of ``REASONS``; the
    message names what is wrong (byte offset, argument)."""

    def __init__(self, reason: str, message: str, seq: int = 0, opcode: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.seq = seq
        self.opcode = opcode


@dataclass(frozen=True)
class Telecommand:
    """A decoded, validated telecommand."""

    seq: int
    opcode: int
    name: str
    args: dict[str, Any]


def _arg_struct(cmd: Command) -> struct.Struct:
    """The arguments' wire layout: each in its encoding; a ``bytes`` argument is exactly
    its ``size`` bytes (``struct``'s ``Ns`` pads a shorter value with zeros)."""
    return struct.Struct(">" + "".join(f"{a.size}s" if a.encoding == "bytes"
                                       else CODES[a.encoding] for a in cmd.args.values()))


_ARGS = {name: _arg_struct(c) for name, c in DICTIONARY.commands.items()}


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), as a PUS TC's packet error control."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_tc(name: str, args: Mapping[str, Any] | None = None, seq: int = 0) -> bytes:
    """A TC packet for command ``name`` with ``args`` (validated first); a ``bytes``
    argument goes as exactly its ``size`` bytes, a shorter value zero-padded.

    Raises:
        CommandError: unknown command or a bad argument (as the flight side would say).
    """
    table = DICTIONARY.command_table
    typed = validate(table, name, args or {})
    cmd = DICTIONARY.commands[name]
    values = [a.choices.index(typed[n]) if a.type == "str" else typed[n]
              for n, a in cmd.args.items()]
    body = OPCODE.pack(cmd.opcode) + _ARGS[name].pack(*values)
    header = SpacePacketHeader(packet_type=PacketType.TC, apid=APID_TC, seq_count=seq & 0x3FFF,
                               data_len=len(body) + CRC_LEN - 1, sec_header_flag=False,
                               seq_flags=SequenceFlags.UNSEGMENTED)
    packet = bytes(header.pack()) + body
    return packet + struct.pack(">H", crc16(packet))


def decode_tc(packet: bytes) -> Telecommand:
    """Decode and validate one TC packet against the dictionary; a ``bytes`` argument
    comes back as all its ``size`` bytes, padding included (a length argument says how
    many are used).

    Raises:
        TcError: naming the byte offset or argument and the reason code.
    """
    if len(packet) < PRIMARY_HEADER_LEN + OPCODE.size + CRC_LEN:
        raise TcError("malformed", f"{len(packet)} bytes: shorter than a TC's "
                      f"{PRIMARY_HEADER_LEN + OPCODE.size + CRC_LEN} (header, opcode, CRC)")
    header = SpacePacketHeader.unpack(packet[:PRIMARY_HEADER_LEN])
    seq = header.seq_count
    if header.packet_type != PacketType.TC or header.ccsds_version != 0:
        raise TcError("malformed", "byte 0: not a version-0 telecommand packet", seq)
    if PRIMARY_HEADER_LEN + header.data_len + 1 != len(packet):
        raise TcError("malformed", f"bytes 4-5: the length field says "
                      f"{PRIMARY_HEADER_LEN + header.data_len + 1} bytes, the datagram has "
                      f"{len(packet)}", seq)
    (crc,) = struct.unpack(">H", packet[-CRC_LEN:])
    if crc != crc16(packet[:-CRC_LEN]):
        raise TcError("crc", f"bytes {len(packet) - 2}-{len(packet) - 1}: CRC {crc:#06x}, "
                      f"the packet gives {crc16(packet[:-CRC_LEN]):#06x}", seq)
    if header.sec_header_flag or header.seq_flags != SequenceFlags.UNSEGMENTED:
        raise TcError("malformed", "bytes 0-2: a TC has no secondary header and is not "
                      "segmented", seq)
    if header.apid != APID_TC:
        raise TcError("wrong_apid", f"bytes 0-1: APID {header.apid:#x}, telecommands go to "
                      f"{APID_TC:#x}", seq)
    (opcode,) = OPCODE.unpack_from(packet, PRIMARY_HEADER_LEN)
    name = OPCODES.get(opcode)
    if name is None:
        raise TcError("unknown_opcode", f"bytes 6-7: unknown opcode {opcode}", seq, opcode)
    cmd, fmt = DICTIONARY.commands[name], _ARGS[name]
    body = packet[PRIMARY_HEADER_LEN + OPCODE.size:-CRC_LEN]
    if len(body) != fmt.size:
        raise TcError("bad_length", f"{name}: {len(body)} argument bytes, its arguments "
                      f"({', '.join(cmd.args) or 'none'}) take {fmt.size}", seq, opcode)
    args: dict[str, Any] = {}
    for (arg, a), raw in zip(cmd.args.items(), fmt.unpack(body), strict=True):
        if a.type == "str":
            if raw >= len(a.choices):
                raise TcError("bad_argument", f"{name}: argument {arg!r}: choice {raw} of "
                              f"{len(a.choices)}", seq, opcode)
            raw = a.choices[raw]
        elif a.type == "bool":
            if raw > 1:
                raise TcError("bad_argument", f"{name}: argument {arg!r}: {raw} is not 0 or 1",
                              seq, opcode)
            raw = bool(raw)
        elif a.type == "float" and not math.isfinite(raw):
            raise TcError("bad_argument", f"{name}: argument {arg!r} is not finite", seq, opcode)
        args[arg] = raw
    try:
        typed = validate(DICTIONARY.command_table, name, args)
    except CommandError as exc:
        raise TcError("bad_argument", str(exc), seq, opcode) from None
    try:
        check_source(DICTIONARY.command_table, name, "ground")
    except CommandError as exc:
        raise TcError("source", str(exc), seq, opcode) from None
    return Telecommand(seq, opcode, name, typed)


def peek_seq(packet: bytes) -> int:
    """The sequence count of a packet's header (0 if it has none)."""
    if len(packet) < PRIMARY_HEADER_LEN:
        return 0
    return int.from_bytes(packet[2:4], "big") & 0x3FFF


class Uplink:
    """Takes telecommands from ``receive`` (a datagram, or None when none waits) once per
    cycle into the command path, answering each on ``downlink``; ``emit`` logs a
    ``telecommand`` event for each. ``now_s`` is mission time.

    ``received``, ``rejected`` and ``dropped`` count what came in. ``precheck(name,
    args)`` may reject a telecommand at once (a refusal, or None): only when nothing
    queued before it could change the answer (the command queue is empty), so e.g. a
    SEQ_CANCEL with no sequence running is a rejected verification, not a failed one.
    """

    def __init__(self, receive: Callable[[], bytes | None], commander: Commander,
                 downlink: Downlink, emit: Callable[..., None], now_s: Callable[[], float],
                 max_per_cycle: int = 100, drain_per_cycle: int = 500,
                 precheck: Callable[[str, dict[str, Any]], str | None] | None = None) -> None:
        self.precheck = precheck
        self.receive = receive
        self.commander = commander
        self.downlink = downlink
        self.emit = emit
        self.now_s = now_s
        self.max_per_cycle = max_per_cycle
        self.drain_per_cycle = drain_per_cycle
        self.received = 0
        self.rejected = 0
        self.dropped = 0

    def poll(self) -> None:
        """Take this cycle's telecommands (bounded; see the module's docstring)."""
        for i in range(self.max_per_cycle + self.drain_per_cycle):
            packet = self.receive()
            if packet is None:
                return
            self.received += 1
            if i >= self.max_per_cycle:
                self.dropped += 1
                self._verify(peek_seq(packet), 0, "rejected", "dropped")
                continue
            self._take(packet)

    def _verify(self, seq: int, opcode: int, stage: str, reason: str) -> None:
        self.downlink.verify(self.now_s(), APID_TC, seq, opcode, stage, REASONS[reason])

    def _take(self, packet: bytes) -> None:
        try:
            tc = decode_tc(packet)
        except TcError as exc:
            self.rejected += 1
            self._verify(exc.seq, exc.opcode, "rejected", exc.reason)
            self.emit("telecommand", seq=exc.seq, opcode=exc.opcode, name=None,
                      verdict="rejected", reason=exc.reason, detail=str(exc))
            return
        refusal = None
        if self.precheck is not None and self.commander.due() is None:
            refusal = self.precheck(tc.name, tc.args)
        if refusal is not None:
            self.rejected += 1
            self._verify(tc.seq, tc.opcode, "rejected", "refused")
            self.emit("telecommand", seq=tc.seq, opcode=tc.opcode, name=tc.name, args=tc.args,
                      verdict="rejected", reason="refused", detail=refusal)
            return
        self._verify(tc.seq, tc.opcode, "accepted", "ok")
        self.emit("telecommand", seq=tc.seq, opcode=tc.opcode, name=tc.name, args=tc.args,
                  verdict="accepted", reason="ok", detail=None)

        def done(ok: bool, tc: Telecommand = tc) -> None:
            self._verify(tc.seq, tc.opcode, "completed" if ok else "failed",
                         "ok" if ok else "refused")

        self.commander.submit(tc.name, tc.args, source="ground", on_done=done)

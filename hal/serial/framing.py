"""Frames and packets on the wire: COBS + CRC-16 framing and CCSDS space packets.

    frame  = COBS(packet || crc16_be(packet)) || 0x00
    packet = CCSDS primary header (6 bytes) || user data
    TC user data = service:u8 || payload;  TM user data = service:u8 || status:u8 || payload

CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) is ``binascii.crc_hqx(data, 0xFFFF)``; COBS
is the ``cobs`` package; the header is packed and parsed by ``spacepackets``. The decoder
never raises on bad bytes: it counts them and resynchronises on the next 0x00.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

from cobs import cobs
from spacepackets.ccsds.spacepacket import PacketType, SpacePacket, SpacePacketHeader

from hal.serial.icd import MAX_PACKET_BYTES, SEQ_MODULO

HEADER_BYTES = 6
CRC_BYTES = 2
DELIMITER = b"\x00"
#: longest COBS-encoded frame body (packet + CRC), one overhead byte per 254
MAX_ENCODED_BYTES = MAX_PACKET_BYTES + CRC_BYTES + (MAX_PACKET_BYTES + CRC_BYTES) // 254 + 1


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE of ``data``."""
    return binascii.crc_hqx(data, 0xFFFF)


def encode_frame(packet: bytes) -> bytes:
    """One packet -> the bytes to write (COBS-encoded packet + CRC, then the delimiter).

    Raises:
        ValueError: the packet is longer than ``MAX_PACKET_BYTES``.
    """
    if len(packet) > MAX_PACKET_BYTES:
        raise ValueError(f"packet of {len(packet)} bytes exceeds {MAX_PACKET_BYTES}")
    return cobs.encode(packet + crc16(packet).to_bytes(2, "big")) + DELIMITER


@dataclass
class Packet:
    """A decoded space packet: who (APID, sequence count), what (service, status, payload).

    ``status`` is None for a TC (flight -> board).
    """

    is_tc: bool
    apid: int
    seq: int
    service: int
    status: int | None
    payload: bytes

    def pack(self) -> bytes:
        """The packet bytes (header + user data), before framing."""
        user = bytes([self.service]) if self.is_tc else bytes([self.service, self.status or 0])
        user += self.payload
        header = SpacePacketHeader(
            PacketType.TC if self.is_tc else PacketType.TM, apid=self.apid,
            seq_count=self.seq % SEQ_MODULO, data_len=len(user) - 1)
        return SpacePacket(header, None, user).pack()


def tc(apid: int, seq: int, service: int, payload: bytes = b"") -> Packet:
    return Packet(True, apid, seq % SEQ_MODULO, service, None, payload)


def tm(apid: int, seq: int, service: int, status: int, payload: bytes = b"") -> Packet:
    return Packet(False, apid, seq % SEQ_MODULO, service, status, payload)


class PacketError(ValueError):
    """A frame decoded but does not hold a valid packet; the message says why."""


def parse_packet(data: bytes) -> Packet:
    """Packet bytes -> :class:`Packet`.

    Raises:
        PacketError: too short, wrong length field, secondary header, missing service/status.
    """
    if len(data) < HEADER_BYTES + 1:
        raise PacketError(f"packet of {len(data)} bytes is shorter than a header + service")
    try:
        header = SpacePacketHeader.unpack(data)
    except ValueError as exc:
        raise PacketError(f"header: {exc}") from None
    if header.packet_len != len(data):
        raise PacketError(f"length field says {header.packet_len} bytes, frame holds {len(data)}")
    if header.sec_header_flag:
        raise PacketError("secondary header flag set; the ICD has none")
    user = data[HEADER_BYTES:]
    is_tc = header.packet_type == PacketType.TC
    if not is_tc and len(user) < 2:
        raise PacketError("TM without a status byte")
    return Packet(is_tc, header.apid, header.seq_count, user[0],
                  None if is_tc else user[1], bytes(user[1:] if is_tc else user[2:]))


@dataclass
class DecoderStats:
    """What the decoder saw; every field only ever grows."""

    frames: int = 0
    bytes_in: int = 0
    crc_errors: int = 0
    cobs_errors: int = 0
    too_long: int = 0
    bad_packets: int = 0
    empty_frames: int = 0
    errors: list[str] = field(default_factory=list)  # the last few reasons, newest last

    def note(self, reason: str) -> None:
        self.errors.append(reason)
        del self.errors[:-8]


class FrameDecoder:
    """Bytes in (any chunking) -> whole, checked packets out. Never raises on bad input.

    A frame that is too long is discarded up to the next delimiter (resynchronisation);
    a frame with a bad COBS encoding, a bad CRC or a bad packet is counted and dropped.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._discarding = False
        self.stats = DecoderStats()

    def feed(self, data: bytes) -> list[Packet]:
        out: list[Packet] = []
        self.stats.bytes_in += len(data)
        start = 0
        while True:
            end = data.find(DELIMITER, start)
            if end < 0:
                self._append(data[start:])
                break
            self._append(data[start:end])
            pkt = self._finish()
            if pkt is not None:
                out.append(pkt)
            start = end + 1
        return out

    def _append(self, part: bytes) -> None:
        if self._discarding or not part:
            return
        self._buf += part
        if len(self._buf) > MAX_ENCODED_BYTES:
            self.stats.too_long += 1
            self.stats.note(f"frame longer than {MAX_ENCODED_BYTES} bytes: discarded to resync")
            self._buf.clear()
            self._discarding = True

    def _finish(self) -> Packet | None:
        """End of a frame (delimiter seen): decode what was gathered."""
        if self._discarding:
            self._discarding = False
            return None
        raw = bytes(self._buf)
        self._buf.clear()
        if not raw:
            self.stats.empty_frames += 1
            return None
        try:
            body = cobs.decode(raw)
        except cobs.DecodeError as exc:
            self.stats.cobs_errors += 1
            self.stats.note(f"COBS: {exc}")
            return None
        if len(body) < CRC_BYTES + HEADER_BYTES:
            self.stats.bad_packets += 1
            self.stats.note(f"frame of {len(body)} bytes is too short")
            return None
        packet, crc = body[:-CRC_BYTES], int.from_bytes(body[-CRC_BYTES:], "big")
        if crc16(packet) != crc:
            self.stats.crc_errors += 1
            self.stats.note(f"CRC {crc:#06x} != {crc16(packet):#06x}")
            return None
        try:
            pkt = parse_packet(packet)
        except PacketError as exc:
            self.stats.bad_packets += 1
            self.stats.note(f"packet: {exc}")
            return None
        self.stats.frames += 1
        return pkt

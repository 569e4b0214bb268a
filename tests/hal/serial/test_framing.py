"""hal.serial.framing: exact frames from the ICD, decoder robustness, property tests.

The hex frames below were worked out from the ICD (CCSDS header bits, CRC-16/CCITT-FALSE,
COBS) and are cross-checked here against an independent bitwise CRC and COBS encoder.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hal.serial import icd
from hal.serial.framing import (
    MAX_ENCODED_BYTES,
    FrameDecoder,
    Packet,
    PacketError,
    crc16,
    encode_frame,
    parse_packet,
    tc,
    tm,
)
from hal.serial.icd import Apid, Service, Status

# ---- independent reference implementations ------------------------------------------


def ref_crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE, bit by bit: poly 0x1021, init 0xFFFF, no reflection, no xorout."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def ref_cobs(data: bytes) -> bytes:
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block.clear()
        else:
            block.append(b)
            if len(block) == 254:
                out += b"\xff" + block
                block.clear()
    return bytes(out + bytes([len(block) + 1]) + block)


def ref_frame(packet: bytes) -> bytes:
    return ref_cobs(packet + ref_crc16(packet).to_bytes(2, "big")) + b"\x00"


# ---- byte-exchange table: packet -> exact bytes on the wire --------------------------

FRAMES = [
    # HEATER SET_POWER 12.5 W (1250 = 0x04e2 in 0.01 W), seq 5:
    # header 1020 (TC, APID 0x020) c005 (unsegmented, seq 5) 0002 (3 user bytes - 1)
    (tc(Apid.HEATER, 5, Service.SET_POWER, b"\x04\xe2"),
     "05 10 20 c0 05 07 02 10 04 e2 ba 53 00"),
    # its ACK: TM header 0020 c005 0001, service 10, status 00
    (tm(Apid.HEATER, 5, Service.SET_POWER, Status.OK), "01 04 20 c0 05 03 01 10 03 f6 ec 00"),
    (tm(Apid.HEATER, 5, Service.SET_POWER, Status.OUT_OF_RANGE),
     "01 04 20 c0 05 06 01 10 04 b6 68 00"),
    (tc(Apid.SYSTEM, 0, Service.PING), "04 10 10 c0 01 01 04 01 ff a8 00"),
    (tm(Apid.SYSTEM, 0, Service.PING, Status.OK), "01 03 10 c0 01 03 01 01 03 bc 74 00"),
    # TIME_SYNC 0.1 s = 100000 us = 0x000186a0, seq 1
    (tc(Apid.SYSTEM, 1, Service.TIME_SYNC, b"\x00\x01\x86\xa0"),
     "05 10 10 c0 01 03 04 03 06 01 86 a0 69 8b 00"),
    # its reply: board time 12.3 s = 12300 ms = 0x0000300c
    (tm(Apid.SYSTEM, 1, Service.TIME_SYNC, Status.OK, b"\x00\x00\x30\x0c"),
     "01 04 10 c0 01 03 05 03 01 01 05 30 0c df 97 00"),
    # VALVE SET_OPEN 1 at the last sequence count before the wrap (16383 -> ffff)
    (tc(Apid.VALVE, 16383, Service.SET_OPEN, b"\x01"), "05 10 30 ff ff 06 01 11 01 4c 44 00"),
]


@pytest.mark.parametrize(("packet", "hexframe"), FRAMES)
def test_exact_frames_from_the_icd(packet: Packet, hexframe: str):
    wire = bytes.fromhex(hexframe)
    assert ref_frame(packet.pack()) == wire  # the table agrees with the ICD's definition
    assert encode_frame(packet.pack()) == wire  # and the implementation agrees with both
    assert FrameDecoder().feed(wire) == [packet]


def test_payload_layouts_encode_as_in_the_table():
    assert icd.POWER_LAYOUT.pack({"power_w": 12.5}) == b"\x04\xe2"
    assert icd.TIME_SYNC_LAYOUT.pack({"dt_s": 0.1}) == b"\x00\x01\x86\xa0"
    assert icd.TIME_LAYOUT.unpack(b"\x00\x00\x30\x0c") == {"time_s": pytest.approx(12.3)}


def test_crc_is_ccitt_false():
    assert crc16(b"123456789") == ref_crc16(b"123456789") == 0x29B1  # the catalogue check


@pytest.mark.parametrize("packet", [
    tc(Apid.SYSTEM, 0, Service.HOUSEKEEPING),
    tm(Apid.SYSTEM, 3, Service.HOUSEKEEPING, Status.OK, bytes(range(icd.HK_LAYOUT.size))),
    tc(Apid.ELECTROLYZER, 16383, Service.SET_CURRENT, b"\x00\x00"),
    tm(0x7FF, 0, 0xFF, 0xFF, b"\x00" * 120),  # longest TM, all zeros (worst case for COBS)
    tc(0x000, 1, 0x00, b"\xff" * 121),  # longest TC
])
def test_round_trip(packet: Packet):
    assert FrameDecoder().feed(encode_frame(packet.pack())) == [packet]


def test_packets_over_the_icd_limit_are_refused():
    with pytest.raises(ValueError, match="exceeds 128"):
        encode_frame(tc(Apid.SYSTEM, 0, 1, b"\x00" * 122).pack())


def test_sequence_count_is_14_bits():
    assert tc(Apid.SYSTEM, 2**14 + 3, Service.PING).seq == 3
    assert parse_packet(tc(Apid.SYSTEM, 2**14 - 1, Service.PING).pack()).seq == 2**14 - 1


def test_short_packets_are_packet_errors():
    with pytest.raises(PacketError):
        parse_packet(b"\x10\x10\xc0\x00\x00")


# ---- decoder robustness ---------------------------------------------------------------

GOOD = bytes.fromhex(FRAMES[0][1])
GOOD_PKT = FRAMES[0][0]


def test_garbage_then_delimiter_then_a_good_frame():
    d = FrameDecoder()
    assert d.feed(b"\x13\x37\xff\xfe\x42\x00" + GOOD) == [GOOD_PKT]
    assert d.stats.cobs_errors + d.stats.crc_errors + d.stats.bad_packets == 1
    assert d.stats.frames == 1


def test_a_flipped_bit_is_a_crc_error():
    bad = bytearray(GOOD)
    bad[8] ^= 0x01  # a payload byte (0x04 -> 0x05): COBS still valid, CRC not
    d = FrameDecoder()
    assert d.feed(bytes(bad)) == []
    assert d.stats.crc_errors == 1
    assert d.feed(GOOD) == [GOOD_PKT]  # the next frame is fine


def test_a_truncated_frame_is_dropped_and_the_next_decodes():
    d = FrameDecoder()
    assert d.feed(GOOD[:-4] + b"\x00") == []
    assert d.stats.frames == 0
    assert d.stats.crc_errors + d.stats.cobs_errors + d.stats.bad_packets == 1
    assert d.feed(GOOD) == [GOOD_PKT]


def test_a_frame_over_the_max_length_is_discarded_then_resyncs():
    d = FrameDecoder()
    long_frame = b"\x01" * (MAX_ENCODED_BYTES + 40)
    # in pieces, so the discard state has to survive between feeds
    assert d.feed(long_frame[:100]) == []
    assert d.feed(long_frame[100:] + b"\x00") == []
    assert d.stats.too_long == 1
    assert d.feed(GOOD + GOOD) == [GOOD_PKT, GOOD_PKT]


def test_zero_length_frames_are_ignored():
    d = FrameDecoder()
    assert d.feed(b"\x00\x00\x00" + GOOD + b"\x00") == [GOOD_PKT]
    assert d.stats.empty_frames == 4
    assert d.stats.crc_errors == d.stats.cobs_errors == d.stats.bad_packets == 0


def test_byte_by_byte_gives_the_same_packets():
    stream = b"".join(bytes.fromhex(h) for _, h in FRAMES)
    whole = FrameDecoder().feed(stream)
    d = FrameDecoder()
    trickle = [p for i in range(len(stream)) for p in d.feed(stream[i:i + 1])]
    assert trickle == whole == [p for p, _ in FRAMES]


# ---- properties -------------------------------------------------------------------------


def reference_decode(data: bytes) -> list[Packet]:
    """Split on 0x00, keep only frames whose bitwise CRC checks (the decoder's contract)."""
    from cobs import cobs

    out = []
    for seg in data.split(b"\x00")[:-1]:  # the tail has no delimiter yet
        if not seg or len(seg) > MAX_ENCODED_BYTES:
            continue
        try:
            body = cobs.decode(seg)
        except cobs.DecodeError:
            continue
        if len(body) < 8 or ref_crc16(body[:-2]) != int.from_bytes(body[-2:], "big"):
            continue
        try:
            out.append(parse_packet(body[:-2]))
        except PacketError:
            continue
    return out


packets = st.one_of(
    st.builds(tc, st.integers(0, 2047), st.integers(0, 2**14 - 1), st.integers(0, 255),
              st.binary(max_size=121)),
    st.builds(tm, st.integers(0, 2047), st.integers(0, 2**14 - 1), st.integers(0, 255),
              st.integers(0, 255), st.binary(max_size=120)),
)


frames = packets.map(lambda p: encode_frame(p.pack()))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), frames), max_size=8),
       st.randoms(use_true_random=False))
def test_random_bytes_never_raise_and_only_crc_valid_packets_come_out(pieces, rnd):
    data = b"".join(pieces)  # random bytes, some with whole valid frames among them
    d = FrameDecoder()
    out = []
    i = 0
    while i < len(data):  # random chunking
        n = rnd.randint(1, 64)
        out += d.feed(data[i:i + n])
        i += n
    assert out == reference_decode(data)


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(packets, min_size=1, max_size=6),
       st.lists(st.tuples(st.sampled_from(["flip", "insert", "delete"]),
                          st.integers(0, 10**6), st.integers(0, 255)), max_size=5),
       st.integers(1, 50))
def test_mutated_streams_never_raise_and_never_invent_packets(pkts, mutations, chunk):
    stream = bytearray(b"".join(encode_frame(p.pack()) for p in pkts))
    for op, pos, value in mutations:
        at = pos % len(stream) if stream else 0
        if op == "flip" and stream:
            stream[at] ^= 1 << (value % 8)
        elif op == "insert":
            stream.insert(at, value)
        elif stream:
            del stream[at]
    d = FrameDecoder()
    out = [p for i in range(0, len(stream), chunk) for p in d.feed(bytes(stream[i:i + chunk]))]
    for p in out:
        assert p in pkts
    if not mutations:
        assert out == pkts


def test_random_garbage_between_good_frames_loses_at_most_the_frame_it_touches():
    rnd = random.Random(4)
    d = FrameDecoder()
    got = []
    for _ in range(50):
        got += d.feed(bytes(rnd.randrange(1, 256) for _ in range(rnd.randrange(0, 30))))
        got += d.feed(b"\x00" + GOOD)  # a delimiter ends the garbage, then a good frame
    assert got == [GOOD_PKT] * 50

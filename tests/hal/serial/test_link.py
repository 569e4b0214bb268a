"""hal.serial.link: protocol tests as byte-exchange tables against a scripted transport.

Each table row is (bytes flight must write, bytes the board then returns). The fake
transport fails the test on any write that is not the next row, and advances a
SteppedClock by one port-read timeout per read, so deadlines pass without wall time.
"""

import pytest

from common.clock import SteppedClock
from hal.errors import DeviceError, DeviceTimeout
from hal.serial.framing import FrameDecoder, encode_frame, tc, tm
from hal.serial.icd import SEQ_MODULO, Apid, Service, Status
from hal.serial.link import Link, LinkStats, Nack

H = bytes.fromhex
PING_0 = H("04 10 10 c0 01 01 04 01 ff a8 00")  # TC SYSTEM PING seq 0
ACK_PING_0 = H("01 03 10 c0 01 03 01 01 03 bc 74 00")  # TM SYSTEM PING seq 0 OK
PING_1 = H("05 10 10 c0 01 01 04 01 89 1c 00")
ACK_PING_1 = H("01 04 10 c0 01 03 01 01 03 16 25 00")
ACK_PING_4 = H("01 04 10 c0 04 03 01 01 03 35 72 00")  # a reply to seq 4: stale
HEAT_12W5_0 = H("04 10 20 c0 01 07 02 10 04 e2 f9 52 00")  # HEATER SET_POWER 12.5 W seq 0
ACK_HEAT_0 = H("01 03 20 c0 01 03 01 10 03 d5 bb 00")
NACK_HEAT_0 = H("01 03 20 c0 01 06 01 10 04 95 3f 00")  # OUT_OF_RANGE
PING_7FF = H("04 17 ff c0 01 01 04 01 a8 d7 00")  # PING to APID 0x7ff (not in the ICD)
NACK_7FF = H("04 07 ff c0 01 06 01 01 01 f9 47 00")  # UNKNOWN_APID


class ScriptedTransport:
    """A board that follows a script: (expected write, reply bytes) per exchange.

    Like a real port, a read returns at once when bytes are waiting; only a read that
    finds nothing takes the port's read timeout (``tick_s`` on the SteppedClock).
    """

    def __init__(self, clock: SteppedClock, script: list[tuple[bytes, bytes]],
                 tick_s: float = 0.01, chunk: int = 1000) -> None:
        self.clock = clock
        self.script = list(script)
        self.written: list[bytes] = []
        self.rx = bytearray()
        self.tick_s = tick_s
        self.chunk = chunk

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        assert self.script, f"unexpected write {data.hex(' ')}"
        expected, reply = self.script.pop(0)
        assert data.hex(" ") == expected.hex(" ")
        self.rx += reply

    def read(self, max_bytes: int) -> bytes:
        n = min(max_bytes, self.chunk, len(self.rx))
        if not n:
            self.clock.advance(self.tick_s)  # one port read timeout
        out = bytes(self.rx[:n])
        del self.rx[:n]
        return out


def make(script, retries=3, timeout_s=0.05, **kw):
    clock = SteppedClock()
    t = ScriptedTransport(clock, script, **kw)
    return Link(t, clock, timeout_s=timeout_s, retries=retries), t


def test_ack_returns_the_payload_and_counts():
    link, t = make([(PING_0, ACK_PING_0)])
    assert link.request(Apid.SYSTEM, Service.PING) == b""
    assert not t.script
    s = link.stats
    assert (s.frames_sent, s.frames_received, s.bytes_tx, s.bytes_rx) == (1, 1, 11, 12)
    assert s.retries == s.timeouts == s.nacks == s.wrong_seq == 0


def test_reply_split_across_reads_is_reassembled():
    link, _ = make([(HEAT_12W5_0, ACK_HEAT_0)], chunk=1)
    assert link.request(Apid.HEATER, Service.SET_POWER, b"\x04\xe2") == b""


def test_sequence_counts_are_per_apid():
    link, t = make([(HEAT_12W5_0, ACK_HEAT_0), (PING_0, ACK_PING_0), (PING_1, ACK_PING_1)])
    link.request(Apid.HEATER, Service.SET_POWER, b"\x04\xe2")
    link.request(Apid.SYSTEM, Service.PING)  # SYSTEM still starts at 0
    link.request(Apid.SYSTEM, Service.PING)
    assert (link.next_seq(Apid.HEATER), link.next_seq(Apid.SYSTEM)) == (1, 2)
    assert not t.script


def test_nack_raises_device_error_with_the_status_and_is_not_retried():
    link, t = make([(HEAT_12W5_0, NACK_HEAT_0)])
    with pytest.raises(DeviceError) as info:
        link.request(Apid.HEATER, Service.SET_POWER, b"\x04\xe2")
    msg = str(info.value)
    assert "HEATER" in msg and "SET_POWER" in msg and "OUT_OF_RANGE" in msg
    assert isinstance(info.value, Nack) and info.value.status == Status.OUT_OF_RANGE
    assert not isinstance(info.value, DeviceTimeout)
    assert len(t.written) == 1
    assert (link.stats.nacks, link.stats.retries) == (1, 0)


def test_unknown_apid_nack():
    link, _ = make([(PING_7FF, NACK_7FF)])
    with pytest.raises(DeviceError, match=r"APID 0x7ff.*PING.*UNKNOWN_APID"):
        link.request(0x7FF, Service.PING)


def test_wrong_sequence_count_is_ignored_then_the_right_one_accepted():
    link, _ = make([(PING_0, ACK_PING_4 + ACK_PING_0)])
    assert link.request(Apid.SYSTEM, Service.PING) == b""
    assert link.stats.wrong_seq == 1
    assert link.stats.frames_received == 2


def test_a_reply_on_another_apid_with_the_same_count_is_not_ours():
    link, _ = make([(PING_0, ACK_HEAT_0 + ACK_PING_0)])
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.wrong_seq == 1


def test_duplicate_replies_are_counted():
    link, t = make([(PING_0, ACK_PING_0 + ACK_PING_0), (PING_1, ACK_PING_0 + ACK_PING_1)])
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.duplicates == 1  # the copy in the same read
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.duplicates == 2  # a late copy, arriving during the next request
    assert link.stats.wrong_seq == 0
    assert not t.script


def test_silent_board_times_out_after_retries_plus_one_identical_sends():
    link, t = make([(PING_0, b"")] * 4, retries=3)
    with pytest.raises(DeviceTimeout, match=r"SYSTEM.*PING.*4 tries"):
        link.request(Apid.SYSTEM, Service.PING)
    assert t.written == [PING_0] * 4
    s = link.stats
    assert (s.frames_sent, s.retries, s.timeouts) == (4, 3, 1)
    assert link.next_seq(Apid.SYSTEM) == 1  # the count was used, even though unanswered


def test_zero_retries_sends_once():
    link, t = make([(PING_0, b"")], retries=0)
    with pytest.raises(DeviceTimeout):
        link.request(Apid.SYSTEM, Service.PING)
    assert t.written == [PING_0]


def test_retry_resends_the_same_count_and_succeeds():
    link, t = make([(PING_0, b""), (PING_0, ACK_PING_0)])
    link.request(Apid.SYSTEM, Service.PING)
    assert t.written == [PING_0, PING_0]
    assert (link.stats.retries, link.stats.timeouts) == (1, 0)


def test_garbage_ended_by_a_delimiter_before_the_reply_resyncs():
    link, _ = make([(PING_0, H("13 37 ff fe 42 00") + ACK_PING_0)])
    assert link.request(Apid.SYSTEM, Service.PING) == b""
    assert link.stats.resyncs == 1
    assert link.stats.retries == 0


def test_garbage_glued_to_the_reply_costs_one_retry():
    # no delimiter between the noise and the reply: that frame is lost, the retry is not
    link, _ = make([(PING_0, H("13 37") + ACK_PING_0), (PING_0, ACK_PING_0)])
    assert link.request(Apid.SYSTEM, Service.PING) == b""
    assert link.stats.retries == 1
    assert link.stats.resyncs == 1
    assert link.stats.crc_errors + link.stats.cobs_errors == 1


def test_too_long_junk_then_the_reply():
    link, _ = make([(PING_0, b"\x01" * 300 + b"\x00" + ACK_PING_0)])
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.too_long == 1 and link.stats.resyncs == 1


def test_a_tc_coming_back_is_a_bad_packet():
    link, _ = make([(PING_0, PING_0 + ACK_PING_0)])  # e.g. a port that echoes
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.bad_packets == 1


def test_a_reply_naming_another_service_is_rejected():
    wrong = encode_frame(tm(Apid.SYSTEM, 0, Service.HOUSEKEEPING, Status.OK).pack())
    link, _ = make([(PING_0, wrong), (PING_0, ACK_PING_0)])
    link.request(Apid.SYSTEM, Service.PING)
    assert link.stats.bad_packets == 1 and link.stats.retries == 1


class FrozenClock:
    def now_s(self) -> float:
        return 0.0


class Silent:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def read(self, max_bytes: int) -> bytes:
        return b""


def test_a_clock_that_never_moves_still_cannot_hang_the_link():
    t = Silent()
    link = Link(t, FrozenClock(), timeout_s=0.05, retries=1, max_idle_reads=20)
    with pytest.raises(DeviceTimeout):
        link.request(Apid.SYSTEM, Service.PING)
    assert t.writes == 2


class EchoBoard:
    """Answers every TC with an ACK on its APID and count."""

    def __init__(self, clock: SteppedClock) -> None:
        self.clock = clock
        self.dec = FrameDecoder()
        self.rx = b""
        self.seqs: list[int] = []

    def write(self, data: bytes) -> None:
        for p in self.dec.feed(data):
            self.seqs.append(p.seq)
            self.rx += encode_frame(tm(p.apid, p.seq, p.service, Status.OK).pack())

    def read(self, max_bytes: int) -> bytes:
        if not self.rx:
            self.clock.advance(0.01)
        out, self.rx = self.rx[:max_bytes], self.rx[max_bytes:]
        return out


def test_sequence_counts_wrap_at_2_pow_14_per_apid():
    clock = SteppedClock()
    board = EchoBoard(clock)
    link = Link(board, clock)
    for _ in range(SEQ_MODULO + 2):
        link.request(Apid.VALVE, Service.PING)
    link.request(Apid.HEATER, Service.PING)
    assert board.seqs[:2] == [0, 1]
    assert board.seqs[SEQ_MODULO - 1:] == [SEQ_MODULO - 1, 0, 1, 0]  # ..., wrap, HEATER's 0
    assert link.next_seq(Apid.VALVE) == 2 and link.next_seq(Apid.HEATER) == 1
    assert link.stats.timeouts == link.stats.wrong_seq == link.stats.duplicates == 0


def test_stats_as_telemetry():
    s = LinkStats(frames_sent=3, crc_errors=1)
    t = s.as_telemetry()
    assert len(t) == 14 and all(k.startswith("link_") for k in t)
    assert t["link_frames_sent"] == 3.0 and t["link_crc_errors"] == 1.0
    assert all(isinstance(v, float) for v in t.values())


def test_bad_arguments():
    clock = SteppedClock()
    with pytest.raises(ValueError):
        Link(Silent(), clock, timeout_s=0.0)
    with pytest.raises(ValueError):
        Link(Silent(), clock, retries=-1)
    with pytest.raises(ValueError):  # a payload making the packet too long
        Link(Silent(), clock).request(Apid.SYSTEM, Service.PING, b"\x00" * 200)


def test_table_rows_are_what_the_framing_encodes():
    # guard against a typo in the hand-written rows above
    rows = [(PING_0, tc(Apid.SYSTEM, 0, Service.PING)),
            (ACK_PING_4, tm(Apid.SYSTEM, 4, Service.PING, Status.OK)),
            (NACK_7FF, tm(0x7FF, 0, Service.PING, Status.UNKNOWN_APID)),
            (HEAT_12W5_0, tc(Apid.HEATER, 0, Service.SET_POWER, b"\x04\xe2"))]
    for wire, pkt in rows:
        assert FrameDecoder().feed(wire) == [pkt]

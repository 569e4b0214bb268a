"""``thermine ground replay`` (ground/tmtc/replay.py): each TM packet of a downlink file
goes out as one datagram, in order, at the recorded pace times --speed; a malformed
file is refused before anything is sent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from common.clock import SteppedClock
from ground.harness.ground_link import Endpoint
from ground.tmtc import replay


@pytest.fixture
def receiver() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(2.0)
    yield s
    s.close()


def received(s: socket.socket, n: int) -> list[bytes]:
    return [s.recv(65535) for _ in range(n)]


def nothing_waits(s: socket.socket) -> bool:
    s.settimeout(0.2)
    try:
        s.recv(65535)
    except TimeoutError:
        return True
    return False


def test_replay_sends_each_packet_as_a_datagram_in_order(
        stream: list[bytes], tmp_path: Path, receiver: socket.socket,
        capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "downlink.bin"
    f.write_bytes(b"".join(stream))
    port = receiver.getsockname()[1]
    assert replay.main([str(f), "--to", f"udp://127.0.0.1:{port}", "--speed", "0"]) == 0
    assert received(receiver, len(stream)) == stream
    assert nothing_waits(receiver)
    assert capsys.readouterr().out.startswith(f"replayed {len(stream)} packets (t=0.0..1.5 s)")


def test_replay_keeps_the_recorded_pace(stream: list[bytes], tmp_path: Path) -> None:
    f = tmp_path / "downlink.bin"
    f.write_bytes(b"".join(stream))
    clock = SteppedClock()
    sent: list[tuple[float, bytes]] = []
    r = replay.replay(replay.load_packets(f), Endpoint("127.0.0.1", 9), 4.0, clock=clock,
                      send=lambda p: sent.append((clock.now_s(), p)))
    # the clock stands for WallClock(speed): it runs in mission seconds from the first packet
    assert [t for t, _ in sent] == [0.0, 0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 1.5]
    assert [p for _, p in sent] == stream
    assert (r.packets, r.first_t_s, r.last_t_s) == (8, 0.0, 1.5)


def test_replay_at_speed_takes_the_scaled_time(stream: list[bytes], tmp_path: Path,
                                               receiver: socket.socket) -> None:
    f = tmp_path / "downlink.bin"
    f.write_bytes(b"".join(stream))
    r = replay.replay(replay.load_packets(f), Endpoint("127.0.0.1", receiver.getsockname()[1]),
                      speed=5.0)
    assert 0.3 - 0.01 <= r.wall_s < 2.0  # 1.5 s of mission time at 5x
    assert received(receiver, len(stream)) == stream


def test_a_real_run_replays_whole(quick_run: Any, receiver: socket.socket) -> None:
    packets = replay.load_packets(quick_run.out / "downlink.bin")
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    r = replay.replay(packets[:200], Endpoint("127.0.0.1", receiver.getsockname()[1]), 0)
    assert r.packets == 200
    assert b"".join(received(receiver, 200)) == b"".join(p for _, p in packets[:200])


def test_a_malformed_file_sends_nothing(stream: list[bytes], tmp_path: Path,
                                        receiver: socket.socket,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.bin"
    f.write_bytes(b"".join(stream) + b"\x09\x00\xc0")
    port = receiver.getsockname()[1]
    assert replay.main([str(f), "--to", f"udp://127.0.0.1:{port}", "--speed", "0"]) == 2
    err = capsys.readouterr().err
    offset = sum(map(len, stream))
    assert err == (f"thermine: error: {f}: packet 8 at byte {offset}: truncated: 3 byte(s) "
                   "left, a primary header takes 6\n")
    assert nothing_waits(receiver)


@pytest.mark.parametrize(("argv", "says"), [
    (["--speed", "-1"], "--speed: must be >= 0"),
    (["--speed", "inf"], "--speed: must be >= 0"),
    (["--to", "tcp://127.0.0.1:5"], "--to: 'tcp://127.0.0.1:5': expected udp://HOST:PORT"),
])
def test_bad_arguments_are_exit_2(stream: list[bytes], tmp_path: Path, argv: list[str],
                                  says: str, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "downlink.bin"
    f.write_bytes(b"".join(stream))
    assert replay.main([str(f), *argv]) == 2
    assert says in capsys.readouterr().err

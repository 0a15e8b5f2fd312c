"""§10 timing cases on the wire: latency, jitter, bandwidth, slow_close, timeout, reset_peer.

Tolerances are wider than Go's ±10 ms (±15 ms, late side only where the scheduler can add
delay) because two shared cores run the server, the peers and the test.
"""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import Api, Upstream, connect, recv_exactly

TOL = 0.015


def round_trip(sock: socket.socket, payload: bytes = b"x") -> float:
    start = time.monotonic()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.monotonic() - start


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_latency_one_way(api: Api, echo_server: Upstream, stream: str) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", stream=stream, latency=100)
    with connect(port) as sock:
        assert 0.100 - 0.002 <= round_trip(sock) <= 0.100 + TOL


def test_latency_both_ways_and_stacked(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", stream="upstream", latency=100)
    api.toxic("p", "latency", stream="downstream", latency=200)
    with connect(port) as sock:
        assert 0.300 - 0.002 <= round_trip(sock) <= 0.300 + TOL
        api.toxic("p", "latency", stream="downstream", name="more", latency=200)
        assert 0.500 - 0.002 <= round_trip(sock) <= 0.500 + TOL


def test_latency_is_pipelined_not_serialised(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=100)
    with connect(port) as sock:
        start = time.monotonic()
        for i in range(20):         # 20 sends 5 ms apart: shifted by 100 ms, not 20 × 100 ms
            sock.sendall(bytes([i]))
            time.sleep(0.005)
        assert len(recv_exactly(sock, 20)) == 20
        assert time.monotonic() - start <= 0.100 + 0.1 + 0.05


def test_jitter_stays_in_range(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=60, jitter=30)
    with connect(port) as sock:
        rtts = [round_trip(sock) for _ in range(12)]
    assert all(0.030 - 0.002 <= r <= 0.090 + TOL for r in rtts)
    assert max(rtts) - min(rtts) > 0.010        # jitter really varies


def test_bandwidth_480kb_at_1000kbps(api: Api, upstream: object) -> None:
    payload = bytes(range(256)) * 1875          # 480 000 bytes

    def send_all(conn: socket.socket) -> None:
        conn.recv(1)
        conn.sendall(payload)
        conn.recv(1)

    up = upstream(send_all)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "bandwidth", rate=1000)
    with connect(port) as sock:
        sock.sendall(b"go")
        start = time.monotonic()
        got = recv_exactly(sock, len(payload))
        elapsed = time.monotonic() - start
    assert got == payload
    assert 0.480 - TOL <= elapsed <= 0.480 + TOL


def test_slow_close_delays_the_close_the_client_sees(api: Api, upstream: object) -> None:
    def reply_and_close(conn: socket.socket) -> None:
        conn.recv(10)
        conn.sendall(b"bye")
        conn.close()

    up = upstream(reply_and_close)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "slow_close", delay=200)
    with connect(port) as sock:
        sock.sendall(b"hi")
        assert recv_exactly(sock, 3) == b"bye"
        start = time.monotonic()
        assert sock.recv(10) == b""
        assert 0.200 - 0.01 <= time.monotonic() - start <= 0.200 + TOL


def test_timeout_closes_after_its_timeout_with_eof(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    with connect(port) as sock:
        assert round_trip(sock) < 0.05
        api.toxic("p", "timeout", stream="upstream", timeout=100)
        start = time.monotonic()
        sock.sendall(b"swallowed")
        assert sock.recv(10) == b""                     # EOF, not RST, and no data
        assert 0.100 - 0.01 <= time.monotonic() - start <= 0.100 + TOL


def test_toxicity_zero_passes_then_update_to_one_times_out(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "timeout", name="t", toxicity=0.0, timeout=100)
    with connect(port) as sock:
        assert round_trip(sock) < 0.05
        api("PATCH", "/proxies/p/toxics/t", {"toxicity": 1.0, "attributes": {"timeout": 100}})
        start = time.monotonic()
        assert sock.recv(10) == b""
        assert time.monotonic() - start <= 0.150


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_after_timeout(api: Api, echo_server: Upstream, stream: str) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "reset_peer", stream=stream, timeout=100)
    with connect(port) as sock:
        start = time.monotonic()
        sock.sendall(b"trigger")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
        assert 0.100 - 0.002 <= time.monotonic() - start <= 0.110 + TOL


def test_reset_peer_immediately(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "reset_peer", stream="upstream", timeout=0)
    with connect(port) as sock:
        sock.sendall(b"trigger")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)

"""§10 timing cases on the wire: latency, jitter, bandwidth, slow_close, timeout, reset_peer.

Tolerances are wider than Go's ±10 ms (+15 ms on the late side, where the scheduler adds
delay) because two shared cores run the server, the peers and the test; a late measurement is
retried (see ``timing.assert_timed``), an early one fails at once.
"""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import Api, Upstream, connect, recv_exactly
from .timing import TOL, assert_timed


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
        assert_timed(lambda: round_trip(sock), 0.100 - 0.002, 0.100 + TOL)


def test_latency_both_ways_and_stacked(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", stream="upstream", latency=100)
    api.toxic("p", "latency", stream="downstream", latency=200)
    with connect(port) as sock:
        assert_timed(lambda: round_trip(sock), 0.300 - 0.002, 0.300 + TOL)
        api.toxic("p", "latency", stream="downstream", name="more", latency=200)
        assert_timed(lambda: round_trip(sock), 0.500 - 0.002, 0.500 + TOL)


def test_latency_is_pipelined_not_serialised(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=100)
    with connect(port) as sock:
        def burst() -> float:
            start = time.monotonic()
            for i in range(20):     # 20 sends 5 ms apart: shifted by 100 ms, not 20 × 100 ms
                sock.sendall(bytes([i]))
                time.sleep(0.005)
            assert len(recv_exactly(sock, 20)) == 20
            return time.monotonic() - start

        assert_timed(burst, 0.100, 0.100 + 0.1 + 0.05)


def test_jitter_stays_in_range(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=60, jitter=30)
    with connect(port) as sock:
        rtts = [round_trip(sock) for _ in range(12)]
    assert all(r >= 0.030 - 0.002 for r in rtts)                  # never early
    assert sum(r > 0.090 + TOL for r in rtts) <= 2                 # late only by scheduling noise
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

    def transfer() -> float:
        with connect(port) as sock:
            sock.sendall(b"go")
            start = time.monotonic()
            got = recv_exactly(sock, len(payload))
            elapsed = time.monotonic() - start
        assert got == payload
        return elapsed

    assert_timed(transfer, 0.480 - TOL, 0.480 + TOL)


def test_slow_close_delays_the_close_the_client_sees(api: Api, upstream: object) -> None:
    def reply_and_close(conn: socket.socket) -> None:
        conn.recv(10)
        conn.sendall(b"bye")
        conn.close()

    up = upstream(reply_and_close)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "slow_close", delay=200)

    def close_delay() -> float:
        with connect(port) as sock:
            sock.sendall(b"hi")
            assert recv_exactly(sock, 3) == b"bye"
            start = time.monotonic()
            assert sock.recv(10) == b""
            return time.monotonic() - start

    assert_timed(close_delay, 0.200 - 0.01, 0.200 + TOL)


def test_timeout_closes_after_its_timeout_with_eof(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    attempt = iter(range(3))

    def closes_after() -> float:
        name = f"to{next(attempt)}"
        with connect(port) as sock:
            assert round_trip(sock) < 0.5
            api.toxic("p", "timeout", stream="upstream", name=name, timeout=100)
            start = time.monotonic()
            sock.sendall(b"swallowed")
            assert sock.recv(10) == b""                 # EOF, not RST, and no data
            elapsed = time.monotonic() - start
        api("DELETE", f"/proxies/p/toxics/{name}")
        return elapsed

    assert_timed(closes_after, 0.100 - 0.03, 0.100 + TOL)


def test_toxicity_zero_passes_then_update_to_one_times_out(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    attempt = iter(range(3))

    def eof_after_update() -> float:
        name = f"t{next(attempt)}"
        api.toxic("p", "timeout", name=name, toxicity=0.0, timeout=100)
        with connect(port) as sock:
            assert round_trip(sock) < 0.5              # toxicity 0: data passes
            start = time.monotonic()
            api("PATCH", f"/proxies/p/toxics/{name}", {"toxicity": 1.0,
                                                       "attributes": {"timeout": 100}})
            assert sock.recv(10) == b""
            elapsed = time.monotonic() - start
        api("DELETE", f"/proxies/p/toxics/{name}")
        return elapsed

    assert_timed(eof_after_update, 0.0, 0.150)


@pytest.mark.parametrize("stream", ["upstream", "downstream"])
def test_reset_peer_after_timeout(api: Api, echo_server: Upstream, stream: str) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "reset_peer", stream=stream, timeout=100)

    def reset_after() -> float:
        with connect(port) as sock:
            start = time.monotonic()
            sock.sendall(b"trigger")
            with pytest.raises(ConnectionResetError):
                sock.recv(10)
            return time.monotonic() - start

    assert_timed(reset_after, 0.100 - 0.002, 0.110 + TOL)


def test_reset_peer_immediately(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "reset_peer", stream="upstream", timeout=0)
    with connect(port) as sock:
        sock.sendall(b"trigger")
        with pytest.raises(ConnectionResetError):
            sock.recv(10)

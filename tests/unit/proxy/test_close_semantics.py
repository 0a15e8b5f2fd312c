"""§6.3 / §6.4 / §8.7: no half-close, EOF vs RST, unreachable upstream, limit_data cuts."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from .conftest import Api, Upstream, connect, recv_exactly


def test_half_close_tears_down_without_reply(api: Api, upstream: object) -> None:
    def reply_after_eof(conn: socket.socket) -> None:
        while conn.recv(100):
            pass
        try:
            conn.sendall(b"late reply")
        except OSError:
            pass

    up = upstream(reply_after_eof)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    with connect(port) as sock:
        sock.sendall(b"request")
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""            # Toxiproxy has no half-close: no reply


def test_unreachable_upstream_accepts_then_eof(api: Api) -> None:
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port_dead = dead.getsockname()[1]
    dead.close()
    port = api.proxy("p", f"127.0.0.1:{port_dead}")
    start = time.monotonic()
    with connect(port) as sock:
        assert sock.recv(10) == b""
    assert time.monotonic() - start < 0.5


def test_disable_drops_open_connections(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "slow_close", delay=5000)    # no toxic delay applies on disable
    with connect(port) as sock:
        sock.sendall(b"x")
        assert recv_exactly(sock, 1) == b"x"
        start = time.monotonic()
        api("POST", "/proxies/p", {"enabled": False})
        try:
            assert sock.recv(10) == b""
        except ConnectionResetError:
            pass
        assert time.monotonic() - start < 0.5


def test_plain_close_is_fin_not_rst(api: Api, upstream: object) -> None:
    def close_at_once(conn: socket.socket) -> None:
        conn.recv(10)
        conn.close()

    up = upstream(close_at_once)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    with connect(port) as sock:
        sock.sendall(b"x")
        assert sock.recv(10) == b""


@pytest.mark.parametrize(("chunks", "expected"), [
    ([150], 100), ([90, 20], 100), ([25, 25, 25, 25], 100), ([10], 10)])
def test_limit_data_truncation_table(api: Api, upstream: object, chunks: list[int],
                                     expected: int) -> None:
    received = bytearray()
    eof = threading.Event()

    def record(conn: socket.socket) -> None:
        while data := conn.recv(1000):
            received.extend(data)
        eof.set()

    up = upstream(record)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "limit_data", stream="upstream", bytes=100)
    with connect(port) as sock:
        for n in chunks:
            sock.sendall(b"z" * n)
            time.sleep(0.02)
        closed = eof.wait(0.5)
    assert len(received) == expected
    assert closed == (expected == 100)


def test_limit_data_zero_delivers_nothing(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "limit_data", stream="upstream", bytes=0)
    with connect(port) as sock:
        time.sleep(0.05)
        sock.sendall(b"data")
        assert sock.recv(10) == b""


def test_slicer_pieces_on_the_wire(api: Api, upstream: object) -> None:
    pieces: list[bytes] = []
    done = threading.Event()

    def record(conn: socket.socket) -> None:
        while data := conn.recv(1000):
            pieces.append(data)
        done.set()

    up = upstream(record)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "slicer", stream="upstream", average_size=1, size_variation=0, delay=3000)
    payload = b"abcdefghijklmnopqrstuvwx"
    with connect(port) as sock:
        sock.sendall(payload)
        time.sleep(0.2)
    assert done.wait(2)
    assert b"".join(pieces) == payload
    assert len(pieces) >= 18        # 24 single-byte writes, 3 ms apart; a few may coalesce


def test_upstream_that_speaks_first(api: Api, upstream: object) -> None:
    def banner(conn: socket.socket) -> None:
        conn.sendall(b"220 ready\r\n")          # before the client says anything
        while data := conn.recv(100):
            conn.sendall(data.upper())

    up = upstream(banner)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    for _ in range(5):
        with connect(port) as sock:
            assert recv_exactly(sock, 11) == b"220 ready\r\n"
            sock.sendall(b"helo")
            assert recv_exactly(sock, 4) == b"HELO"


def test_upstream_by_name_reaches_an_ipv4_only_server(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", f"localhost:{echo_server.port}")
    with connect(port) as sock:
        sock.sendall(b"named")
        assert recv_exactly(sock, 5) == b"named"

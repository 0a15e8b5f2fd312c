"""Flow control and flushing: bounded memory behind slow toxics, nothing lost at close."""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import Api, Upstream, connect, recv_exactly
from .timing import assert_timed

BIG = bytes(range(256)) * 20_000        # 5.12 MB


@pytest.mark.parametrize("toxic", [None, "latency"])
def test_upstream_close_after_big_write_delivers_everything(api: Api, upstream: object,
                                                            toxic: str | None) -> None:
    def blast(conn: socket.socket) -> None:
        conn.recv(1)
        conn.sendall(BIG)
        conn.close()

    up = upstream(blast)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    if toxic:
        api.toxic("p", toxic, latency=20)
    with connect(port, timeout=10) as sock:
        sock.sendall(b"g")
        got = recv_exactly(sock, len(BIG) + 1)      # then EOF
    assert got == BIG


def test_slow_toxic_pushes_back_on_the_sender(api: Api, upstream: object) -> None:
    def hold(conn: socket.socket) -> None:
        time.sleep(2)

    up = upstream(hold)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "bandwidth", stream="upstream", rate=10)     # 10 KB/s
    with connect(port) as sock:
        sock.setblocking(False)
        accepted = 0
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                accepted += sock.send(bytes(65536))
            except BlockingIOError:
                time.sleep(0.01)
    # Kernel buffers plus a few chunks in the link: far less than 0.5 s of an unthrottled
    # loopback sender, which would be hundreds of MB.
    assert accepted < 24_000_000


def test_toxics_added_while_disabled_apply_once_enabled(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api("POST", "/proxies/p", {"enabled": False})
    api.toxic("p", "latency", latency=80)
    api("POST", "/proxies/p", {"enabled": True})
    with connect(port) as sock:
        def rtt() -> float:
            start = time.monotonic()
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"x"
            return time.monotonic() - start

        assert_timed(rtt, 0.078, 0.080 + 0.030)

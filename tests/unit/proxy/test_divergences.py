"""The deliberate differences from Toxiproxy (docs/proxy.md, "Decisions"), asserted on both servers.

Each test states what Toxiproxy does (``server.original``) and what the embedded server does
instead, so a change on either side shows up here rather than in a user's run.
"""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import Api, ServerUnderTest, Upstream, connect, recv_exactly


def test_reset_peer_that_never_fires_still_resets_in_toxiproxy(api: Api, server: ServerUnderTest,
                                                               upstream: object) -> None:
    """Toxiproxy sets SO_LINGER 0 at connection start whenever a reset_peer exists, even with
    toxicity 0 (its issue #603), so an ordinary close becomes an RST; here it is a FIN."""
    def close_at_once(conn: socket.socket) -> None:
        conn.recv(10)
        conn.close()

    up = upstream(close_at_once)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "reset_peer", stream="upstream", toxicity=0.0, timeout=0)
    with connect(port) as sock:
        sock.sendall(b"x")
        if server.original:
            with pytest.raises(ConnectionResetError):
                sock.recv(10)
        else:
            assert sock.recv(10) == b""


def test_appending_a_toxic_releases_a_waiting_latency_chunk_only_in_toxiproxy(
        api: Api, server: ServerUnderTest, echo_server: Upstream) -> None:
    """Appending a toxic restarts the last worker of the chain in Toxiproxy, which sends the
    chunk it holds at once; here the chunk keeps its delay."""
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", name="slow", latency=600)
    with connect(port) as sock:
        sock.sendall(b"a")
        time.sleep(0.1)
        start = time.monotonic()
        api.toxic("p", "noop", name="after")
        assert recv_exactly(sock, 1) == b"a"
        waited = time.monotonic() - start
    if server.original:
        assert waited < 0.3                 # released at once (0.5 s were left)
    else:
        assert waited >= 0.45               # the rest of its 600 ms, never less


def test_removing_a_triggered_reset_peer_blocks_the_api_only_in_toxiproxy(
        api: Api, server: ServerUnderTest, echo_server: Upstream) -> None:
    """Toxiproxy's reset_peer waits out its timeout uninterruptibly, and a removal waits with
    it; here the removal answers at once (the reset already triggered still happens)."""
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "reset_peer", name="rp", stream="upstream", timeout=700)
    with connect(port) as sock:
        sock.sendall(b"trigger")
        time.sleep(0.1)
        start = time.monotonic()
        assert api("DELETE", "/proxies/p/toxics/rp").status_code == 204
        took = time.monotonic() - start
    if server.original:
        assert took >= 0.45                 # blocked behind the 700 ms wait
    else:
        assert took < 0.3

"""The path the run engine uses first: proxies, enable/disable, latency, the adapter."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import pytest

from harness.faults.base import FaultSpec
from harness.faults.network import NetworkInjector, ToxiproxyClient

from .conftest import ServerUnderTest, Upstream, connect, recv_exactly
from .timing import assert_timed


def test_relay_and_latency_and_down(server: ServerUnderTest, echo_server: Upstream) -> None:
    client = ToxiproxyClient(server.url)
    assert client.version() == "2.12.0"
    listen = client.create_proxy("bureau", "127.0.0.1:0", echo_server.address)
    port = int(listen.rsplit(":", 1)[1])
    with connect(port) as sock:
        sock.sendall(b"ping")
        assert recv_exactly(sock, 4) == b"ping"
        client.add_toxic("bureau", "lat", "latency", attributes={"latency": 100})

        def rtt() -> float:
            start = time.monotonic()
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"x"
            return time.monotonic() - start

        assert_timed(rtt, 0.098, 0.100 + 0.030)
        client.remove_toxic("bureau", "lat")
        client.set_enabled("bureau", False)
        assert sock.recv(10) == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    client.set_enabled("bureau", True)
    with connect(port) as sock:      # same port after re-enable
        sock.sendall(b"back")
        assert recv_exactly(sock, 4) == b"back"


@dataclass
class Ctx:
    toxiproxy_url: str
    bureau_admin_url: str = ""

    def proxy_name(self, target: str) -> str:
        return target

    def service(self, target: str) -> object:
        raise NotImplementedError


def test_injector_down_then_revert(server: ServerUnderTest, echo_server: Upstream) -> None:
    client = ToxiproxyClient(server.url)
    port = int(client.create_proxy("bureau", "127.0.0.1:0", echo_server.address).rsplit(":", 1)[1])
    injector = NetworkInjector()
    spec = FaultSpec("f1", "network", "down", "bureau", 0.0, 2.0)
    assert injector.check(spec) == []
    revert = asyncio.run(injector.apply(spec, Ctx(server.url)))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    asyncio.run(revert())
    asyncio.run(revert())            # idempotent
    with connect(port) as sock:
        sock.sendall(b"ok")
        assert recv_exactly(sock, 2) == b"ok"

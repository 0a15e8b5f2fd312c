"""toxiproxy-python 0.1.1, unchanged, against the embedded server: its own expectations hold."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import NotFound, ProxyExists


from .conftest import ServerUnderTest, Upstream


@pytest.fixture
def toxiproxy(server: ServerUnderTest) -> Iterator[Toxiproxy]:
    saved = (APIConsumer.host, APIConsumer.port)
    client = Toxiproxy()
    client.update_api_consumer(server.host, server.port)
    try:
        yield client
    finally:
        APIConsumer.host, APIConsumer.port = saved


def test_lifecycle_as_the_library_uses_it(toxiproxy: Toxiproxy, echo_server: Upstream) -> None:
    assert toxiproxy.running()
    assert toxiproxy.version() == b'{"version": "2.12.0"}\n'
    proxy = toxiproxy.create(upstream=echo_server.address, name="lib")
    host, port = proxy.listen.split(":")
    assert host == "127.0.0.1" and int(port) > 0
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream=echo_server.address, name="lib")
    assert set(toxiproxy.proxies()) == {"lib"}
    assert toxiproxy.get_proxy("lib").upstream == echo_server.address

    with proxy.down():
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=2)
    socket.create_connection((host, int(port)), timeout=2).close()     # same port again

    proxy.add_toxic(type="latency", attributes={"latency": 50})
    proxy.add_toxic(type="bandwidth", stream="upstream", name="bw", toxicity=0.5,
                    attributes={"rate": 100})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "bw"}
    assert toxics["bw"].toxicity == 0.5 and toxics["bw"].attributes == {"rate": 100}
    assert proxy.get_toxic("latency_downstream").attributes["latency"] == 50
    proxy.destroy_toxic("bw")
    assert set(proxy.toxics()) == {"latency_downstream"}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("bw")

    assert toxiproxy.reset()
    assert proxy.toxics() == {}
    populated = toxiproxy.populate([
        {"name": "lib", "upstream": echo_server.address, "listen": proxy.listen},
        {"name": "second", "upstream": echo_server.address, "listen": "127.0.0.1:0"}])
    assert [p.name for p in populated] == ["second"]
    toxiproxy.destroy_all()
    assert toxiproxy.proxies() == {}


def test_library_suite_expectations(toxiproxy: Toxiproxy, echo_server: Upstream) -> None:
    """The cases toxiproxy-python's own test suite checks, restated against our server."""
    from harness.net import free_port
    from toxiproxy.utils import can_connect_to

    fixed = free_port()
    disabled = toxiproxy.create(upstream="localhost:3306", name="mysql", enabled=False,
                                listen=f"127.0.0.1:{fixed}")
    assert (disabled.enabled, disabled.listen) == (False, f"127.0.0.1:{fixed}")
    assert toxiproxy.destroy("invalid_proxy") is False
    assert toxiproxy.get_proxy("invalid_proxy") is None
    assert isinstance(toxiproxy.version(), bytes)

    first, second = free_port(), free_port()
    toxiproxy.populate([{"name": "pop", "upstream": "localhost:3306",
                         "listen": f"localhost:{first}"}])
    moved = toxiproxy.populate([{"name": "pop", "upstream": "localhost:3306",
                                 "listen": f"localhost:{second}"}])
    for proxy in moved:
        host, port = proxy.listen.split(":")
        assert (host, int(port)) == ("127.0.0.1", second) and can_connect_to(host, int(port))

    proxy = toxiproxy.create(upstream=echo_server.address, name="server")
    host, port = proxy.listen.split(":")
    proxy.add_toxic(type="latency", attributes={"latency": 123})
    proxy.disable()
    assert can_connect_to(host, int(port)) is False
    proxy.enable()
    assert can_connect_to(host, int(port)) is True
    assert proxy.get_toxic("latency_downstream").attributes["latency"] == 123
    assert toxiproxy.get_proxy("server").listen == proxy.listen

"""The harness side: ToxiproxyClient and NetworkInjector (harness/faults/network.py)."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

from harness.errors import FaultError
from harness.faults.base import FaultSpec
from harness.faults.network import NetworkInjector, ToxiproxyClient
from harness.proxy import EmbeddedServer

from .conftest import Api, ServerUnderTest, Upstream, connect, recv_exactly
from .timing import assert_timed


@dataclass
class Ctx:
    toxiproxy_url: str
    bureau_admin_url: str = ""

    def proxy_name(self, target: str) -> str:
        return {"bureau": "bureau-link"}.get(target, target)

    def service(self, target: str) -> Any:
        raise NotImplementedError


def spec(kind: str, **params: Any) -> FaultSpec:
    return FaultSpec("f1", "network", kind, "bureau", 0.0, 1.0, params)


def test_check_names_params_and_values() -> None:
    inj = NetworkInjector()
    assert inj.check(spec("latency", ms=100, jitter_ms=10, stream="both", toxicity=0.5)) == []
    assert inj.check(spec("down")) == []
    assert inj.check(spec("nope"))[0].startswith("kind: 'nope' is not a network fault")
    assert inj.check(spec("latency")) == ["params.ms: required for kind 'latency'"]
    assert inj.check(spec("latency", ms=-5)) == ["params.ms: must be an integer ≥ 0, got -5"]
    assert inj.check(spec("bandwidth", rate_kbps="fast")) == [
        "params.rate_kbps: must be an integer ≥ 1, got 'fast'"]
    assert inj.check(spec("latency", ms=1, stream="sideways")) == [
        "params.stream: must be upstream, downstream or both, got 'sideways'"]
    assert inj.check(spec("latency", ms=1, toxicity=1.5)) == [
        "params.toxicity: must be a number from 0 to 1, got 1.5"]
    assert inj.check(spec("partial")) == [
        "params.toxicity: required for kind 'partial' (a share 0..1)"]
    assert inj.check(spec("down", ms=3))[0].startswith("params.ms: unknown for kind 'down'")
    assert set(inj.kinds()) >= {"latency", "jitter", "bandwidth", "timeout", "reset", "slicer",
                                "limit_data", "down", "partial"}


def test_adapter_and_raw_client_agree(server: ServerUnderTest, api: Api,
                                      echo_server: Upstream) -> None:
    via_adapter = api.proxy("bureau-link", echo_server.address)
    via_raw = api.proxy("raw", echo_server.address)
    revert = asyncio.run(NetworkInjector().apply(
        spec("latency", ms=80, jitter_ms=0, stream="downstream"), Ctx(server.url)))
    api.toxic("raw", "latency", stream="downstream", name="f1-latency-downstream", latency=80)
    a = api("GET", "/proxies/bureau-link/toxics").json()
    b = api("GET", "/proxies/raw/toxics").json()
    assert a == b
    for port in (via_adapter, via_raw):
        with connect(port) as sock:
            def rtt() -> float:
                start = time.monotonic()
                sock.sendall(b"x")
                recv_exactly(sock, 1)
                return time.monotonic() - start

            assert_timed(rtt, 0.078, 0.080 + 0.030)
    asyncio.run(revert())
    assert api("GET", "/proxies/bureau-link/toxics").json() == []


@pytest.mark.parametrize(("kind", "params", "expected"), [
    ("bandwidth", {"rate_kbps": 50}, [("bandwidth", "downstream", {"rate": 50})]),
    ("timeout", {"ms": 200}, [("timeout", "upstream", {"timeout": 200})]),
    ("reset", {"timeout_ms": 10}, [("reset_peer", "upstream", {"timeout": 10})]),
    ("slicer", {"average_size": 8, "delay_us": 100},
     [("slicer", "downstream", {"average_size": 8, "size_variation": 0, "delay": 100})]),
    ("limit_data", {"bytes": 1000, "stream": "both"},
     [("limit_data", "upstream", {"bytes": 1000}), ("limit_data", "downstream", {"bytes": 1000})]),
    ("jitter", {"jitter_ms": 20}, [("latency", "downstream", {"latency": 0, "jitter": 20})]),
])
def test_each_kind_maps_to_toxics(server: ServerUnderTest, api: Api, echo_server: Upstream,
                                  kind: str, params: dict[str, Any],
                                  expected: list[tuple[str, str, dict[str, int]]]) -> None:
    api.proxy("bureau-link", echo_server.address)
    revert = asyncio.run(NetworkInjector().apply(spec(kind, **params), Ctx(server.url)))
    got = [(t["type"], t["stream"], t["attributes"])
           for t in api("GET", "/proxies/bureau-link/toxics").json()]
    assert got == expected
    asyncio.run(revert())
    assert api("GET", "/proxies/bureau-link/toxics").json() == []


def test_partial_outage_sets_toxicity(server: ServerUnderTest, api: Api,
                                      echo_server: Upstream) -> None:
    api.proxy("bureau-link", echo_server.address)
    asyncio.run(NetworkInjector().apply(spec("partial", toxicity=0.3), Ctx(server.url)))
    (toxic,) = api("GET", "/proxies/bureau-link/toxics").json()
    assert toxic["type"] == "reset_peer" and toxic["toxicity"] == 0.3


def test_client_update_errors_and_per_instance_address(server: ServerUnderTest,
                                                       echo_server: Upstream) -> None:
    client = ToxiproxyClient(server.url)
    with EmbeddedServer() as other:
        other_client = ToxiproxyClient(other.url)
        client.create_proxy("p", "127.0.0.1:0", echo_server.address)
        with pytest.raises(FaultError, match="not found"):
            other_client.proxy("p")                 # two servers, no shared class state
    client.add_toxic("p", "lat", "latency", attributes={"latency": 10, "jitter": 2})
    updated = client.update_toxic("p", "lat", attributes={"latency": 30}, toxicity=0.5)
    assert updated.attributes == {"latency": 30, "jitter": 2} and updated.toxicity == 0.5
    with pytest.raises(FaultError, match="409|refused"):
        client.create_proxy("p", "127.0.0.1:0", echo_server.address)
    with pytest.raises(FaultError, match="refused"):
        client.add_toxic("p", "bad", "nope")
    client.remove_toxic("p", "absent")              # idempotent cleanup
    client.delete_proxy("absent")
    client.reset()
    assert client.toxics("p") == {}


def test_deadline_and_unreachable_map_to_fault_error() -> None:
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(1)                                  # accepts, never answers
    try:
        client = ToxiproxyClient(f"http://127.0.0.1:{hung.getsockname()[1]}", timeout_s=0.3)
        start = time.monotonic()
        with pytest.raises(FaultError, match="did not answer within 0.3 s"):
            client.version()
        assert time.monotonic() - start < 2
    finally:
        hung.close()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(FaultError, match="cannot reach toxiproxy"):
        ToxiproxyClient(f"http://127.0.0.1:{port}").version()
    with pytest.raises(FaultError, match="expected http://HOST:PORT"):
        ToxiproxyClient("ftp://x")


def test_apply_rejects_bad_spec_and_cleans_up_half_faults(server: ServerUnderTest, api: Api,
                                                          echo_server: Upstream) -> None:
    with pytest.raises(FaultError, match="params.ms"):
        asyncio.run(NetworkInjector().apply(spec("latency"), Ctx(server.url)))
    with pytest.raises(FaultError, match="not found"):
        asyncio.run(NetworkInjector().apply(spec("latency", ms=1, stream="both"), Ctx(server.url)))


def test_partial_outage_resets_a_share_of_connections(server: ServerUnderTest, api: Api,
                                                      echo_server: Upstream) -> None:
    port = api.proxy("bureau-link", echo_server.address)
    revert = asyncio.run(NetworkInjector().apply(spec("partial", toxicity=0.5), Ctx(server.url)))
    outcomes = []
    for _ in range(16):
        with connect(port) as sock:
            sock.sendall(b"ping")
            try:
                outcomes.append(recv_exactly(sock, 4) == b"ping")
            except ConnectionResetError:
                outcomes.append(False)
    assert 0 < sum(outcomes) < 16            # some connections reset, some untouched
    asyncio.run(revert())
    with connect(port) as sock:
        sock.sendall(b"ok")
        assert recv_exactly(sock, 2) == b"ok"

"""``--seed`` really reproduces: toxicity and jitter draws per proxy, toxic and connection."""

from __future__ import annotations

import time

from harness.proxy import EmbeddedServer
from harness.proxy.rng import SeedSource

from .conftest import Api, Upstream, connect, recv_exactly


def _pattern(seed: int, upstream_address: str, conns: int = 12) -> list[bool]:
    """Which of ``conns`` successive connections a toxicity-0.5 latency toxic delayed."""
    with EmbeddedServer(seed=seed) as srv:
        api = Api(srv.url)
        port = api.proxy("p", upstream_address)
        api.toxic("p", "latency", toxicity=0.5, latency=150)
        out = []
        for _ in range(conns):
            with connect(port) as sock:
                start = time.monotonic()
                sock.sendall(b"x")
                recv_exactly(sock, 1)
                out.append(time.monotonic() - start > 0.075)
        return out


def test_same_seed_same_toxicity_pattern(echo_server: Upstream) -> None:
    first = _pattern(11, echo_server.address)
    assert first == _pattern(11, echo_server.address)
    assert any(first) and not all(first)
    assert _pattern(12, echo_server.address) != first


def test_streams_are_independent_of_interleaving() -> None:
    a, b = SeedSource(5), SeedSource(5)
    x = [a.stream("p", "t", 3, "downstream").random() for _ in range(3)]
    b.stream("p", "t", 0, "downstream").random()     # another connection draws first
    assert x == [b.stream("p", "t", 3, "downstream").random() for _ in range(3)]
    assert SeedSource(None).seed != SeedSource(None).seed


def test_jitter_draws_are_a_pure_function_of_seed_and_names() -> None:
    from harness.proxy.toxics.base import ToxicState
    from harness.proxy.toxics.latency import LatencyToxic

    toxic = LatencyToxic("lat", "downstream", 1.0, {"latency": 100, "jitter": 50})

    def draws(seed: int) -> list[int]:
        state = ToxicState(None, SeedSource(seed).stream("p", "lat", 4, "downstream"))  # type: ignore[arg-type]
        return [toxic.delay_ms(state) for _ in range(50)]

    assert draws(9) == draws(9) != draws(10)
    assert all(50 <= d < 150 for d in draws(9))

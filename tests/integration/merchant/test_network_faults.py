"""The resilient merchant behind the fault proxy: network faults between it and the bureau.

The proxy is the embedded Toxiproxy-compatible server; faults are Toxiproxy toxics (decided per
connection) and a disabled proxy (the link is down).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from merchant_procs import Service, audit, drain, merchant, nonempty, orders, place, proxy

from harness.net import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def link(shared_bureau: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, str]]:
    """The proxy server and the URL of its ``bureau`` proxy (merchant -> proxy -> bureau)."""
    tmp = tmp_path_factory.mktemp("proxy")
    server = proxy(tmp).start()
    listen = f"127.0.0.1:{free_port()}"
    r = httpx.post(f"{server.url}/proxies", json={"name": "bureau", "listen": listen,
                                                  "upstream": f"127.0.0.1:{shared_bureau.port}"}, timeout=5)
    assert r.status_code in (200, 201), r.text
    try:
        yield server, f"http://{listen}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def resilient(link: tuple[Service, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    service = merchant(tmp_path_factory.mktemp("net"), link[1], "resilient").start()
    try:
        yield service
    finally:
        service.stop()


# name -> Toxiproxy toxics added to the ``bureau`` proxy while orders are placed
TOXICS: dict[str, list[dict[str, Any]]] = {
    "latency": [{"type": "latency", "stream": "downstream", "toxicity": 1.0, "attributes": {"latency": 2200, "jitter": 0}}],
    "timeout_after_request": [{"type": "timeout", "stream": "downstream", "toxicity": 1.0, "attributes": {"timeout": 500}}],
    "reset_peer": [{"type": "reset_peer", "stream": "downstream", "toxicity": 1.0, "attributes": {"timeout": 0}}],
    "truncated_answers": [{"type": "limit_data", "stream": "downstream", "toxicity": 1.0, "attributes": {"bytes": 120}}],
    # Answers in 8-24 byte pieces 2 ms apart (slicer delays are in microseconds): parsing must cope.
    "sliced_answers": [{"type": "slicer", "stream": "downstream", "toxicity": 1.0,
                        "attributes": {"average_size": 16, "size_variation": 8, "delay": 2000}}],
}


@pytest.mark.parametrize("name", list(TOXICS))
def test_resilient_shows_no_anomaly_under_network_faults(name: str, link: tuple[Service, str], resilient: Service,
                                                         shared_bureau: Service) -> None:
    api = link[0].url
    added = []
    before = troubles(resilient.url)
    try:
        for i, toxic in enumerate(TOXICS[name]):
            r = httpx.post(f"{api}/proxies/bureau/toxics", json={"name": f"t{i}", **toxic}, timeout=5)
            assert r.status_code in (200, 201), r.text
            added.append(f"t{i}")
        ops = place(resilient.url, orders(f"net{list(TOXICS).index(name)}", 16))
        time.sleep(0.5)
    finally:
        for toxic_name in added:
            httpx.delete(f"{api}/proxies/bureau/toxics/{toxic_name}", timeout=5)
    assert drain(resilient.url, limit_s=40) == 0
    assert {op.get("http_status") for op in ops} <= {201, 202}
    found = nonempty(audit(shared_bureau.url, resilient.url, ops))
    assert found == {}, found
    if name != "sliced_answers":
        assert troubles(resilient.url) > before, "the toxics never hurt a call: the test proves nothing"


def troubles(merchant_url: str) -> int:
    """Bureau calls of the merchant that did not simply succeed (its /stats counters)."""
    calls = httpx.get(f"{merchant_url}/stats", timeout=5).json()["bureau_calls"]
    return sum(n for k, n in calls.items() if k not in ("issue:issued", "find:ok"))


def test_resilient_rides_out_a_link_down(link: tuple[Service, str], resilient: Service, shared_bureau: Service) -> None:
    api = link[0].url
    try:
        assert httpx.post(f"{api}/proxies/bureau", json={"enabled": False}, timeout=5).status_code == 200
        ops = place(resilient.url, orders("netdown", 12))
        assert {op.get("http_status") for op in ops} == {202}
        assert httpx.get(f"{resilient.url}/stats", timeout=5).json()["pending"] >= 12
    finally:
        httpx.post(f"{api}/proxies/bureau", json={"enabled": True}, timeout=5)
    assert drain(resilient.url, limit_s=40) == 0
    found = nonempty(audit(shared_bureau.url, resilient.url, ops))
    assert found == {}, found

"""API contract: /populate (§4.3) including its own error shape."""

from __future__ import annotations

import json

from .conftest import Api, ServerUnderTest, Upstream


def test_populate_creates_and_preserves_existing(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("keep", echo_server.address)
    api.toxic("keep", "latency", latency=5)
    resp = api("POST", "/populate", [
        {"name": "keep", "upstream": echo_server.address, "listen": f"localhost:{port}",
         "enabled": False},
        {"name": "new", "upstream": echo_server.address, "listen": "127.0.0.1:0", "enabled": None},
    ])
    assert resp.status_code == 201 and resp.headers["Content-Type"] == "application/json"
    proxies = resp.json()["proxies"]
    assert [p["name"] for p in proxies] == ["keep", "new"]
    assert proxies[0]["enabled"] is True and len(proxies[0]["toxics"]) == 1
    assert proxies[1]["enabled"] is True


def test_populate_bad_entry_keeps_earlier_ones(api: Api, echo_server: Upstream) -> None:
    resp = api("POST", "/populate", [
        {"name": "one", "upstream": echo_server.address, "listen": "127.0.0.1:0"},
        {"name": "two", "upstream": echo_server.address, "listen": "local373"},
        {"name": "three", "upstream": echo_server.address, "listen": "127.0.0.1:0"},
    ])
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "application/json"
    assert not resp.content.endswith(b"\n")
    body = json.loads(resp.content)
    assert body["error"] == "listen tcp: address local373: missing port in address"
    assert body["status"] == 500
    assert [p["name"] for p in body["proxies"]] == ["one"]
    assert sorted(api("GET", "/proxies").json()) == ["one"]


def test_populate_validation_creates_nothing(api: Api, server: ServerUnderTest) -> None:
    resp = api("POST", "/populate", [{"name": "a", "upstream": "x:1"}, {"upstream": "x:1"}])
    assert resp.status_code == 400
    assert resp.json() == {"error": "missing required field: name at proxy 2", "status": 400,
                           "proxies": None}
    assert api("GET", "/proxies").json() == {}
    assert api("POST", "/populate", {"name": "a"}).status_code == 400
    # Divergence (docs/proxy.md): Toxiproxy answers an empty array with null, which the Ruby
    # client cannot iterate; the embedded server answers [].
    empty = api("POST", "/populate", [])
    assert empty.status_code == 201
    assert empty.json() == {"proxies": None if server.original else []}

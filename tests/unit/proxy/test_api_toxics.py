"""API contract: toxic create/show/update/delete (§2.2, §4.6-§4.8)."""

from __future__ import annotations

import json

from .conftest import Api, ServerUnderTest, Upstream


def test_create_defaults_shape_and_order(api: Api, echo_server: Upstream) -> None:
    api.proxy("p", echo_server.address)
    resp = api("POST", "/proxies/p/toxics", {"type": "latency"})
    assert resp.status_code == 200
    assert resp.json() == {"attributes": {"latency": 0, "jitter": 0}, "name": "latency_downstream",
                           "type": "latency", "stream": "downstream", "toxicity": 1}
    up = api("POST", "/proxies/p/toxics", {"type": "slicer", "stream": "UpStream",
                                           "toxicity": 0.2, "attributes": {"average_size": 8}})
    assert up.json()["name"] == "slicer_UpStream" and up.json()["stream"] == "UpStream"
    assert b'"toxicity":0.2' in up.content
    assert up.json()["attributes"] == {"average_size": 8, "size_variation": 0, "delay": 0}
    api("POST", "/proxies/p/toxics", {"type": "noop", "attributes": None, "toxicity": None})
    names = [t["name"] for t in api("GET", "/proxies/p/toxics").json()]
    assert names == ["slicer_UpStream", "latency_downstream", "noop_downstream"]
    assert [t["name"] for t in api("GET", "/proxies/p").json()["toxics"]] == names


def test_create_errors(api: Api, server: ServerUnderTest, echo_server: Upstream) -> None:
    api.proxy("p", echo_server.address)

    def err(body: object) -> tuple[int, str]:
        resp = api("POST", "/proxies/p/toxics", body)
        return resp.status_code, json.loads(resp.content)["error"]

    stream_msg = "stream was invalid, can be either upstream or downstream"
    assert err({"type": "latency", "stream": "sideways"}) == (400, stream_msg)
    assert err({"type": "latency", "stream": ""}) == (400, stream_msg)
    assert err({"type": "nope"}) == (400, "invalid toxic type")
    assert err({}) == (400, "invalid toxic type")
    code, msg = err({"type": "latency", "attributes": {"latency": 1.5}})
    assert code == 400 and msg.startswith("bad request body:")
    assert err({"type": "latency", "attributes": {"latency": "5"}})[0] == 400
    zero = {"type": "slicer", "name": "zero", "attributes": {"average_size": 0}}
    if server.original:     # divergence (docs/proxy.md): accepted, and the first chunk kills Go
        assert api("POST", "/proxies/p/toxics", zero).json()["attributes"]["average_size"] == 0
        api("DELETE", "/proxies/p/toxics/zero")
    else:
        assert err(zero) == (400, "slicer average_size must be greater than 0, got 0")
    api.toxic("p", "latency", stream="upstream", name="foo")
    assert err({"type": "noop", "name": "foo"}) == (409, "toxic already exists")
    assert api("POST", "/proxies/none/toxics", {"type": "noop"}).status_code == 404


def test_update_merges_and_delete(api: Api, server: ServerUnderTest, echo_server: Upstream) -> None:
    api.proxy("p", echo_server.address)
    api.toxic("p", "latency", name="lat", latency=100, jitter=10)
    resp = api("PATCH", "/proxies/p/toxics/lat", {"attributes": {"jitter": 3}, "type": "noop",
                                                   "stream": "upstream"})
    assert resp.status_code == 200
    assert resp.json()["attributes"] == {"latency": 100, "jitter": 3}
    assert resp.json()["stream"] == "downstream" and resp.json()["type"] == "latency"
    post = api("POST", "/proxies/p/toxics/lat", {"toxicity": 0.5})
    assert post.json()["toxicity"] == 0.5 and post.json()["attributes"]["latency"] == 100
    assert api("PATCH", "/proxies/p/toxics/lat", data=b"").status_code == 400
    assert api("PATCH", "/proxies/p/toxics/none", {}).status_code == 404
    assert api("GET", "/proxies/p/toxics/lat").json()["name"] == "lat"
    deleted = api("DELETE", "/proxies/p/toxics/lat")
    assert deleted.status_code == 204 and deleted.content == b""
    missing = api("GET", "/proxies/p/toxics/lat")
    assert missing.status_code == 404 and json.loads(missing.content)["error"] == "toxic not found"
    api.toxic("p", "slicer", name="s", average_size=4)
    negative = api("PATCH", "/proxies/p/toxics/s", {"attributes": {"average_size": -1}})
    # Divergence (docs/proxy.md): Toxiproxy stores it (and would crash on data); here a 400.
    assert negative.status_code == (200 if server.original else 400)
    assert api("GET", "/proxies/p/toxics/s").json()["attributes"]["average_size"] == (
        -1 if server.original else 4)


def test_toxicity_out_of_float32_and_nan_are_400(api: Api, echo_server: Upstream) -> None:
    api.proxy("p", echo_server.address)
    big = api("POST", "/proxies/p/toxics", data=b'{"type":"noop","toxicity":1e40}')
    assert big.status_code == 400
    nan = api("POST", "/proxies/p/toxics", data=b'{"type":"noop","toxicity":NaN}')
    assert nan.status_code == 400
    odd = api("POST", "/proxies/p/toxics", {"type": "noop", "name": "odd", "toxicity": 2.5})
    assert odd.status_code == 200 and odd.json()["toxicity"] == 2.5     # not range-checked

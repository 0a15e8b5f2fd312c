"""API contract: proxies, version, routing and middleware, against §1-§5 of the reference."""

from __future__ import annotations

import json
import re
import socket

import pytest

from .conftest import Api, Upstream

TEXT = "text/plain; charset=utf-8"


def error_of(resp: object) -> dict[str, object]:
    assert resp.headers["Content-Type"] == TEXT                    # type: ignore[attr-defined]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"     # type: ignore[attr-defined]
    assert resp.content.endswith(b"\n")                            # type: ignore[attr-defined]
    return dict(json.loads(resp.content))                          # type: ignore[attr-defined]


def test_version_exact_bytes_and_request_id(api: Api) -> None:
    resp = api("GET", "/version")
    assert resp.status_code == 200
    assert resp.content == b'{"version": "2.12.0"}\n'
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert re.fullmatch(r"[0-9a-v]{20}", resp.headers["X-Toxiproxy-Request-Id"])


def test_create_shape_key_order_and_listen_rewrite(api: Api, echo_server: Upstream) -> None:
    resp = api("POST", "/proxies", {"name": "p", "upstream": echo_server.address,
                                    "listen": "localhost:0", "enabled": None})
    assert resp.status_code == 201
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert list(body) == ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", body["listen"]) and body["listen"] != "127.0.0.1:0"
    assert body["enabled"] is True and body["Logger"] == {} and body["toxics"] == []
    assert api("GET", "/proxies").json() == {"p": body}
    assert api("GET", "/proxies/p").json() == body


def test_create_errors(api: Api, echo_server: Upstream) -> None:
    assert error_of(api("POST", "/proxies", {"upstream": "x:1"})) == {
        "error": "missing required field: name", "status": 400}
    assert error_of(api("POST", "/proxies", {"name": "a"}))["error"] == (
        "missing required field: upstream")
    empty = api("POST", "/proxies", data=b"")
    assert empty.status_code == 400 and error_of(empty)["error"] == "bad request body: EOF"
    wrong = api("POST", "/proxies", {"name": 5, "upstream": "x:1"})
    assert wrong.status_code == 400
    assert str(error_of(wrong)["error"]).startswith("bad request body: ")
    api.proxy("a", echo_server.address)
    dup = api("POST", "/proxies", {"name": "a", "upstream": "x:1", "listen": "127.0.0.1:0"})
    assert dup.status_code == 409 and error_of(dup)["error"] == "proxy already exists"
    bad = api("POST", "/proxies", {"name": "b", "upstream": "x:1", "listen": "local373"})
    assert bad.status_code == 500
    assert error_of(bad)["error"] == "listen tcp: address local373: missing port in address"
    assert "b" not in api("GET", "/proxies").json()


@pytest.mark.parametrize(("listen", "error"), [
    ("local373", "address local373: missing port in address"),
    ("[::1", "address [::1: missing ']' in address"),
    ("a:b:c", "address a:b:c: too many colons in address"),
    ("[::1]x", "address [::1]x: missing port in address"),
    ("127.0.0.1:abc", "address tcp/abc: unknown port"),        # not a number: a service name
    ("127.0.0.1: 80", "address tcp/ 80: unknown port"),
    ("127.0.0.1:-1", "address -1: invalid port"),
    ("127.0.0.1:65536", "address 65536: invalid port"),
])
def test_bad_listen_is_500_with_go_text(api: Api, echo_server: Upstream, listen: str, error: str) -> None:
    """A bind (create, populate) says ``listen tcp: …`` as Go's net.Listen does; an update
    resolves the address first (net.ResolveTCPAddr) and answers the bare error."""
    resp = api("POST", "/proxies", {"name": "b", "upstream": echo_server.address, "listen": listen})
    assert resp.status_code == 500
    assert error_of(resp) == {"error": f"listen tcp: {error}", "status": 500}
    populate = api("POST", "/populate", [{"name": "b", "upstream": echo_server.address, "listen": listen}])
    assert populate.status_code == 500 and populate.json()["error"] == f"listen tcp: {error}"
    api.proxy("p", echo_server.address)
    update = api("PATCH", "/proxies/p", {"listen": listen})
    assert update.status_code == 500 and error_of(update)["error"] == error
    assert api("GET", "/proxies/p").json()["enabled"] is True      # nothing changed


@pytest.mark.parametrize(("listen", "shown"), [
    ("127.0.0.1:", r"127\.0\.0\.1:\d+"), ("127.0.0.1:+0", r"127\.0\.0\.1:\d+"), (":", r"\[::\]:\d+")])
def test_empty_or_signed_zero_port_is_ephemeral(api: Api, echo_server: Upstream, listen: str,
                                                 shown: str) -> None:
    resp = api("POST", "/proxies", {"name": "e", "upstream": echo_server.address, "listen": listen})
    assert resp.status_code == 201, resp.text
    bound = resp.json()["listen"]
    assert re.fullmatch(shown, bound) and not bound.endswith(":0")


def test_keys_case_insensitive_and_html_escaped(api: Api) -> None:
    resp = api("POST", "/proxies", {"NAME": "c", "Upstream": "a<b>&:1", "enabled": False,
                                    "listen": "localhost:3310"})
    assert resp.status_code == 201
    assert b'"upstream":"a\\u003cb\\u003e\\u0026:1"' in resp.content
    assert resp.json()["listen"] == "localhost:3310"     # disabled: kept as given
    assert resp.json()["enabled"] is False


def test_port_conflict_500_then_reusable_after_delete(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("first", echo_server.address)
    clash = api("POST", "/proxies", {"name": "second", "upstream": echo_server.address,
                                     "listen": f"127.0.0.1:{port}"})
    assert clash.status_code == 500
    assert error_of(clash)["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
    assert api("DELETE", "/proxies/first").status_code == 204
    assert api.proxy("second", echo_server.address, f"127.0.0.1:{port}") == port


def test_disable_refuses_and_enable_keeps_port(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    off = api("POST", "/proxies/p", {"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    on = api("PATCH", "/proxies/p", {"enabled": True})
    assert on.json()["listen"] == f"127.0.0.1:{port}"
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_update_semantics(api: Api, echo_server: Upstream, upstream: object) -> None:
    port = api.proxy("p", echo_server.address)
    assert api("PATCH", "/proxies/p", {}).json()["listen"] == f"127.0.0.1:{port}"
    assert api("PATCH", "/proxies/p", data=b"").status_code == 400
    same = api("PATCH", "/proxies/p", {"listen": f"localhost:{port}"})      # 2.12: resolved
    assert same.json()["listen"] == f"127.0.0.1:{port}"
    moved = api("PATCH", "/proxies/p", {"upstream": "127.0.0.1:9"})
    assert moved.json()["listen"] == f"127.0.0.1:{port}" and moved.json()["upstream"] == "127.0.0.1:9"
    fresh = api("PATCH", "/proxies/p", {"listen": "127.0.0.1:0"})
    assert fresh.json()["listen"] != f"127.0.0.1:{port}"
    assert api("PATCH", "/proxies/nope", {}).status_code == 404
    assert api("PATCH", "/proxies/p", {"listen": "nohost"}).status_code == 500


def test_routing_404_405_and_browser_block(api: Api) -> None:
    for path in ("/nope", "/proxies/", "/toxics"):
        resp = api("GET", path)
        assert resp.status_code == 404 and resp.content == b"404 page not found\n"
        assert resp.headers["Content-Type"] == TEXT
        assert "X-Toxiproxy-Request-Id" not in resp.headers
    for method, path in (("PUT", "/proxies/x"), ("DELETE", "/proxies"), ("HEAD", "/version")):
        resp = api(method, path)
        assert resp.status_code == 405 and resp.content == b""
    blocked = api("GET", "/proxies", headers={"User-Agent": "Mozilla/5.0"})
    assert blocked.status_code == 403 and blocked.content == b"User agent not allowed\n"
    assert "X-Toxiproxy-Request-Id" in blocked.headers
    missing = api("GET", "/proxies/none")
    assert error_of(missing) == {"error": "proxy not found", "status": 404}


def test_delete_and_reset(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=10)
    api("POST", "/proxies/p", {"enabled": False})
    reset = api("POST", "/reset")
    assert reset.status_code == 204 and reset.content == b""
    body = api("GET", "/proxies/p").json()
    assert body["enabled"] is True and body["toxics"] == []
    assert body["listen"] == f"127.0.0.1:{port}"
    assert api("DELETE", "/proxies/p").status_code == 204
    assert api("DELETE", "/proxies/p").status_code == 404


def test_listen_omitted_binds_dual_stack_ephemeral(api: Api, echo_server: Upstream) -> None:
    resp = api("POST", "/proxies", {"name": "any", "upstream": echo_server.address})
    assert resp.status_code == 201
    listen = resp.json()["listen"]
    assert re.fullmatch(r"\[::\]:\d+", listen) and not listen.endswith(":0")
    port = int(listen.rsplit(":", 1)[1])
    socket.create_connection(("127.0.0.1", port), timeout=2).close()    # IPv4 reaches it too


def test_full_object_update_as_node_and_go_clients_send(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", latency=5)
    current = api("GET", "/proxies/p").json()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        resp = api("POST", "/proxies/p", {**current, "enabled": True})     # toxics key ignored
        assert resp.status_code == 200 and resp.json()["listen"] == f"127.0.0.1:{port}"
        sock.sendall(b"still")                  # no restart: the open connection survives
        assert sock.recv(10) == b"still"
    assert len(api("GET", "/proxies/p").json()["toxics"]) == 1

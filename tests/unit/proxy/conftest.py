"""Fixtures for the proxy behaviour tests: the server under test, upstream servers, a raw client.

``server`` is parametrized: every test that uses it (or ``api``) runs against the embedded
server in a thread (``[embedded]``) and against the original Toxiproxy binary
(``[toxiproxy]``), so the embedded proxy is held against the original on every change. The
binary is ``$INVOICE_CHAOS_TOXIPROXY_BIN``, else ``../shared/toxiproxy/toxiproxy-server``
next to the checkout; without it the ``[toxiproxy]`` cases skip and say why. Where the two
differ on purpose, a test asserts each server's own behaviour (``server.original``) and the
difference is listed in docs/proxy.md.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.proxy import EmbeddedServer
from harness.proxy.original import OriginalServer, locate

CHECKOUT = Path(__file__).resolve().parents[3]


class Upstream:
    """A threaded TCP server on 127.0.0.1 running ``handler(conn)`` per connection."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.address = f"127.0.0.1:{self.port}"
        self.handler = handler
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.accepted.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            try:
                conn.close()
            except OSError:
                pass


def echo(conn: socket.socket) -> None:
    while True:
        data = conn.recv(65536)
        if not data:
            conn.close()
            return
        conn.sendall(data)


class Api:
    """A raw HTTP client for the API (no toxiproxy-python), with the base URL bound."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def __call__(self, method: str, path: str, json: Any = None, data: Any = None,
                 **kw: Any) -> requests.Response:
        return self.session.request(method, self.url + path, json=json, data=data, timeout=10, **kw)

    def proxy(self, name: str, upstream: str, listen: str = "127.0.0.1:0") -> int:
        """Create an enabled proxy and return its bound port."""
        resp = self("POST", "/proxies", {"name": name, "upstream": upstream, "listen": listen})
        assert resp.status_code == 201, resp.text
        return int(resp.json()["listen"].rsplit(":", 1)[1])

    def toxic(self, proxy: str, type: str, stream: str = "downstream", name: str | None = None,
              toxicity: float = 1.0, **attributes: int) -> dict[str, Any]:
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": attributes}
        if name:
            body["name"] = name
        resp = self("POST", f"/proxies/{proxy}/toxics", body)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())


@dataclass(frozen=True)
class ServerUnderTest:
    kind: str           # "embedded" or "toxiproxy"
    url: str

    @property
    def original(self) -> bool:
        """True for the original Toxiproxy (assert its behaviour where it differs on purpose)."""
        return self.kind == "toxiproxy"

    @property
    def host(self) -> str:
        return self.url.split("//", 1)[1].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@pytest.fixture(params=["embedded", "toxiproxy"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerUnderTest]:
    if request.param == "embedded":
        with EmbeddedServer(seed=42) as srv:
            yield ServerUnderTest("embedded", srv.url)
        return
    binary, why = locate(CHECKOUT)
    if binary is None:
        pytest.skip(why)
    with OriginalServer(binary) as original:
        yield ServerUnderTest("toxiproxy", original.url)


@pytest.fixture
def api(server: ServerUnderTest) -> Api:
    return Api(server.url)


@pytest.fixture
def upstream() -> Iterator[Callable[[Callable[[socket.socket], None]], Upstream]]:
    made: list[Upstream] = []

    def make(handler: Callable[[socket.socket], None] = echo) -> Upstream:
        up = Upstream(handler)
        made.append(up)
        return up

    yield make
    for up in made:
        up.close()


@pytest.fixture
def echo_server(upstream: Callable[..., Upstream]) -> Upstream:
    return upstream(echo)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        data = sock.recv(n - len(out))
        if not data:
            break
        out += data
    return bytes(out)

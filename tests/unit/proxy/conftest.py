"""Fixtures for the embedded proxy tests: a server in a thread, upstream servers, a raw client."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from harness.proxy import EmbeddedServer


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


@pytest.fixture
def server() -> Iterator[EmbeddedServer]:
    with EmbeddedServer(seed=42) as srv:
        yield srv


@pytest.fixture
def api(server: EmbeddedServer) -> Api:
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

"""Long soak (on demand: ``-m soak``): many connections, toxics churning on both streams."""

from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest
import requests

from harness.proxy import EmbeddedServer

pytestmark = pytest.mark.soak

SECONDS = float(os.environ.get("PROXY_SOAK_SECONDS", "20"))


def _echo_server() -> socket.socket:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv


def test_soak_echo_integrity_under_churn() -> None:
    upstream = _echo_server()
    failures: list[str] = []
    with EmbeddedServer(seed=1) as srv:
        http = requests.Session()
        made = http.post(f"{srv.url}/proxies", timeout=5, json={
            "name": "soak", "listen": "127.0.0.1:0",
            "upstream": f"127.0.0.1:{upstream.getsockname()[1]}"}).json()
        port = int(made["listen"].rsplit(":", 1)[1])
        deadline = time.monotonic() + SECONDS

        def client(k: int) -> None:
            rng = random.Random(k)
            while time.monotonic() < deadline:
                payload = rng.randbytes(rng.randrange(1, 200_000))
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
                        sender = threading.Thread(target=sock.sendall, args=(payload,))
                        sender.start()
                        got = bytearray()
                        while len(got) < len(payload):
                            data = sock.recv(65536)
                            if not data:
                                break
                            got += data
                        sender.join()
                    if bytes(got) != payload:
                        failures.append(f"client {k}: {len(got)} of {len(payload)} bytes, "
                                        "or reordered")
                except OSError as exc:
                    failures.append(f"client {k}: {exc}")

        def churn() -> None:
            rng = random.Random(99)
            kinds = [("latency", {"latency": 3, "jitter": 2}), ("noop", {}),
                     ("slicer", {"average_size": 500, "size_variation": 200, "delay": 20}),
                     ("bandwidth", {"rate": 20_000})]
            live: list[str] = []
            i = 0
            while time.monotonic() < deadline:
                kind, attrs = rng.choice(kinds)
                name = f"t{i}"
                http.post(f"{srv.url}/proxies/soak/toxics", timeout=5, json={
                    "name": name, "type": kind, "attributes": attrs,
                    "stream": rng.choice(["upstream", "downstream"])})
                live.append(name)
                if len(live) > 3:
                    http.delete(f"{srv.url}/proxies/soak/toxics/{live.pop(0)}", timeout=5)
                i += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
        threads.append(threading.Thread(target=churn))
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + 60)
    upstream.close()
    assert failures == []

"""§7.3 / §10: toxics changed under open connections lose, duplicate and reorder nothing."""

from __future__ import annotations

import socket
import struct
import threading
import time

from .conftest import Api, Upstream, connect, recv_exactly


def _counter_stream(n: int) -> bytes:
    return b"".join(struct.pack(">H", i) for i in range(n))


def test_65535_counters_survive_toxic_churn(api: Api, upstream: object) -> None:
    payload = _counter_stream(65535)

    def sink(conn: socket.socket) -> None:       # pushes the counters slowly, then closes
        conn.recv(1)
        for i in range(0, len(payload), 256):
            conn.sendall(payload[i:i + 256])
            time.sleep(0.001)
        conn.close()

    up = upstream(sink)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    stop = threading.Event()
    rounds = [0]

    def churn() -> None:
        kinds = [("latency", {"latency": 2, "jitter": 1}), ("noop", {}),
                 ("slicer", {"average_size": 300, "size_variation": 100, "delay": 50}),
                 ("bandwidth", {"rate": 5000}), ("latency", {"latency": 1})]
        i = 0
        while not stop.is_set() and i < 2000:
            kind, attrs = kinds[i % len(kinds)]
            api.toxic("p", kind, name=f"t{i}", **attrs)
            if i % 3 == 2:
                api("PATCH", f"/proxies/p/toxics/t{i}", {"toxicity": 0.5})
            if i >= 2:
                api("DELETE", f"/proxies/p/toxics/t{i - 2}")
            i += 1
            rounds[0] = i
            time.sleep(0.002)

    worker = threading.Thread(target=churn)
    with connect(port, timeout=20) as sock:
        sock.sendall(b"g")
        worker.start()
        got = bytearray()
        while True:
            data = sock.recv(65536)
            if not data:
                break
            got += data
    stop.set()
    worker.join(10)
    assert rounds[0] >= 30, "the toxics did not change while data flowed"
    assert len(got) == len(payload)
    assert bytes(got) == payload


def test_connection_survives_add_remove_reset_of_noops(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    with connect(port) as sock:
        for i in range(5):
            api.toxic("p", "noop", stream="upstream" if i % 2 else "downstream", name=f"n{i}")
            sock.sendall(b"%d" % i)
            assert recv_exactly(sock, 1) == b"%d" % i
        api("DELETE", "/proxies/p/toxics/n0")
        sock.sendall(b"a")
        assert recv_exactly(sock, 1) == b"a"
        api("POST", "/reset")
        sock.sendall(b"b")
        assert recv_exactly(sock, 1) == b"b"


def test_removing_latency_releases_held_chunk_at_once(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", name="slow", latency=5000)
    with connect(port) as sock:
        sock.sendall(b"held")
        time.sleep(0.05)
        start = time.monotonic()
        api("DELETE", "/proxies/p/toxics/slow")
        assert recv_exactly(sock, 4) == b"held"
        assert time.monotonic() - start < 0.2


def test_timeout_zero_with_latency_removal_does_not_hang(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    with connect(port) as sock:
        api.toxic("p", "latency", name="lat", stream="upstream", latency=100)
        api.toxic("p", "timeout", name="to", stream="upstream", timeout=0)
        sock.sendall(b"gone")
        time.sleep(0.05)
        start = time.monotonic()
        assert api("DELETE", "/proxies/p/toxics/lat").status_code == 204
        assert time.monotonic() - start < 0.5
        sock.settimeout(0.2)
        try:
            assert sock.recv(10) == b""          # nothing delivered while the timeout is there
        except TimeoutError:
            pass


def test_removing_timeout_gives_eof_on_both_sides(api: Api, upstream: object) -> None:
    server_side: list[socket.socket] = []
    server_eof = threading.Event()

    def hold(conn: socket.socket) -> None:
        server_side.append(conn)
        while conn.recv(100):
            pass
        server_eof.set()

    up = upstream(hold)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "timeout", name="to", toxicity=0.0, timeout=0)   # inactive: still closes
    with connect(port) as sock:
        sock.sendall(b"x")
        time.sleep(0.05)
        start = time.monotonic()
        api("DELETE", "/proxies/p/toxics/to")
        assert sock.recv(10) in (b"", b"x")
        assert server_eof.wait(1.0)
        assert time.monotonic() - start < 1.0


def test_limit_data_count_survives_update(api: Api, upstream: object) -> None:
    received = bytearray()
    done = threading.Event()

    def record(conn: socket.socket) -> None:
        while data := conn.recv(1000):
            received.extend(data)
        done.set()

    up = upstream(record)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "limit_data", name="lim", stream="upstream", bytes=100)
    with connect(port) as sock:
        sock.sendall(b"a" * 60)
        time.sleep(0.05)
        api("PATCH", "/proxies/p/toxics/lim", {"attributes": {"bytes": 150}})
        sock.sendall(b"b" * 60)
        time.sleep(0.05)
        sock.sendall(b"c" * 60)
        assert done.wait(2)
    assert bytes(received) == b"a" * 60 + b"b" * 60 + b"c" * 30


def test_updating_latency_releases_the_waiting_chunk(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "latency", name="slow", latency=5000)
    with connect(port) as sock:
        sock.sendall(b"a")
        time.sleep(0.05)
        start = time.monotonic()
        api("PATCH", "/proxies/p/toxics/slow", {"attributes": {"latency": 50}})
        assert recv_exactly(sock, 1) == b"a"            # released at once, as Toxiproxy does
        assert time.monotonic() - start < 0.2
        start = time.monotonic()
        sock.sendall(b"b")                              # later chunks use the new value
        assert recv_exactly(sock, 1) == b"b"
        assert 0.048 <= time.monotonic() - start < 0.5


def test_slow_close_removed_mid_delay_closes_at_once(api: Api, upstream: object) -> None:
    def close_now(conn: socket.socket) -> None:
        conn.recv(10)
        conn.close()

    up = upstream(close_now)  # type: ignore[operator]
    port = api.proxy("p", up.address)
    api.toxic("p", "slow_close", name="sc", delay=5000)
    with connect(port) as sock:
        sock.sendall(b"x")
        time.sleep(0.1)                                 # the server has closed; we wait
        start = time.monotonic()
        api("DELETE", "/proxies/p/toxics/sc")
        assert sock.recv(10) == b""
        assert time.monotonic() - start < 0.5


def test_api_reset_closes_connections_of_a_removed_timeout(api: Api, echo_server: Upstream) -> None:
    port = api.proxy("p", echo_server.address)
    api.toxic("p", "timeout", stream="upstream", timeout=0)
    with connect(port) as sock:
        sock.sendall(b"lost")
        time.sleep(0.05)
        assert api("POST", "/reset").status_code == 204
        assert sock.recv(10) == b""

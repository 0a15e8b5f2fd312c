"""The embedded Toxiproxy-compatible proxy (no toxic) vs a direct connection, side by side.

Three figures, each measured direct and through the proxy in the same run, alternating:

* request rate with 16 keep-alive connections (target: proxied ≥ 70% of direct),
* added p50 latency of sequential requests on one connection (target ≤ 200 µs),
* bulk throughput of one connection streaming from the upstream (target ≥ 500 MB/s).

A bare uvloop relay (about 30 lines, no API, no toxics) is measured the same way, so the cost
of the machine's cross-core hop can be told apart from the cost of the proxy's own code.

The upstream is a minimal asyncio HTTP responder (uvloop when installed). The load client and
the responder are pinned to one core, the proxy process to the other (``os.sched_setaffinity``);
direct runs are pinned the same way. Bounded: ``--seconds`` per rate run, ``--rounds`` rounds.

    .venv/bin/python bench/proxy.py [--seconds 3] [--rounds 2] [--bulk-mb 512]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.faults.network import ToxiproxyClient  # noqa: E402
from harness.net import free_port, wait_http_ok  # noqa: E402
from harness.proxy.server import new_loop  # noqa: E402

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

RESPONDER = r'''
import asyncio, sys
try:
    import uvloop
except ImportError:
    uvloop = None
RESPONSE = %r
BULK = bytes(256 * 1024)

class Http(asyncio.Protocol):
    def connection_made(self, t):
        self.t = t
        self.pending = b""
    def data_received(self, data):
        data = self.pending + data
        n = data.count(b"\r\n\r\n")
        self.pending = data[data.rfind(b"\r\n\r\n") + 4:] if n else data
        if n:
            self.t.write(RESPONSE * n)

class Bulk(asyncio.Protocol):
    def __init__(self):
        self.left = 0
        self.paused = False
    def connection_made(self, t):
        self.t = t
    def data_received(self, data):
        self.left = int(data.split()[0])
        self.pump()
    def pump(self):
        while self.left > 0 and not self.paused:
            chunk = BULK[: min(len(BULK), self.left)]
            self.left -= len(chunk)
            self.t.write(chunk)
        if self.left <= 0:
            self.t.close()
    def pause_writing(self):
        self.paused = True
    def resume_writing(self):
        self.paused = False
        self.pump()

async def main():
    loop = asyncio.get_running_loop()
    await loop.create_server(Http, "127.0.0.1", int(sys.argv[1]))
    await loop.create_server(Bulk, "127.0.0.1", int(sys.argv[2]))
    print("ready", flush=True)
    await asyncio.Event().wait()

(uvloop.run if uvloop else asyncio.run)(main())
''' % RESPONSE


BARE_RELAY = r'''
import asyncio, socket, sys
try:
    import uvloop
except ImportError:
    uvloop = None
UP = int(sys.argv[2])

class Side(asyncio.Protocol):
    def __init__(self, peer=None):
        self.peer, self.t, self.early = peer, None, []
    def connection_made(self, t):
        self.t = t
        t.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.peer is None:
            asyncio.get_running_loop().create_task(self.dial())
    async def dial(self):
        _, up = await asyncio.get_running_loop().create_connection(lambda: Side(self), "127.0.0.1", UP)
        self.peer = up
        for d in self.early:
            up.t.write(d)
    def data_received(self, d):
        if self.peer is None or self.peer.t is None:
            self.early.append(d)
        else:
            self.peer.t.write(d)
    def pause_writing(self):
        self.peer.t.pause_reading()
    def resume_writing(self):
        self.peer.t.resume_reading()
    def connection_lost(self, e):
        if self.peer is not None and self.peer.t is not None:
            self.peer.t.close()

async def main():
    await asyncio.get_running_loop().create_server(Side, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await asyncio.Event().wait()

(uvloop.run if uvloop else asyncio.run)(main())
'''


def cpu_ticks() -> dict[str, tuple[int, int]]:
    """(total, idle) jiffies per CPU from /proc/stat ({} where it does not exist)."""
    out: dict[str, tuple[int, int]] = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3] != " ":
                    fields = line.split()
                    values = [int(v) for v in fields[1:]]
                    out[fields[0]] = (sum(values), values[3] + values[4])
    except OSError:
        pass
    return out


def busy_share(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]],
               cpu: str) -> float | None:
    if cpu not in before or cpu not in after:
        return None
    total = after[cpu][0] - before[cpu][0]
    return 1 - (after[cpu][1] - before[cpu][1]) / total if total else None


def pin(pid: int, core: int | None) -> None:
    if core is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(pid, {core})
        except OSError:
            pass


class Client(asyncio.Protocol):
    """One keep-alive connection sending a request whenever the previous answer is complete."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = 0
        self.buf = 0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.t = transport
        self.t.write(REQUEST)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buf += len(data)
        while self.buf >= len(RESPONSE):
            self.buf -= len(RESPONSE)
            self.done += 1
            if time.monotonic() >= self.deadline:
                self.t.close()
                if not self.finished.done():
                    self.finished.set_result(None)
                return
            self.t.write(REQUEST)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.finished.done():
            self.finished.set_result(None)


async def rate(port: int, seconds: float, conns: int = 16) -> float:
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + seconds
    clients = []
    for _ in range(conns):
        _, proto = await loop.create_connection(lambda: Client(deadline), "127.0.0.1", port)
        clients.append(proto)
    start = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(c.finished for c in clients)), seconds + 10)
    return sum(c.done for c in clients) / (time.monotonic() - start)


async def p50_us(port: int, n: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        writer.write(REQUEST)
        await reader.readexactly(len(RESPONSE))
        samples.append((time.perf_counter_ns() - start) / 1000)
    writer.close()
    return statistics.median(samples[n // 10:])      # the first tenth warms up


async def bulk_mb_s(port: int, nbytes: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    start = time.perf_counter()
    writer.write(b"%d\n" % nbytes)
    got = 0
    while chunk := await reader.read(1 << 20):
        got += len(chunk)
    elapsed = time.perf_counter() - start
    writer.close()
    if got != nbytes:
        raise SystemExit(f"bulk: received {got} of {nbytes} bytes")
    return nbytes / elapsed / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000, help="sequential requests for p50")
    parser.add_argument("--bulk-mb", type=int, default=512)
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pinned = not args.no_pin and len(cores) >= 2
    client_core, proxy_core = (cores[0], cores[1]) if pinned else (None, None)
    http_port, bulk_port, api_port = free_port(), free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "responder.py"
            script.write_text(RESPONDER)
            responder = subprocess.Popen([sys.executable, str(script), str(http_port), str(bulk_port)],
                                         stdout=subprocess.PIPE)
            procs.append(responder)
            pin(responder.pid, client_core)
            assert responder.stdout is not None and responder.stdout.readline().strip() == b"ready"
            relay_script = Path(tmp) / "relay.py"
            relay_script.write_text(BARE_RELAY)
            r_http, r_bulk = free_port(), free_port()
            for listen, target in ((r_http, http_port), (r_bulk, bulk_port)):
                relay = subprocess.Popen([sys.executable, str(relay_script), str(listen), str(target)],
                                         stdout=subprocess.PIPE)
                procs.append(relay)
                pin(relay.pid, proxy_core)
                assert relay.stdout is not None and relay.stdout.readline().strip() == b"ready"
            proxy = subprocess.Popen([sys.executable, "-m", "harness.proxy", "--port",
                                      str(api_port)], cwd=ROOT, stdout=subprocess.DEVNULL)
            procs.append(proxy)
            pin(proxy.pid, proxy_core)
            if not wait_http_ok(f"http://127.0.0.1:{api_port}/version", 20):
                raise SystemExit("the proxy server did not start")
            client = ToxiproxyClient(f"http://127.0.0.1:{api_port}")
            p_http = int(client.create_proxy("http", "127.0.0.1:0", f"127.0.0.1:{http_port}").rsplit(":", 1)[1])
            p_bulk = int(client.create_proxy("bulk", "127.0.0.1:0", f"127.0.0.1:{bulk_port}").rsplit(":", 1)[1])
            if client_core is not None:
                os.sched_setaffinity(0, {client_core})
            runner = asyncio.Runner(loop_factory=new_loop)
            try:
                return runner.run(measure(args, {"direct": (http_port, bulk_port),
                                                "bare relay": (r_http, r_bulk),
                                                "proxy": (p_http, p_bulk)}, pinned,
                                          f"cpu{proxy_core}" if pinned else None))
            finally:
                runner.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


async def measure(args: argparse.Namespace, targets: dict[str, tuple[int, int]], pinned: bool,
                  proxy_cpu: str | None) -> int:
    loop_kind = type(asyncio.get_running_loop()).__module__.split(".")[0]
    rates: dict[str, list[float]] = {name: [] for name in targets}
    lat: dict[str, list[float]] = {name: [] for name in targets}
    bulk: dict[str, list[float]] = {name: [] for name in targets}
    foreign: list[float] = []       # the proxy's core busy with other work during direct runs
    for port, _ in targets.values():
        await rate(port, 0.5)                # warm up every path
    for r in range(args.rounds):
        for name, (port, bport) in targets.items():
            before = cpu_ticks()
            rates[name].append(await rate(port, args.seconds))
            if name == "direct" and proxy_cpu is not None:
                share = busy_share(before, cpu_ticks(), proxy_cpu)
                if share is not None:
                    foreign.append(share)
            lat[name].append(await p50_us(port, args.requests))
            bulk[name].append(await bulk_mb_s(bport, args.bulk_mb * 1_000_000))
            print(f"round {r + 1} {name:10s} {rates[name][-1]:9.0f} req/s  p50 {lat[name][-1]:7.1f} µs"
                  f"  bulk {bulk[name][-1]:7.0f} MB/s", flush=True)
    best_rate = {k: max(v) for k, v in rates.items()}
    best_lat = {k: min(v) for k, v in lat.items()}
    best_bulk = {k: max(v) for k, v in bulk.items()}
    print(f"\nbest of {args.rounds} rounds; client loop {loop_kind}; "
          f"{'client+responder on one core, proxy on another' if pinned else 'not pinned'}")
    if foreign:
        print(f"the proxy's core was {max(foreign):.0%} busy with other processes during direct "
              "runs" + (" — a shared machine: proxied figures are pessimistic"
                        if max(foreign) > 0.2 else ""))
    d, b, p = "direct", "bare relay", "proxy"
    print(f"{'figure':30s}{'direct':>9s}{'bare relay':>11s}{'proxy':>9s}{'proxy result':>14s}{'target':>9s}")
    print(f"{'req/s, 16 keep-alive conns':30s}{best_rate[d]:9.0f}{best_rate[b]:11.0f}{best_rate[p]:9.0f}"
          f"{best_rate[p] / best_rate[d]:13.0%} {'≥ 70%':>8s}")
    print(f"{'p50 µs, sequential, one conn':30s}{best_lat[d]:9.1f}{best_lat[b]:11.1f}{best_lat[p]:9.1f}"
          f"{best_lat[p] - best_lat[d]:+11.1f}µs {'≤ 200µs':>8s}")
    print(f"{'bulk MB/s, one conn':30s}{best_bulk[d]:9.0f}{best_bulk[b]:11.0f}{best_bulk[p]:9.0f}"
          f"{best_bulk[p]:10.0f}MB/s {'≥ 500':>8s}")
    print(f"proxy vs bare relay: rate {best_rate[p] / best_rate[b]:.0%}, "
          f"bulk {best_bulk[p] / best_bulk[b]:.0%}, p50 {best_lat[p] - best_lat[b]:+.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())

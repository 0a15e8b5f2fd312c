"""Direct, the embedded proxy and the original Toxiproxy (no toxic), side by side.

Every path is measured by the same client in the same run, alternating: each round measures
one figure on every path before the next figure, in an order that rotates from round to round.
The figures, as medians of the rounds:

* request rate with 16 keep-alive connections, relative to direct (embedded target ≥ 70%),
* added p50 and p99 latency of sequential requests on one connection, in µs (target ≤ 200 µs),
* bulk throughput of one connection streaming from the upstream, in GB/s (target ≥ 0.5).

Toxiproxy is ``--toxiproxy-bin PATH``, else ``$INVOICE_CHAOS_TOXIPROXY_BIN``, else
``../shared/toxiproxy/toxiproxy-server`` next to the checkout; without any its column is left
out, and the bench says so. A bare uvloop relay
(about 30 lines, no API, no toxics) is measured the same way, so the cost of the machine's
cross-core hop can be told apart from the cost of a proxy's own code.

The upstream is a minimal asyncio HTTP responder (uvloop when installed). The load client and
the responder are pinned to one core, every proxy to the other, from before it starts (so Go
sizes itself to one core, as the embedded proxy's event loop is one thread). Bounded:
``--seconds`` per rate run, ``--rounds`` rounds.

    .venv/bin/python bench/proxy.py [--seconds 3] [--rounds 5] [--bulk-mb 512] [--toxiproxy-bin PATH]
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
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.errors import InputError  # noqa: E402
from harness.faults.network import ToxiproxyClient  # noqa: E402
from harness.net import free_port, wait_http_ok  # noqa: E402
from harness.proxy.original import OriginalServer, locate  # noqa: E402
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


def pinned_to(core: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` that pins the child before it starts (its threads inherit the pin)."""
    if core is None or not hasattr(os, "sched_setaffinity"):
        return None
    return lambda: os.sched_setaffinity(0, {core})


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


async def latency_us(port: int, n: int) -> tuple[float, float]:
    """(p50, p99) in µs of ``n`` sequential requests on one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        writer.write(REQUEST)
        await reader.readexactly(len(RESPONSE))
        samples.append((time.perf_counter_ns() - start) / 1000)
    writer.close()
    kept = sorted(samples[n // 10:])      # the first tenth warms up
    return statistics.median(kept), kept[min(len(kept) - 1, int(len(kept) * 0.99))]


async def bulk_gb_s(port: int, nbytes: int) -> float:
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
    return nbytes / elapsed / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3000, help="sequential requests for p50/p99")
    parser.add_argument("--bulk-mb", type=int, default=512)
    parser.add_argument("--toxiproxy-bin", type=Path, metavar="PATH",
                        help="the toxiproxy-server binary to measure (default ../shared/toxiproxy/"
                             "toxiproxy-server when it exists)")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    try:
        binary, how = locate(ROOT, args.toxiproxy_bin)
    except InputError as exc:   # say it, no traceback
        print(f"bench/proxy.py: {exc}", file=sys.stderr)
        return 2
    print(f"toxiproxy: {binary} ({how})" if binary else f"toxiproxy: {how}; give --toxiproxy-bin PATH. "
          "Its column is left out.", flush=True)
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    pinned = not args.no_pin and len(cores) >= 2
    client_core, proxy_core = (cores[0], cores[1]) if pinned else (None, None)
    http_port, bulk_port, api_port = free_port(), free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    original: OriginalServer | None = None
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "responder.py"
            script.write_text(RESPONDER)
            responder = subprocess.Popen([sys.executable, str(script), str(http_port), str(bulk_port)],
                                         stdout=subprocess.PIPE, preexec_fn=pinned_to(client_core))
            procs.append(responder)
            assert responder.stdout is not None and responder.stdout.readline().strip() == b"ready"
            relay_script = Path(tmp) / "relay.py"
            relay_script.write_text(BARE_RELAY)
            r_http, r_bulk = free_port(), free_port()
            for listen, target in ((r_http, http_port), (r_bulk, bulk_port)):
                relay = subprocess.Popen([sys.executable, str(relay_script), str(listen), str(target)],
                                         stdout=subprocess.PIPE, preexec_fn=pinned_to(proxy_core))
                procs.append(relay)
                assert relay.stdout is not None and relay.stdout.readline().strip() == b"ready"
            proxy = subprocess.Popen([sys.executable, "-m", "harness.proxy", "--port", str(api_port)], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     preexec_fn=pinned_to(proxy_core))
            procs.append(proxy)
            if not wait_http_ok(f"http://127.0.0.1:{api_port}/version", 20):
                raise SystemExit("the embedded proxy server did not start")
            targets = {"direct": (http_port, bulk_port), "bare relay": (r_http, r_bulk),
                       "embedded": proxied(f"http://127.0.0.1:{api_port}", http_port, bulk_port)}
            if binary is not None:
                original = OriginalServer(binary, cpus={proxy_core} if proxy_core is not None else None).start()
                targets["toxiproxy"] = proxied(original.url, http_port, bulk_port)
            if client_core is not None:
                os.sched_setaffinity(0, {client_core})
            runner = asyncio.Runner(loop_factory=new_loop)
            try:
                return runner.run(measure(args, targets, pinned, f"cpu{proxy_core}" if pinned else None,
                                          load_before))
            finally:
                runner.close()
    finally:
        if original is not None:
            original.stop()
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def proxied(api_url: str, http_port: int, bulk_port: int) -> tuple[int, int]:
    """Create the two bench proxies on a Toxiproxy API; their listen ports."""
    client = ToxiproxyClient(api_url)
    ports = []
    for name, upstream in (("http", http_port), ("bulk", bulk_port)):
        ports.append(int(client.create_proxy(name, "127.0.0.1:0", f"127.0.0.1:{upstream}").rsplit(":", 1)[1]))
    return ports[0], ports[1]


def rotated(names: list[str], r: int) -> list[str]:
    return names[r % len(names):] + names[:r % len(names)]


async def measure(args: argparse.Namespace, targets: dict[str, tuple[int, int]], pinned: bool,
                  proxy_cpu: str | None, load_before: tuple[float, float, float]) -> int:
    loop_kind = type(asyncio.get_running_loop()).__module__.split(".")[0]
    names = list(targets)
    rates: dict[str, list[float]] = {name: [] for name in names}
    p50: dict[str, list[float]] = {name: [] for name in names}
    p99: dict[str, list[float]] = {name: [] for name in names}
    bulk: dict[str, list[float]] = {name: [] for name in names}
    foreign: list[float] = []       # the proxy's core busy with other work during direct runs
    for port, _ in targets.values():
        await rate(port, 0.5)                # warm up every path

    async def one_rate(name: str) -> None:
        before = cpu_ticks()
        rates[name].append(await rate(targets[name][0], args.seconds))
        if name == "direct" and proxy_cpu is not None:
            share = busy_share(before, cpu_ticks(), proxy_cpu)
            if share is not None:
                foreign.append(share)

    async def one_latency(name: str) -> None:
        a, b = await latency_us(targets[name][0], args.requests)
        p50[name].append(a)
        p99[name].append(b)

    async def one_bulk(name: str) -> None:
        bulk[name].append(await bulk_gb_s(targets[name][1], args.bulk_mb * 1_000_000))

    figures: list[Callable[[str], Coroutine[Any, Any, None]]] = [one_rate, one_latency, one_bulk]
    for r in range(args.rounds):
        order = rotated(names, r)
        for run in figures:
            for name in order:
                await run(name)
        for name in names:
            print(f"round {r + 1} {name:10s} {rates[name][-1]:9.0f} req/s  p50 {p50[name][-1]:7.1f} µs  "
                  f"p99 {p99[name][-1]:7.1f} µs  bulk {bulk[name][-1]:5.2f} GB/s", flush=True)
    load_after = os.getloadavg()
    med = statistics.median
    d = "direct"
    print(f"\nmedians of {args.rounds} rounds; client loop {loop_kind}; "
          f"{'client+responder on one core, each proxy on the other' if pinned else 'not pinned'}; "
          f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    if foreign:
        print(f"the proxies' core was {med(foreign):.0%} busy with other processes during direct runs "
              f"(max {max(foreign):.0%})" + (" — a shared machine: proxied figures are pessimistic"
                                             if max(foreign) > 0.2 else ""))
    shown = [n for n in names if n != d]
    print(f"{'figure':34s}{'direct':>10s}" + "".join(f"{n:>12s}" for n in shown))
    print(f"{'req/s, 16 keep-alive conns':34s}{med(rates[d]):10.0f}" + "".join(f"{med(rates[n]):12.0f}" for n in shown))
    print(f"{'  relative to direct':34s}{'1.00':>10s}"
          + "".join(f"{med([a / b for a, b in zip(rates[n], rates[d])]):12.2f}" for n in shown))
    for label, values in (("p50", p50), ("p99", p99)):
        print(f"{label + ' µs, sequential, one conn':34s}{med(values[d]):10.1f}"
              + "".join(f"{med(values[n]):12.1f}" for n in shown))
        print(f"{'  added to direct, µs':34s}{'':>10s}"
              + "".join(f"{med([a - b for a, b in zip(values[n], values[d])]):+12.1f}" for n in shown))
    print(f"{'bulk GB/s, one conn':34s}{med(bulk[d]):10.2f}" + "".join(f"{med(bulk[n]):12.2f}" for n in shown))
    if "toxiproxy" in targets:
        e, t = "embedded", "toxiproxy"
        print(f"\nembedded vs toxiproxy, per round: rate ×{med([a / b for a, b in zip(rates[e], rates[t])]):.2f}, "
              f"p50 {med([a - b for a, b in zip(p50[e], p50[t])]):+.1f} µs, "
              f"p99 {med([a - b for a, b in zip(p99[e], p99[t])]):+.1f} µs, "
              f"bulk ×{med([a / b for a, b in zip(bulk[e], bulk[t])]):.2f}")
    print("targets (embedded): rate ≥ 0.70 of direct, added p50 ≤ 200 µs, bulk ≥ 0.5 GB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

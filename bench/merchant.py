"""Orders per second the resilient merchant sustains on one core, beside the bureau's own rate.

Three processes: the fake bureau pinned to one core and two reference merchants (resilient
profile, durable outbox; one on the synchronous channel, one with ``--channel lq``) pinned to
another, when the OS lets us pin. The load generator (aiohttp, N keep-alive connections) runs
here, unpinned. Rounds alternate:

- bureau  — POST /api/v1/invoices straight to the bureau (the payload the merchant would send);
- merchant — POST /invoices to the merchant, which writes its outbox, calls the bureau and
             answers 201 (two durable commits per order: the outbox row, then the outcome);
- lq      — POST /invoices to the merchant on the 乐企 channel (``--confirm-wait-s 0``: it answers
             202 once the outbox row is on disk), then wait until it reports nothing pending:
             orders numbered (durable counter, then the numbered rows), uploaded 100 at a time,
             polled and accepted (00) per second of the whole round, drain included. The bureau
             judges uploads after ``--processing-s 0.1``, a fixed delay inside that figure.

The ratio merchant/bureau says what the client costs on the hot path; lq/merchant compares the
two channels through the same client. On a shared machine the
rates move with the neighbours' load, so the bench also reports CPU milliseconds per order of
each process (psutil), and the ceiling they imply on one dedicated core (1000 / ms). Bounded:
``--seconds`` per round, ``--rounds`` rounds.

    .venv/bin/python bench/merchant.py --seconds 5 --concurrency 32
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil  # type: ignore[import-untyped]

from fakes.merchant.orders import Seller, build_invoice
from harness.data.orders import OrderFactory
from harness.net import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parent.parent
LAUNCH = ("import argparse, importlib, sys; m = importlib.import_module(sys.argv[1]); "
          "p = argparse.ArgumentParser(); m.configure(p); sys.exit(m.run(p.parse_args(sys.argv[2:])) or 0)")
SELLER = Seller("91110108551385082Q", "北京示例科技有限公司")


def start(module: str, args: list[str], port: int, core: int | None, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", LAUNCH, module, *args, "--port", str(port)],
                                cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=out, stderr=subprocess.STDOUT)
    if core is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(proc.pid, {core})
        except OSError:
            pass
    if not wait_http_ok(f"http://127.0.0.1:{port}/health", 30):
        proc.kill()
        raise SystemExit(f"{module} did not start; see {log}")
    return proc


async def drive(url: str, bodies: list[bytes], seconds: float, concurrency: int) -> tuple[int, int]:
    """POST bodies for ``seconds`` with ``concurrency`` connections; (2xx count, other count)."""
    ok = bad = 0
    next_body = 0
    end = time.monotonic() + seconds
    headers = {"Content-Type": "application/json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal ok, bad, next_body
        while time.monotonic() < end and next_body < len(bodies):
            body = bodies[next_body]
            next_body += 1
            async with session.post(url, data=body, headers=headers) as resp:
                await resp.read()
                if resp.status in (200, 201, 202):
                    ok += 1
                else:
                    bad += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return ok, bad


async def drained(url: str, limit_s: float = 120.0) -> bool:
    """Wait until the merchant's /stats says nothing is pending."""
    end = time.monotonic() + limit_s
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < end:
            async with session.get(url) as resp:
                if (await resp.json())["pending"] == 0:
                    return True
            await asyncio.sleep(0.02)
    return False


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def bodies_for(prefix: str, n: int, direct: bool) -> list[bytes]:
    factory = OrderFactory(1, prefix)
    out = []
    for _ in range(n):
        order = factory.next()
        body: dict[str, Any] = order
        if direct:
            body = dict(build_invoice(order, SELLER).payload, request_id=order["order_id"])
        out.append(json.dumps(body, ensure_ascii=False).encode())
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--max-orders", type=int, default=40_000, help="orders prepared per round (an upper bound)")
    opts = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    bureau_core, merchant_core = (cores[0], cores[1]) if len(cores) >= 2 else (None, None)

    with tempfile.TemporaryDirectory(prefix="bench-merchant-") as tmp:
        tmpdir = Path(tmp)
        bport, mport, lport = free_port(), free_port(), free_port()
        bureau = start("fakes.bureau.cli", ["--db", str(tmpdir / "bureau.db"), "--processing-s", "0.1"], bport,
                       bureau_core, tmpdir / "bureau.log")
        burl = f"http://127.0.0.1:{bport}"
        merchant = start("fakes.merchant.cli", ["--bureau-url", burl, "--profile", "resilient",
                                                "--state-dir", str(tmpdir / "state")], mport, merchant_core, tmpdir / "merchant.log")
        lq = start("fakes.merchant.cli", ["--bureau-url", burl, "--profile", "resilient", "--channel", "lq",
                                          "--confirm-wait-s", "0", "--state-dir", str(tmpdir / "state-lq")], lport,
                   merchant_core, tmpdir / "merchant-lq.log")
        rates: dict[str, list[float]] = {"bureau": [], "merchant": [], "lq": []}
        cpu_ms: dict[str, list[float]] = {"bureau": [], "merchant": [], "lq": []}  # own CPU per order
        procs = {"bureau": psutil.Process(bureau.pid), "merchant": psutil.Process(merchant.pid),
                 "lq": psutil.Process(lq.pid)}
        try:
            for r in range(opts.rounds):
                for target, url, direct in (("bureau", f"{burl}/api/v1/invoices", True),
                                            ("merchant", f"http://127.0.0.1:{mport}/invoices", False),
                                            ("lq", f"http://127.0.0.1:{lport}/invoices", False)):
                    bodies = bodies_for(f"b{r}{target[0]}", opts.max_orders, direct)
                    cpu_before = _cpu(procs[target])
                    started = time.monotonic()
                    ok, bad = asyncio.run(drive(url, bodies, opts.seconds, opts.concurrency))
                    answered = time.monotonic() - started
                    if target == "lq" and not asyncio.run(drained(f"http://127.0.0.1:{lport}/stats")):
                        raise SystemExit(f"the lq merchant did not drain; see {tmpdir / 'merchant-lq.log'}")
                    rate = ok / (time.monotonic() - started)
                    rates[target].append(rate)
                    cpu_ms[target].append((_cpu(procs[target]) - cpu_before) * 1000 / max(ok, 1))
                    extra = f", answered at {ok / answered:.0f}/s" if target == "lq" else ""
                    print(f"round {r + 1} {target:8s} {rate:8.0f} orders/s  ({ok} ok, {bad} not ok{extra}), "
                          f"{cpu_ms[target][-1]:.2f} ms CPU/order in the {target}")
        finally:
            for proc in (lq, merchant, bureau):
                proc.terminate()
                proc.wait(15)
    b, m = statistics.median(rates["bureau"]), statistics.median(rates["merchant"])
    q, qc = statistics.median(rates["lq"]), statistics.median(cpu_ms["lq"])
    pinned = f"bureau on core {bureau_core}, merchant on core {merchant_core}" if bureau_core is not None else "unpinned"
    bc, mc = statistics.median(cpu_ms["bureau"]), statistics.median(cpu_ms["merchant"])
    print(f"\nmedian: bureau {b:.0f}/s, resilient merchant {m:.0f}/s, ratio merchant/bureau {m / b:.2f} "
          f"({opts.concurrency} connections, {pinned}, load average {os.getloadavg()[0]:.1f})")
    print(f"CPU per order: bureau {bc:.2f} ms, merchant {mc:.2f} ms; one-core ceilings "
          f"bureau {1000 / bc:.0f}/s, merchant {1000 / mc:.0f}/s, ratio {bc / mc:.2f}")
    print(f"lq: resilient merchant on the 乐企 channel {q:.0f} orders accepted/s end to end, ratio lq/sync merchant "
          f"{q / m:.2f}; CPU per order {qc:.2f} ms (one-core ceiling {1000 / qc:.0f}/s, ratio to sync {mc / qc:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

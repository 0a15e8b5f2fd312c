"""Durable issues per second of the fake bureau vs a bare FastAPI POST endpoint, side by side,
and invoices accepted per second on the asynchronous 乐企 channel beside them.

Four servers: the bureau with its group commit, the bureau committing per request (the
"before": ``--commit-batch 1``), a bare FastAPI endpoint that parses and echoes the body, and a
bureau taking uploads of 100 invoices (``--processing-s 0``: its capacity, not its configured
delay). An upload slice counts the invoices accepted (``00``, committed) from the slice's start
until the last invoice uploaded in it is judged, over that time: the 202 path, the judging and
the commits together. Ranges are allocated by the workers as they go, as a merchant would.

``--against REV`` adds a fifth: the bureau of git revision REV (``git archive`` of its
``fakes/`` and ``harness/``, served from a temporary folder with the same interpreter), so a
change to the hot path is measured against the code before it, side by side in one run.
``--servers`` picks which of the others run (default all).

All servers run as separate uvicorn processes pinned to the same single core (when the OS lets
us pin), with the access log off; the load generator (aiohttp, N keep-alive connections) runs
here. Each server gets the same invoice body; the bureau answers 201 only after its group commit
has fsynced. Bounded: ``--seconds`` per slice, ``--rounds`` rounds, each loading every server
once, in an order that rotates from round to round.

    .venv/bin/python bench/bureau.py --seconds 3 --rounds 5 --concurrency 64
    .venv/bin/python bench/bureau.py --servers bureau,bare --against main --rounds 9
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

import aiohttp
import psutil

from fakes.bureau.clock import CST_OFFSET_S, parse_rfc3339
from fakes.bureau.samples import SELLER_TAX_ID, sample_invoice
from harness.net import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = """
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
app = FastAPI()
@app.get("/health")
async def health():
    return {"status": "ok"}
@app.post("/api/v1/invoices")
async def issue(request: Request):
    body = await request.json()
    return JSONResponse(body, status_code=201)
uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), access_log=False, log_level="warning")
"""


def invoice(i: int) -> bytes:
    body = sample_invoice(request_id=f"B-{os.getpid()}-{i}", external_id=f"ORDER-{i}")
    return json.dumps(body, ensure_ascii=False).encode()


SERVERS = ("bureau", "per-req", "bare", "upload")


def export(rev: str, into: Path) -> None:
    """``fakes/`` and ``harness/`` of git revision ``rev`` into ``into``."""
    into.mkdir()
    archive = subprocess.run(["git", "archive", rev, "fakes", "harness"], cwd=ROOT, capture_output=True)
    if archive.returncode != 0:
        raise SystemExit(f"--against {rev}: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def start(cmd: list[str], port: int, core: int | None, tree: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server; ``tree`` serves the code of that folder instead of this checkout's."""
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    proc = subprocess.Popen(cmd, cwd=tree or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if core is not None and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(proc.pid, {core})
        except OSError:
            pass
    if not wait_http_ok(f"http://127.0.0.1:{port}/health", 30):
        proc.kill()
        raise SystemExit(f"server did not start: {' '.join(cmd)}")
    return proc


async def load(url: str, seconds: float, concurrency: int, offset: int) -> tuple[int, int]:
    """(201 answers, other answers) within ``seconds``."""
    ok = bad = 0
    counter = iter(range(offset, offset + 10_000_000))
    deadline = time.monotonic() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def worker() -> None:
            nonlocal ok, bad
            while time.monotonic() < deadline:
                body = invoice(next(counter))
                async with session.post(url, data=body, headers={"content-type": "application/json"}) as resp:
                    await resp.read()
                    if resp.status == 201:
                        ok += 1
                    else:
                        bad += 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok, bad


PER_UPLOAD = 100
UPLOADERS = 8  # concurrent uploads of 100 invoices: as many invoices in flight as 800 issues


def upload_body(first: str, offset: int, issued_at: str, tag: str) -> bytes:
    invoices = []
    for k in range(PER_UPLOAD):
        number = f"{first[:6]}{int(first[6:]) + offset + k:014d}"
        invoices.append(sample_invoice(request_id=None, external_id=f"{tag}-{number}", invoice_number=number,
                                       issued_at=issued_at))
    return json.dumps({"invoices": invoices}, ensure_ascii=False).encode()


async def stats(session: aiohttp.ClientSession, base: str) -> dict[str, object]:
    async with session.get(f"{base}/admin/stats") as resp:
        found: dict[str, object] = await resp.json()
        return found


async def upload_load(base: str, seconds: float, tag: str) -> tuple[int, float, int]:
    """(invoices accepted, seconds from the slice's start until all were judged, other answers)."""
    bad = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=UPLOADERS + 2)) as session:
        before = int((await stats(session, base))["invoices"])  # type: ignore[call-overload]
        started = time.monotonic()

        async def worker(w: int) -> None:
            nonlocal bad
            serial = 0
            while time.monotonic() < deadline:
                serial += 1
                body = {"request_id": f"{tag}-{w}-{serial}", "seller_tax_id": SELLER_TAX_ID, "count": 5000}
                async with session.post(f"{base}/api/v1/lq/ranges", json=body) as resp:
                    first = (await resp.json())["first"]
                    now = parse_rfc3339(resp.headers["X-Bureau-Time"])
                issued_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(now) + CST_OFFSET_S))
                for offset in range(0, 5000, PER_UPLOAD):
                    if time.monotonic() >= deadline:
                        return
                    data = upload_body(first, offset, issued_at, tag)
                    async with session.post(f"{base}/api/v1/lq/uploads", data=data,
                                            headers={"content-type": "application/json"}) as resp:
                        await resp.read()
                        bad += resp.status != 202

        await asyncio.gather(*(worker(w) for w in range(UPLOADERS)))
        while True:  # until everything uploaded in the slice is judged and committed
            found = await stats(session, base)
            lq = found["lq"]
            if lq["invoices_waiting"] == 0 and found["backlog"] == 0:  # type: ignore[index]
                break
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        return int(found["invoices"]) - before, elapsed, bad  # type: ignore[call-overload]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one slice of load")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each round loads every server once")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--core", type=int, default=0, help="CPU core for the servers (-1: no pinning)")
    parser.add_argument("--servers", default=",".join(SERVERS), help=f"which to run, of {','.join(SERVERS)}")
    parser.add_argument("--against", metavar="REV", help="also serve the bureau of this git revision (\"before\")")
    args = parser.parse_args()
    names = tuple(n for n in args.servers.split(",") if n)
    unknown = [n for n in names if n not in SERVERS]
    if unknown or not names:
        print(f"bench/bureau.py: --servers {args.servers!r}: use names of {','.join(SERVERS)}", file=sys.stderr)
        return 2
    if args.against:
        names += ("before",)
    core = None if args.core < 0 else args.core
    if core is not None and hasattr(os, "sched_setaffinity"):
        others = os.sched_getaffinity(0) - {core}
        if others:  # keep the load generator off the servers' core
            os.sched_setaffinity(0, others)
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu_rates: dict[str, list[float]] = {name: [] for name in names}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_APP)
        ports = {name: free_port() for name in (*SERVERS, "before")}
        old = Path(tmp) / "before"
        if args.against:
            export(args.against, old)
        commands = {
            "bureau": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["bureau"]), "--db", f"{tmp}/g.db"],
            "per-req": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["per-req"]), "--db", f"{tmp}/p.db",
                        "--commit-batch", "1"],
            "bare": [sys.executable, str(script), str(ports["bare"])],
            "upload": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["upload"]), "--db", f"{tmp}/u.db",
                       "--processing-s", "0"],
            "before": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["before"]), "--db", f"{tmp}/b.db"]
            if args.against else [],
        }
        procs = {name: start(commands[name], ports[name], core, old if name == "before" else None) for name in names}
        try:
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    server = psutil.Process(procs[name].pid)
                    cpu_before = sum(server.cpu_times()[:2])
                    base = f"http://127.0.0.1:{ports[name]}"
                    if name == "upload":
                        ok, elapsed, bad = asyncio.run(upload_load(base, args.seconds, f"U{r}"))
                    else:
                        elapsed = args.seconds
                        ok, bad = asyncio.run(load(f"{base}/api/v1/invoices", args.seconds, args.concurrency,
                                                   r * 10_000_000))
                    cpu = sum(server.cpu_times()[:2]) - cpu_before
                    rates[name].append(ok / elapsed)
                    cpu_rates[name].append(ok / cpu if cpu > 0 else 0.0)
                    what = "accepted invoices/s" if name == "upload" else "issues/s"
                    print(f"round {r + 1} {name:8s} {ok / elapsed:7.0f} {what} wall, "
                          f"{ok / max(cpu, 1e-9):7.0f} per server CPU-second (ok: {ok}, other: {bad})")
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(10)
    report(args, names, rates, cpu_rates, load_before, os.getloadavg())
    return 0


def report(args: argparse.Namespace, names: tuple[str, ...], rates: dict[str, list[float]],
           cpu_rates: dict[str, list[float]], load_before: tuple[float, ...], load_after: tuple[float, ...]) -> None:
    med = statistics.median
    print(f"\nload average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    base = "bare" if "bare" in names else names[0]
    print(f"{'median of rounds':40s}{'wall /s':>9s}{'ratio':>7s}{'per CPU-s':>11s}{'ratio':>7s}   (ratios to {base})")
    labels = {"bureau": "bureau, group commit (durable)", "per-req": "bureau, commit per request (durable)",
              "bare": "bare FastAPI POST (no storage)", "upload": "乐企 uploads of 100, accepted (durable)",
              "before": f"bureau of {args.against} (durable)"}
    for name in names:
        wall, cpu = med(rates[name]), med(cpu_rates[name])
        print(f"{labels[name]:40s}{wall:9.0f}{wall / med(rates[base]):7.2f}{cpu:11.0f}{cpu / med(cpu_rates[base]):7.2f}")

    def paired(a: str, b: str) -> str:   # the median of the per-round ratios: neighbours in time
        ratios = [x / y for x, y in zip(cpu_rates[a], cpu_rates[b]) if y]
        return f"{med(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})"

    if "bureau" in names and "bare" in names:
        print(f"\nbureau / bare per server CPU-second, per round: {paired('bureau', 'bare')}")
    if "before" in names:
        print(f"bureau / bureau of {args.against} per server CPU-second, per round: {paired('bureau', 'before')}")
        if "bare" in names:
            print(f"bureau of {args.against} / bare per server CPU-second, per round: {paired('before', 'bare')}")
    if "bureau" in names and "upload" in names:
        sync_wall, sync_cpu = med(rates["bureau"]), med(cpu_rates["bureau"])
        up_wall, up_cpu = med(rates["upload"]), med(cpu_rates["upload"])
        print(f"uploads vs synchronous issues (same run): {up_wall / sync_wall:.2f} on wall clock, "
              f"{up_cpu / sync_cpu:.2f} per server CPU-second")


if __name__ == "__main__":
    sys.exit(main())

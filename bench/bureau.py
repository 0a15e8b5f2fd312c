"""Durable issues per second of the fake bureau vs a bare FastAPI POST endpoint, side by side.

Three servers: the bureau with its group commit, the bureau committing per request (the
"before": ``--commit-batch 1``), and a bare FastAPI endpoint that parses and echoes the body.

All servers run as separate uvicorn processes pinned to the same single core (when the OS lets
us pin), with the access log off; the load generator (aiohttp, N keep-alive connections) runs
here. Each server gets the same invoice body; the bureau answers 201 only after its group commit
has fsynced. Bounded: ``--seconds`` per slice, ``--rounds`` rounds, each loading every server once.

    .venv/bin/python bench/bureau.py --seconds 3 --rounds 5 --concurrency 64
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

from fakes.bureau.samples import sample_invoice
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


def start(cmd: list[str], port: int, core: int | None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one slice of load")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; each round loads every server once")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--core", type=int, default=0, help="CPU core for the servers (-1: no pinning)")
    args = parser.parse_args()
    core = None if args.core < 0 else args.core
    if core is not None and hasattr(os, "sched_setaffinity"):
        others = os.sched_getaffinity(0) - {core}
        if others:  # keep the load generator off the servers' core
            os.sched_setaffinity(0, others)
    names = ("bureau", "per-req", "bare")
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu_rates: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bare.py"
        script.write_text(BARE_APP)
        ports = {name: free_port() for name in names}
        commands = {
            "bureau": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["bureau"]), "--db", f"{tmp}/g.db"],
            "per-req": [sys.executable, "-m", "fakes.bureau", "--port", str(ports["per-req"]), "--db", f"{tmp}/p.db",
                        "--commit-batch", "1"],
            "bare": [sys.executable, str(script), str(ports["bare"])],
        }
        procs = {name: start(commands[name], ports[name], core) for name in names}
        try:
            for r in range(args.rounds):
                for name in names:
                    server = psutil.Process(procs[name].pid)
                    cpu_before = sum(server.cpu_times()[:2])
                    ok, bad = asyncio.run(load(f"http://127.0.0.1:{ports[name]}/api/v1/invoices",
                                               args.seconds, args.concurrency, r * 10_000_000))
                    cpu = sum(server.cpu_times()[:2]) - cpu_before
                    rates[name].append(ok / args.seconds)
                    cpu_rates[name].append(ok / cpu if cpu > 0 else 0.0)
                    print(f"round {r + 1} {name:8s} {ok / args.seconds:7.0f} issues/s wall, "
                          f"{ok / max(cpu, 1e-9):7.0f} per server CPU-second (201: {ok}, other: {bad})")
        finally:
            for proc in procs.values():
                proc.terminate()
                proc.wait(10)
    print(f"\n{'median of rounds':38s}{'wall /s':>9s}{'ratio':>7s}{'per CPU-s':>11s}{'ratio':>7s}")
    bare_wall, bare_cpu = statistics.median(rates["bare"]), statistics.median(cpu_rates["bare"])
    labels = {"bureau": "bureau, group commit (durable)", "per-req": "bureau, commit per request (durable)",
              "bare": "bare FastAPI POST (no storage)"}
    for name in names:
        wall, cpu = statistics.median(rates[name]), statistics.median(cpu_rates[name])
        print(f"{labels[name]:38s}{wall:9.0f}{wall / bare_wall:7.2f}{cpu:11.0f}{cpu / bare_cpu:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

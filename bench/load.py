"""How fast can the load driver go? The highest open-model rate it sustains on one core, beside
``wrk`` on the same trivial endpoint in the same run (the endpoint's ceiling), and the ratio.

    .venv/bin/python bench/load.py [--rates 500,1000,1500,2000,2500,3000] [--seconds 5]

The endpoint (tests/integration/load/fake_sut.py, aiohttp, answers 201 at once) is pinned to
CPU 0 and the load to CPU 1 when the machine has two cores or more. "Sustained" means every
order of the schedule was sent and answered, with no ``open_model_lag`` event: the driver
records full operations (with the order) exactly as in a real run. wrk comes from Debian
(``apt-get install -y wrk``); without it the bench says so and prints only the driver's figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.data.orders import OrderFactory  # noqa: E402
from harness.load.driver import LoadDriver  # noqa: E402
from harness.load.shapes import LoadConfig  # noqa: E402
from harness.net import free_port, wait_http_ok  # noqa: E402

FAKE_SUT = ROOT / "tests" / "integration" / "load" / "fake_sut.py"


def pin(cpu: int) -> list[str]:
    """A ``taskset`` prefix pinning a command to ``cpu`` (empty when it cannot)."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


def start_endpoint() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([*pin(0), sys.executable, str(FAKE_SUT), str(port)])
    url = f"http://127.0.0.1:{port}"
    if not wait_http_ok(f"{url}/health", deadline_s=20):
        proc.kill()
        raise SystemExit("the trivial endpoint did not start")
    return proc, url


def run_driver(url: str, rate: float, seconds: float, work: Path) -> tuple[int, int, float]:
    """(orders due, orders answered, worst lag in s) for one steady open-model run."""
    run_dir = work / f"rate-{rate:g}"
    config = LoadConfig.model_validate({"model": "open", "shape": {"type": "steady", "target": rate, "duration_s": seconds}})

    async def go() -> tuple[int, int, float]:
        driver = LoadDriver(config, url, run_dir, 1, f"b{int(rate)}", run_dir / "load.log")
        try:
            await driver.start()
            await driver.wait()
        finally:
            await driver.stop()
        facts = driver.summary()
        answered = 0
        for line in (run_dir / "operations.jsonl").read_text(encoding="utf-8").splitlines():
            answered += json.loads(line).get("outcome") == "ok"
        lag = facts["max_lag_s"] if facts["open_model_lag_s"] else 0.0
        return round(rate * seconds), answered, lag

    return asyncio.run(go())


def run_wrk(url: str, seconds: float, work: Path) -> float | None:
    """Requests/s of ``wrk`` posting one realistic order, or None when wrk is missing."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    body = json.dumps(OrderFactory(1, "wrk").next(), ensure_ascii=False)
    script = work / "post.lua"
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body, ensure_ascii=False)}\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [*pin(1), wrk, "-t1", "-c32", f"-d{int(seconds)}s", "-s", str(script), f"{url}/invoices"],
        capture_output=True, text=True, timeout=seconds + 30, check=False,
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(match.group(1)) if match else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="500,1000,1500,2000,2500,3000", help="open-model rates to try, ascending")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each step")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    if pin(1):
        os.sched_setaffinity(0, {1})  # the driver's Locust children inherit CPU 1
    endpoint, url = start_endpoint()
    best = 0.0
    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            work = Path(tmp)
            for rate in rates:
                started = time.monotonic()
                due, answered, lag = run_driver(url, rate, args.seconds, work)
                ok = answered >= due and lag == 0.0
                print(f"driver  open {rate:7.0f}/s for {args.seconds:g} s: {answered}/{due} answered, "
                      f"max lag {lag:.2f} s  {'sustained' if ok else 'NOT sustained'}  ({time.monotonic() - started:.1f} s)")
                if not ok:
                    break
                best = rate
            wrk_rate = run_wrk(url, args.seconds, work)
    finally:
        endpoint.terminate()
        endpoint.wait(timeout=10)
    print(f"\nload driver: highest sustained open-model rate on one core: {best:.0f} orders/s")
    if wrk_rate is None:
        print("wrk: NOT INSTALLED (apt-get install -y wrk): no ceiling measured, no ratio")
        return
    print(f"wrk (same endpoint, same run, 1 thread, 32 connections): {wrk_rate:.0f} req/s")
    print(f"ratio driver / wrk: {best / wrk_rate:.2f}")


if __name__ == "__main__":
    main()

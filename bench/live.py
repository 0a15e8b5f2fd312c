"""What do the live figures cost the load? The same open-model load with the display off, as
plain lines, and as the live block on a real pseudo-terminal, side by side in one run.

    .venv/bin/python bench/live.py [--rate 1500] [--seconds 10] [--rounds 2]

The endpoint (tests/integration/load/fake_sut.py, answers 201 at once) is pinned to CPU 0 and
the harness with its Locust child to CPU 1 when the machine has two cores, so the display
competes with the load for the same core, as it would on a busy machine. For each round and
mode the bench prints the orders answered of those due and the worst open-model lag (the load
was slowed if either moved), the harness's own CPU time (the display runs in the harness
process; Locust is a child) and the wall time the display spent computing and drawing (more
than its CPU time when the shared core is busy). Modes
alternate within a round so neighbours' noise falls on all of them alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.load.driver import LoadDriver  # noqa: E402
from harness.load.shapes import LoadConfig  # noqa: E402
from harness.net import free_port, wait_http_ok  # noqa: E402

FAKE_SUT = ROOT / "tests" / "integration" / "load" / "fake_sut.py"
MODES = ("off", "plain", "live")


def pin(cpu: int) -> list[str]:
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(cpu)]


class Terminal:
    """stderr on a pseudo-terminal whose output is read and thrown away (a live block needs a
    real terminal to redraw in place)."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        self.stream = os.fdopen(slave, "w", buffering=1, encoding="utf-8")
        self.bytes = 0
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.bytes += len(chunk)


def run_once(url: str, rate: float, seconds: float, work: Path, mode: str, term: Terminal) -> dict[str, Any]:
    run_dir = work / f"{mode}-{time.monotonic_ns()}"
    config = LoadConfig.model_validate({"model": "open", "shape": {"type": "steady", "target": rate,
                                                                   "duration_s": seconds}})
    saved = sys.stderr
    sys.stderr = term.stream if mode == "live" else open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115

    async def go() -> dict[str, Any]:
        driver = LoadDriver(config, url, run_dir, 1, "bl", run_dir / "load.log", progress=mode)  # type: ignore[arg-type]
        cpu0 = time.process_time()
        try:
            await driver.start()
            await driver.wait()
        finally:
            await driver.stop()
        cpu = time.process_time() - cpu0
        facts = driver.summary()
        answered = 0
        for line in (run_dir / "operations.jsonl").read_bytes().splitlines():
            answered += b'"outcome":"ok"' in line
        busy = driver.progress.busy_s if driver.progress is not None and mode != "off" else 0.0
        return {"due": round(rate * seconds), "answered": answered, "cpu_s": cpu, "display_s": busy,
                "lag_s": facts["max_lag_s"] if facts["open_model_lag_s"] else 0.0}

    try:
        return asyncio.run(go())
    finally:
        if sys.stderr is not term.stream:
            sys.stderr.close()
        sys.stderr = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1500.0, help="open-model orders/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of off / plain / live")
    args = parser.parse_args()
    if pin(1):
        os.sched_setaffinity(0, {1})
    port = free_port()
    endpoint = subprocess.Popen([*pin(0), sys.executable, str(FAKE_SUT), str(port)])
    url = f"http://127.0.0.1:{port}"
    results: dict[str, list[dict[str, Any]]] = {m: [] for m in MODES}
    term = Terminal()
    try:
        if not wait_http_ok(f"{url}/health", deadline_s=20):
            raise SystemExit("the trivial endpoint did not start")
        with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
            for r in range(args.rounds):
                order = MODES if r % 2 == 0 else tuple(reversed(MODES))
                for mode in order:
                    res = run_once(url, args.rate, args.seconds, Path(tmp), mode, term)
                    results[mode].append(res)
                    print(f"round {r + 1} {mode:5}: {res['answered']}/{res['due']} answered, max lag "
                          f"{res['lag_s']:.2f} s, harness CPU {res['cpu_s']:.2f} s, display {res['display_s']:.3f} s",
                          flush=True)
    finally:
        endpoint.terminate()
        endpoint.wait(timeout=10)
    base_cpu = statistics.mean(r["cpu_s"] for r in results["off"])
    base_answered = statistics.mean(r["answered"] for r in results["off"])
    print(f"\n{args.rate:.0f} orders/s for {args.seconds:g} s, {args.rounds} round(s); means per mode:")
    for mode in MODES:
        rs = results[mode]
        answered = statistics.mean(r["answered"] for r in rs)
        cpu = statistics.mean(r["cpu_s"] for r in rs)
        display = statistics.mean(r["display_s"] for r in rs)
        print(f"  {mode:5}  answered {answered:8.0f} (ratio to off {answered / base_answered:.3f})  "
              f"worst lag {max(r['lag_s'] for r in rs):.2f} s  harness CPU {cpu:.2f} s "
              f"({cpu - base_cpu:+.2f} s vs off = {100 * (cpu - base_cpu) / args.seconds:.1f}% of one core)  "
              f"display wall time {display:.2f} s")
    print(f"  (live block output drawn to the pseudo-terminal: {term.bytes:,} bytes)")
    print(json.dumps({m: results[m] for m in MODES}), file=sys.stderr)


if __name__ == "__main__":
    main()

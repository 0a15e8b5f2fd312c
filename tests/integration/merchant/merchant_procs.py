"""Real processes for the merchant's integration tests: the bureau, the merchant, load, audit.

Services start through their CLI modules (``configure`` + ``run``), each in its own process on
a free loopback port, logging to the test's tmp dir. ``Service.kill()`` is SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from harness.checks.invoices import audit_invoices
from harness.data.orders import OrderFactory
from harness.net import free_port, wait_http_ok

SELLER_TAX_ID = "91110108551385082Q"
ROOT = Path(__file__).resolve().parents[3]
# Runs one CLI module without building the whole `invoice-chaos` parser.
LAUNCH = ("import argparse, importlib, sys; m = importlib.import_module(sys.argv[1]); "
          "p = argparse.ArgumentParser(); m.configure(p); sys.exit(m.run(p.parse_args(sys.argv[2:])) or 0)")


class Service:
    def __init__(self, name: str, module: str, args: list[str], port: int, log_dir: Path,
                 env: dict[str, str] | None = None, health: str = "/health") -> None:
        self.name, self.module, self.args, self.port = name, module, args, port
        self.health = health
        self.url = f"http://127.0.0.1:{port}"
        self.log = log_dir / f"{name}.log"
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        env = dict(os.environ, PYTHONPATH=str(ROOT), **self.env)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-c", LAUNCH, self.module, *self.args, "--port", str(self.port)],
                                         cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        if not wait_http_ok(f"{self.url}{self.health}", deadline_s=20):
            self.stop()
            raise RuntimeError(f"{self.name} did not become healthy; log:\n{self.log.read_text()[-2000:]}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def bureau(tmp: Path, *extra: str) -> Service:
    return Service("bureau", "fakes.bureau.cli", ["--db", str(tmp / "bureau.db"), "--allow-reset", "--seed", "7", *extra],
                   free_port(), tmp)


def merchant(tmp: Path, bureau_url: str, profile: str, port: int | None = None, channel: str = "sync",
             env: dict[str, str] | None = None) -> Service:
    """The reference merchant; on ``channel="lq"`` with BUREAU_TIME_URL set as the harness sets it."""
    name = profile if channel == "sync" else f"{profile}-{channel}"
    args = ["--bureau-url", bureau_url, "--profile", profile, "--state-dir", str(tmp / f"state-{name}"), "--seed", "1"]
    if channel != "sync":
        args += ["--channel", channel]
        env = {"BUREAU_TIME_URL": f"{bureau_url}/api/v1/time", **(env or {})}
    return Service(f"merchant-{name}", "fakes.merchant.cli", args, port or free_port(), tmp, env=env)


def proxy(tmp: Path) -> Service:
    """The embedded Toxiproxy-compatible server (its API answers GET /version)."""
    return Service("proxy", "harness.proxy.cli", ["--seed", "7"], free_port(), tmp, health="/version")


def set_faults(bureau_url: str, faults: list[dict[str, Any]]) -> None:
    r = httpx.put(f"{bureau_url}/admin/faults", json=faults, timeout=5)
    assert r.status_code == 200, r.text


def clear_faults(bureau_url: str) -> None:
    httpx.delete(f"{bureau_url}/admin/faults", timeout=5)


def orders(prefix: str, n: int) -> list[dict[str, Any]]:
    f = OrderFactory(11, prefix)
    return [f.next() for _ in range(n)]


def place(merchant_url: str, batch: Iterable[dict[str, Any]], threads: int = 8, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """POST every order as the load does; one operation record (history shape) per order."""

    def one(order: dict[str, Any]) -> dict[str, Any]:
        op: dict[str, Any] = {"kind": "issue", "order_id": order["order_id"], "order": order}
        try:
            r = httpx.post(f"{merchant_url}/invoices", json=order, timeout=timeout_s)
        except httpx.HTTPError as exc:
            op["error"] = type(exc).__name__
            return op
        op["http_status"] = r.status_code
        if r.status_code == 201:
            op["invoice_number"] = r.json().get("invoice_number")
        return op

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, batch))


def drain(merchant_url: str, limit_s: float = 30.0) -> int:
    """Wait until the merchant reports no pending order; the pending count at the end."""
    end = time.monotonic() + limit_s
    pending = -1
    while time.monotonic() < end:
        try:
            pending = httpx.get(f"{merchant_url}/stats", timeout=5).json()["pending"]
        except httpx.HTTPError:
            pending = -1
        if pending == 0:
            return 0
        time.sleep(0.1)
    return pending


def audit(bureau_url: str, merchant_url: str, ops: list[dict[str, Any]]) -> dict[str, list[str]]:
    """CONTRACT §4 anomalies of these operations, by the harness's own checker."""
    prefixes = {op["order_id"].rsplit("-", 2)[0] for op in ops}
    raw = httpx.get(f"{bureau_url}/admin/ledger", timeout=10).text
    ledger = [json.loads(line) for line in raw.splitlines() if line.strip()]
    ledger = [inv for inv in ledger if str(inv.get("external_id", "")).rsplit("-", 2)[0] in prefixes]
    rows = httpx.get(f"{merchant_url}/ledger", timeout=10).json()["invoices"]
    raw = httpx.get(f"{bureau_url}/admin/requests", timeout=10).text
    requests = [json.loads(line) for line in raw.splitlines() if line.strip()]
    return audit_invoices(ops, ledger, rows, SELLER_TAX_ID, requests).anomalies


def set_clock(bureau_url: str, **body: Any) -> dict[str, Any]:
    """Move the bureau clock (CONTRACT §5.1): ``now`` (RFC 3339) or ``advance_s``."""
    r = httpx.put(f"{bureau_url}/admin/clock", json=body, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def bureau_lines(bureau_url: str, what: str) -> list[dict[str, Any]]:
    """``/admin/ledger`` or ``/admin/requests`` as a list of records."""
    raw = httpx.get(f"{bureau_url}/admin/{what}", timeout=10).text
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


# --- the 乐企 channel (CONTRACT §5) ---

# match an upload, or a poll of its results
UPLOADS = {"method": "POST", "path": "/api/v1/lq/uploads"}
RESULTS = {"method": "GET", "path": "/api/v1/lq/uploads/"}


@contextmanager
def lq(tmp_path: Path, profile: str = "resilient", *bureau_args: str) -> Iterator[tuple[Service, Service]]:
    """A bureau (uploads judged after 0.2 s) and a merchant on the 乐企 channel, stopped after."""
    b = bureau(tmp_path, "--processing-s", "0.2", *bureau_args).start()
    m = merchant(tmp_path, b.url, profile, channel="lq")
    try:
        m.start()
        yield b, m
    finally:
        m.stop()
        b.stop()


def detail_codes(bureau_url: str) -> Counter[str]:
    """How often each ``02`` detail code was given, from the request log."""
    return Counter(line["detail_code"] for line in bureau_lines(bureau_url, "requests") if line.get("detail_code"))


def nonempty(anomalies: dict[str, list[str]]) -> dict[str, list[str]]:
    return {k: v for k, v in anomalies.items() if v}



def faults_seen(bureau_url: str, since: str) -> set[str]:
    """Kinds of the bureau faults that acted on requests logged at or after ``since`` (RFC 3339).

    By time rather than by order: a request refused before the handler read its body is logged
    without ``external_id``.
    """
    raw = httpx.get(f"{bureau_url}/admin/requests", timeout=10).text
    kinds: set[str] = set()
    for line in raw.splitlines():
        if line.strip():
            entry = json.loads(line)
            if entry["at"] >= since:
                kinds.update(entry.get("faults") or [])
    return kinds


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")

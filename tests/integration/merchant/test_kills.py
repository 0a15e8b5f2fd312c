"""Process faults: SIGKILL of the resilient merchant and of the bureau in the middle of load."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from merchant_procs import Service, audit, bureau, clear_faults, drain, merchant, nonempty, orders, place, set_faults

pytestmark = pytest.mark.integration


def test_resilient_survives_sigkill_of_itself(shared_bureau: Service, tmp_path: Path) -> None:
    m = merchant(tmp_path, shared_bureau.url, "resilient").start()
    try:
        # Slow, ambiguous bureau: many orders are mid-call or pending when the merchant dies.
        set_faults(shared_bureau.url, [{"kind": "latency", "ms": 300}, {"kind": "ghost_commit", "probability": 0.3}])
        with ThreadPoolExecutor(1) as pool:
            load = pool.submit(place, m.url, orders("kill-sut", 40), 8, 3.0)
            time.sleep(1.0)
            m.kill()
            ops = load.result()
        clear_faults(shared_bureau.url)
        m.start()  # same port, same STATE_DIR: the outbox resumes
        assert drain(m.url, limit_s=30) == 0
        answered = [op for op in ops if op.get("http_status") in (201, 202)]
        assert answered and len(answered) < len(ops), "the kill should land mid-load"
        found = nonempty(audit(shared_bureau.url, m.url, ops))
        assert found == {}, found
        # Every order answered 201/202 before the kill is in the ledger after the restart.
        ledger = {r["order_id"] for r in httpx.get(f"{m.url}/ledger").json()["invoices"]}
        assert {op["order_id"] for op in answered} <= ledger
    finally:
        clear_faults(shared_bureau.url)
        m.stop()


def test_resilient_survives_sigkill_of_the_bureau(tmp_path: Path) -> None:
    b = bureau(tmp_path).start()
    m = merchant(tmp_path, b.url, "resilient").start()
    try:
        set_faults(b.url, [{"kind": "latency", "ms": 200}])
        with ThreadPoolExecutor(1) as pool:
            load = pool.submit(place, m.url, orders("kill-bureau", 40), 8)
            time.sleep(0.8)
            b.kill()
            time.sleep(1.0)
            b.start()  # same port, same ledger file; faults are gone with the process
            ops = load.result()
        assert drain(m.url, limit_s=30) == 0
        assert {op.get("http_status") for op in ops} <= {201, 202}
        found = nonempty(audit(b.url, m.url, ops))
        assert found == {}, found
    finally:
        m.stop()
        b.stop()


def test_sigterm_is_clean(shared_bureau: Service, tmp_path: Path) -> None:
    m = merchant(tmp_path, shared_bureau.url, "resilient").start()
    started = time.monotonic()
    assert m.stop() == 0
    assert time.monotonic() - started < 8

"""The teaching profiles on the 乐企 channel against the real bureau: each documented mistake shows
its anomaly (docs/merchant.md) in the situation that provokes it, judged by the harness's checker.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from merchant_procs import (
    RESULTS,
    UPLOADS,
    audit,
    bureau,
    bureau_lines,
    clear_faults,
    drain,
    lq,
    merchant,
    nonempty,
    orders,
    place,
    set_clock,
    set_faults,
)

from fakes.bureau.clock import rfc3339

pytestmark = pytest.mark.integration


def test_naive_answers_201_before_acceptance_refused_later_is_lost_and_dropped(tmp_path: Path) -> None:
    with lq(tmp_path, "naive") as (b, m):
        set_faults(b.url, [{"kind": "upload_reject", "code": "QUOTA_EXCEEDED"}])
        ops = place(m.url, orders("nv-lost", 10))
        assert {op["http_status"] for op in ops} == {201}
        assert drain(m.url, 10) == 0
        placed = sorted(op["order_id"] for op in ops)
        found = audit(b.url, m.url, ops)
        assert found["lost"] == placed and found["dropped"] == placed


def test_naive_reuses_numbers_after_a_restart_and_trusts_03(tmp_path: Path) -> None:
    with lq(tmp_path, "naive") as (b, m):
        first = place(m.url, orders("nv-reuse-a", 8))
        assert drain(m.url, 10) == 0
        m.kill()  # kill -9: the counter was in memory only
        m.start()
        second = place(m.url, orders("nv-reuse-b", 8))
        assert drain(m.url, 10) == 0
        found = audit(b.url, m.url, first + second)
        reused = sorted(op["order_id"] for op in second)
        assert found["mismatch"] == reused  # 03 for another order's number, recorded issued
        assert found["lost"] == reused       # and no invoice of their own
        assert {op["invoice_number"] for op in first} == {op["invoice_number"] for op in second}


def test_naive_stops_polling_after_410_and_its_orders_are_stuck(tmp_path: Path) -> None:
    with lq(tmp_path, "naive", "--result-ttl-s", "60") as (b, m):
        set_faults(b.url, [{"kind": "maintenance", "retry_after": 1, "match": RESULTS}])
        ops = place(m.url, orders("nv-stuck", 10))
        deadline = time.monotonic() + 20
        while len(bureau_lines(b.url, "ledger")) < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
        set_clock(b.url, advance_s=120)
        clear_faults(b.url)
        assert drain(m.url, 3) == 10
        found = audit(b.url, m.url, ops)
        assert found["stuck"] == sorted(op["order_id"] for op in ops)
        assert any(line["status"] == 410 for line in bureau_lines(b.url, "requests"))


def test_naive_fails_orders_on_expired_credentials_dropped(tmp_path: Path) -> None:
    with lq(tmp_path, "naive") as (b, m):
        set_faults(b.url, [{"kind": "auth_expired", "match": UPLOADS}])
        ops = place(m.url, orders("nv-auth", 10))
        assert {op["http_status"] for op in ops} == {502}
        found = nonempty(audit(b.url, m.url, ops))
        assert found == {"dropped": sorted(op["order_id"] for op in ops)}


def test_naive_dates_by_its_own_clock_and_a_skewed_bureau_refuses_resilient_does_not(tmp_path: Path) -> None:
    behind = rfc3339(time.time() - 2 * 86400)  # the bureau's clock is two days behind this machine's
    b = bureau(tmp_path, "--processing-s", "0.2", "--clock-start", behind).start()
    naive = merchant(tmp_path, b.url, "naive", channel="lq")
    resilient = merchant(tmp_path, b.url, "resilient", channel="lq")
    try:
        naive.start()
        resilient.start()
        ops = place(naive.url, orders("nv-skew", 10))
        assert drain(naive.url, 10) == 0
        placed = sorted(op["order_id"] for op in ops)
        found = audit(b.url, naive.url, ops)
        assert found["lost"] == placed and found["dropped"] == placed
        codes = {line.get("detail_code") for line in bureau_lines(b.url, "requests") if line.get("result_code")}
        assert codes == {"ISSUED_IN_FUTURE"}
        good = place(resilient.url, orders("rs-skew", 10))
        assert drain(resilient.url, 10) == 0
        assert nonempty(audit(b.url, resilient.url, good)) == {}
    finally:
        naive.stop()
        resilient.stop()
        b.stop()


def test_retrying_uploads_again_under_new_numbers_duplicate(tmp_path: Path) -> None:
    with lq(tmp_path, "retrying") as (b, m):
        set_faults(b.url, [{"kind": "ghost_commit", "probability": 0.5, "match": UPLOADS}])
        ops = place(m.url, orders("rt-dup", 16))
        assert drain(m.url, 10) == 0
        time.sleep(1.0)  # an order that failed after four ghosted uploads has them still processing
        found = audit(b.url, m.url, ops)
        assert found["duplicate"], nonempty(found)
        assert not found["lost"]

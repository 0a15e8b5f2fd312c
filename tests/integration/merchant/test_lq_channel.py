"""The resilient merchant on the 乐企 channel against the real bureau: no anomaly in any situation.

Each test starts its own bureau (the settings differ: processing time, result expiry, clock),
stages one situation of CONTRACT §5 with the admin API (faults, clock) and audits with the
harness's checker over the bureau's ledger and request log. Every test also checks, in the
request log, that the situation really happened (a refusal seen, a 410 answered), so none can
pass by missing its fault.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakes.bureau.clock import parse_rfc3339
from merchant_procs import (
    RESULTS,
    UPLOADS,
    Service,
    audit,
    bureau_lines,
    clear_faults,
    detail_codes,
    drain,
    lq,
    nonempty,
    orders,
    place,
    set_clock,
    set_faults,
)

pytestmark = pytest.mark.integration
def bureau_time(bureau_url: str) -> str:
    return str(httpx.get(f"{bureau_url}/api/v1/time", timeout=5).json()["now"])


def assert_clean(b: Service, m: Service, ops: list[dict[str, Any]], drain_s: float = 30) -> None:
    assert drain(m.url, drain_s) == 0, httpx.get(f"{m.url}/stats").json()
    found = nonempty(audit(b.url, m.url, ops))
    assert found == {}, found
    statuses = Counter(row["status"] for row in httpx.get(f"{m.url}/ledger").json()["invoices"])
    assert statuses == {"issued": len({op["order_id"] for op in ops})}, statuses


def test_upload_stuck_answers_202_with_numbers_then_drains(tmp_path: Path) -> None:
    with lq(tmp_path) as (b, m):
        set_faults(b.url, [{"kind": "upload_stuck"}])  # held at 01 until removed
        ops = place(m.url, orders("lq-stuck", 30))
        assert {op["http_status"] for op in ops} == {202}  # not accepted yet: never 201
        rows = httpx.get(f"{m.url}/ledger").json()["invoices"]
        assert all(r["status"] == "pending" and len(r["invoice_number"]) == 20 for r in rows)
        assert httpx.get(f"{m.url}/stats").json()["pending"] == 30
        clear_faults(b.url)
        assert_clean(b, m, ops)


@pytest.mark.parametrize("code", ["NUMBER_NOT_ALLOCATED", "NUMBER_YEAR", "ISSUED_IN_FUTURE", "DEADLINE_PASSED",
                                  "MONTH_CLOSED", "QUOTA_EXCEEDED"])
def test_upload_reject_of_the_account_or_number_never_drops_an_order(tmp_path: Path, code: str) -> None:
    with lq(tmp_path) as (b, m):
        set_faults(b.url, [{"kind": "upload_reject", "code": code, "probability": 0.5}])
        ops = place(m.url, orders("lq-reject", 20))
        time.sleep(1.0)
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert detail_codes(b.url)[code] > 0


def test_a_policy_change_fails_only_the_orders_the_bureau_judged_invalid(tmp_path: Path) -> None:
    with lq(tmp_path) as (b, m):
        set_faults(b.url, [{"kind": "policy_change", "rates": ["0.13"]}, {"kind": "upload_stuck", "seconds": 1}])
        ops = place(m.url, orders("lq-policy", 12))
        assert drain(m.url, 20) == 0
        found = nonempty(audit(b.url, m.url, ops))
        assert found == {}, found
        rows = {r["order_id"]: r["status"] for r in httpx.get(f"{m.url}/ledger").json()["invoices"]}
        refused = {line["external_id"] for line in bureau_lines(b.url, "requests")
                   if line.get("detail_code") == "VALIDATION_FAILED"}
        assert refused and {oid for oid, status in rows.items() if status == "failed"} == refused
        assert {op["http_status"] for op in ops if op["order_id"] in refused} <= {202, 422}


def test_quota_exhausted_holds_orders_until_it_is_restored(tmp_path: Path) -> None:
    with lq(tmp_path) as (b, m):
        set_faults(b.url, [{"kind": "quota_exhausted"}])
        ops = place(m.url, orders("lq-quota", 20))
        time.sleep(2.0)
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert detail_codes(b.url)["QUOTA_EXCEEDED"] > 0


def test_auth_expired_holds_orders_until_credentials_return(tmp_path: Path) -> None:
    with lq(tmp_path) as (b, m):
        warm = place(m.url, orders("lq-auth-warm", 5))  # a range exists; the next orders also need one
        set_faults(b.url, [{"kind": "auth_expired"}])
        ops = warm + place(m.url, orders("lq-auth", 20))
        time.sleep(2.0)
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert any(line.get("error_code") == "AUTH_EXPIRED" for line in bureau_lines(b.url, "requests"))


def test_a_clock_jump_past_the_deadline_during_an_outage_reissues_the_backlog(tmp_path: Path) -> None:
    with lq(tmp_path) as (b, m):
        set_faults(b.url, [{"kind": "maintenance", "retry_after": 1, "match": UPLOADS}])
        ops = place(m.url, orders("lq-deadline", 20))  # numbered and dated, never received
        jumped = parse_rfc3339(set_clock(b.url, advance_s=49 * 3600)["now"])
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert detail_codes(b.url)["DEADLINE_PASSED"] > 0
        for inv in bureau_lines(b.url, "ledger"):  # each accepted one is a re-issue dated after the jump
            assert parse_rfc3339(inv["issued_at"]) >= jumped - 1, inv


def test_the_month_close_during_a_blockage_reissues_in_the_new_month(tmp_path: Path) -> None:
    with lq(tmp_path, "resilient", "--clock-start", "2026-11-30T23:59:00+08:00") as (b, m):
        set_faults(b.url, [{"kind": "upload_stuck", "match": UPLOADS}])  # held until removed
        ops = place(m.url, orders("lq-close", 20))  # dated 30 November, received in time
        set_clock(b.url, now="2026-12-13T00:00:05+08:00")  # November closes at 00:00 on the 13th
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert detail_codes(b.url)["MONTH_CLOSED"] > 0
        assert all(inv["issued_at"].startswith("2026-12-13") for inv in bureau_lines(b.url, "ledger"))


def test_the_year_rollover_numbers_from_a_range_of_each_invoice_s_year(tmp_path: Path) -> None:
    with lq(tmp_path, "resilient", "--clock-start", "2026-12-31T23:59:56+08:00") as (b, m):
        set_faults(b.url, [{"kind": "upload_stuck", "seconds": 2}])  # 2026 invoices are judged in 2027
        ops: list[dict[str, Any]] = []
        batches = iter(orders("lq-year", 6 * 20)[i:i + 6] for i in range(0, 6 * 20, 6))
        while not bureau_time(b.url).startswith("2027"):  # place orders until midnight, then once more
            ops += place(m.url, next(batches), 6)
        ops += place(m.url, next(batches), 6)
        clear_faults(b.url)
        assert_clean(b, m, ops)
        years: Counter[str] = Counter()
        for inv in bureau_lines(b.url, "ledger"):
            assert inv["invoice_number"][:2] == inv["issued_at"][2:4], inv  # the number's year is the date's
            years[inv["issued_at"][:4]] += 1
        assert set(years) == {"2026", "2027"}, years
        assert detail_codes(b.url)["NUMBER_YEAR"] == 0


def test_expired_results_are_learnt_by_lookup(tmp_path: Path) -> None:
    with lq(tmp_path, "resilient", "--result-ttl-s", "60") as (b, m):
        set_faults(b.url, [{"kind": "maintenance", "retry_after": 1, "match": RESULTS}])  # results unreadable
        ops = place(m.url, orders("lq-expiry", 20))
        deadline = time.monotonic() + 20
        while len(bureau_lines(b.url, "ledger")) < 20 and time.monotonic() < deadline:
            time.sleep(0.2)
        set_clock(b.url, advance_s=120)  # past result_ttl_s while nobody could read them
        clear_faults(b.url)
        assert_clean(b, m, ops)
        assert any(line["status"] == 410 for line in bureau_lines(b.url, "requests"))


def test_sigkill_while_numbering_reuses_no_number_and_loses_no_order(tmp_path: Path) -> None:
    with lq(tmp_path, "resilient", "--processing-s", "0.5") as (b, m):
        with ThreadPoolExecutor(1) as pool:
            load = pool.submit(place, m.url, orders("lq-kill", 150), 8, 3.0)
            time.sleep(1.0)
            m.kill()
            ops = load.result()
        m.start()  # same port and state dir: outbox and number book resume
        answered = {op["order_id"] for op in ops if op.get("http_status") in (201, 202)}
        assert answered and len(answered) < len(ops), "the kill should land mid-load"
        assert drain(m.url, 30) == 0
        found = nonempty(audit(b.url, m.url, ops))
        assert found == {}, found
        owners: defaultdict[str, set[str]] = defaultdict(set)
        for line in bureau_lines(b.url, "requests"):
            if line.get("invoice_number"):
                owners[line["invoice_number"]].add(line["external_id"])
        reused = {n: o for n, o in owners.items() if len(o) > 1}
        assert not reused, reused
        assert answered <= {r["order_id"] for r in httpx.get(f"{m.url}/ledger").json()["invoices"]}

"""The resilient profile on the 乐企 channel, through the HTTP contract, against the in-memory bureau."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from merchant_fake_lq import (
    ACCOUNT,
    DOWN,
    GONE,
    SELLER,
    FakeLq,
    answer_times,
    drain,
    ledger,
    merchant,
    orders,
)
from merchant_fake_bureau import times

from fakes.bureau.clock import parse_kprq
from fakes.merchant.lq_client import LqAnswer
from fakes.merchant.orders import build_invoice, issue_request_id
from fakes.merchant.profiles import new_order
from fakes.merchant.store import Store

def assert_one_invoice_each(client: TestClient, bureau: FakeLq, placed: list[str]) -> None:
    rows = ledger(client)
    for oid in placed:
        blue = bureau.blue_for(oid)
        assert len(blue) == 1, (oid, blue)
        assert rows[oid]["status"] == "issued" and rows[oid]["invoice_number"] == blue[0]["invoice_number"]


def test_health_says_lq(tmp_path: Path) -> None:
    with merchant(tmp_path, FakeLq()) as client:
        assert client.get("/health").json()["capabilities"] == ["lq", "stats"]


def test_201_only_after_00_and_pending_rows_carry_their_number(tmp_path: Path) -> None:
    bureau = FakeLq(processing_polls=10**6)  # every result stays 01
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        r = client.post("/invoices", json=order)
        assert r.status_code == 202 and r.json() == {"order_id": order["order_id"], "status": "pending"}
        row = client.get(f"/invoices/{order['order_id']}").json()
        assert row["status"] == "pending" and len(row["invoice_number"]) == 20
        assert ledger(client)[order["order_id"]]["invoice_number"] == row["invoice_number"]
        assert client.get("/stats").json()["pending"] == 1
        bureau.processing_polls = 0
        drain(client)
        again = client.post("/invoices", json=order)
        assert again.status_code == 201 and again.json()["invoice_number"] == row["invoice_number"]
        assert_one_invoice_each(client, bureau, [order["order_id"]])


def test_a_fast_acceptance_answers_201_with_the_accepted_number(tmp_path: Path) -> None:
    bureau = FakeLq()
    with merchant(tmp_path, bureau) as client:
        answers = [client.post("/invoices", json=o) for o in orders(5)]
        assert [a.status_code for a in answers] == [201] * 5
        for a in answers:
            assert bureau.blue_for(a.json()["order_id"])[0]["invoice_number"] == a.json()["invoice_number"]


def test_invoices_are_dated_by_bureau_time_not_the_machine_clock(tmp_path: Path) -> None:
    bureau = FakeLq(now=parse_kprq("2026-03-01 08:00:00"))
    with merchant(tmp_path, bureau) as client:
        client.post("/invoices", json=orders(1)[0])
        drain(client)
    [invoice] = bureau.accepted.values()
    assert abs(parse_kprq(invoice["issued_at"]) - bureau.now) < 5
    assert invoice["invoice_number"].startswith("26")


def test_uploads_carry_at_most_100_invoices(tmp_path: Path) -> None:
    async def fill() -> None:
        store = Store(tmp_path / "merchant-resilient-lq.sqlite3")
        store.open()
        for order in orders(250):
            await store.put(new_order(build_invoice(order, SELLER), request_id=issue_request_id(order["order_id"])))
        await store.close()

    asyncio.run(fill())
    bureau = FakeLq()
    with merchant(tmp_path, bureau) as client:  # resumes the 250 pending orders at start
        drain(client)
    assert sorted(bureau.upload_sizes, reverse=True)[:3] == [100, 100, 50]
    assert len(bureau.accepted) == 250


@pytest.mark.parametrize("detail", ["DEADLINE_PASSED", "MONTH_CLOSED", "NUMBER_YEAR", "NUMBER_NOT_ALLOCATED",
                                    "ISSUED_IN_FUTURE"])
def test_refusals_of_the_number_or_date_reissue_under_a_new_number(tmp_path: Path, detail: str) -> None:
    refused: dict[str, str] = {}

    def once(item: dict[str, Any]) -> tuple[str, str | None] | None:
        if item["external_id"] in refused:
            return None
        refused[item["external_id"]] = item["invoice_number"]
        return "02", detail

    bureau = FakeLq(verdict=once)
    with merchant(tmp_path, bureau) as client:
        placed = [o["order_id"] for o in orders(3)]
        for o in orders(3):
            client.post("/invoices", json=o)
        drain(client)
        assert_one_invoice_each(client, bureau, placed)
        for oid in placed:
            assert ledger(client)[oid]["invoice_number"] != refused[oid]
    if detail == "NUMBER_NOT_ALLOCATED":
        assert bureau.calls["allocate"] >= 2  # the refused range is no longer used


def test_quota_holds_the_same_invoice_and_uploads_it_again(tmp_path: Path) -> None:
    refusals = times(4)
    first: dict[str, str] = {}

    def quota(item: dict[str, Any]) -> tuple[str, str | None] | None:
        first.setdefault(item["external_id"], item["invoice_number"])
        return ("02", "QUOTA_EXCEEDED") if refusals() else None

    bureau = FakeLq(verdict=quota)
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        assert client.post("/invoices", json=order).status_code in (201, 202)
        drain(client)
        assert_one_invoice_each(client, bureau, [order["order_id"]])
        assert ledger(client)[order["order_id"]]["invoice_number"] == first[order["order_id"]]
        assert bureau.calls["upload"] == 5


def test_a_validation_refusal_fails_the_order_and_is_not_retried(tmp_path: Path) -> None:
    bureau = FakeLq(verdict=lambda item: ("02", "VALIDATION_FAILED"))
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        r = client.post("/invoices", json=order)
        assert r.status_code == 422 and r.json()["error"]["code"] == "REJECTED_BY_BUREAU"
        assert ledger(client)[order["order_id"]]["status"] == "failed"
        assert bureau.calls["upload"] == 1 and not bureau.accepted


def test_a_lost_upload_answer_is_uploaded_again_under_the_same_number(tmp_path: Path) -> None:
    bureau = FakeLq(ghost_upload=times(1))  # stored and accepted, answered 504
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        drain(client)
        assert_one_invoice_each(client, bureau, [order["order_id"]])
    assert bureau.calls["upload"] == 2 and bureau.calls["lookup"] >= 1  # the copy answered 03: looked up


def test_03_for_another_orders_number_reissues(tmp_path: Path) -> None:
    bureau = FakeLq()
    taken = "26117000000000000001"  # the first number the merchant will use
    bureau.accepted[taken] = {"invoice_number": taken, "external_id": "someone-else", "seller": {"tax_id": SELLER.tax_id}}
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        drain(client)
        number = ledger(client)[order["order_id"]]["invoice_number"]
    assert number != taken and bureau.accepted[number]["external_id"] == order["order_id"]


def test_expired_results_are_learnt_by_lookup(tmp_path: Path) -> None:
    bureau = FakeLq(results_answer=answer_times(3, GONE))
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        drain(client)
        assert_one_invoice_each(client, bureau, [order["order_id"]])
    assert bureau.calls["lookup"] >= 1


def test_expired_results_of_an_invoice_never_judged_upload_it_again(tmp_path: Path) -> None:
    bureau = FakeLq(processing_polls=10**6, results_answer=answer_times(1, GONE))
    with merchant(tmp_path, bureau) as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        end = time.monotonic() + 3
        while bureau.calls["upload"] < 2 and time.monotonic() < end:
            time.sleep(0.01)
        bureau.processing_polls = 0
        drain(client)
        assert_one_invoice_each(client, bureau, [order["order_id"]])
    assert bureau.calls["upload"] >= 2


@pytest.mark.parametrize("refusal", [ACCOUNT, DOWN, LqAnswer("account", 429, code="RATE_LIMITED", retry_after=0.01),
                                     LqAnswer("account", 503, code="MAINTENANCE", retry_after=0.01)])
def test_refused_or_failed_uploads_keep_the_order(tmp_path: Path, refusal: LqAnswer) -> None:
    bureau = FakeLq(upload_answer=answer_times(5, refusal))
    with merchant(tmp_path, bureau) as client:
        placed = [o["order_id"] for o in orders(4)]
        for o in orders(4):
            assert client.post("/invoices", json=o).status_code in (201, 202)
        drain(client)
        assert_one_invoice_each(client, bureau, placed)


def test_a_new_year_takes_a_range_of_that_year(tmp_path: Path) -> None:
    bureau = FakeLq(now=parse_kprq("2026-12-31 23:59:50"))
    with merchant(tmp_path, bureau) as client:
        first, second = orders(2)
        client.post("/invoices", json=first)
        drain(client)
        bureau.now = parse_kprq("2027-01-01 00:00:05")
        client.post("/invoices", json=second)
        drain(client)
        rows = ledger(client)
    assert rows[first["order_id"]]["invoice_number"].startswith("26")
    assert rows[second["order_id"]]["invoice_number"].startswith("27")
    assert [r["year"] for r in bureau.ranges] == [2026, 2027]


def test_a_restart_resumes_pending_orders_without_reusing_a_number(tmp_path: Path) -> None:
    bureau = FakeLq(processing_polls=10**6)
    batch = orders(6)
    with merchant(tmp_path, bureau) as client:
        for o in batch[:4]:
            assert client.post("/invoices", json=o).status_code == 202
    bureau.processing_polls = 0
    with merchant(tmp_path, bureau) as client:  # same state dir: the outbox and number book
        for o in batch[4:]:
            client.post("/invoices", json=o)
        drain(client)
        assert_one_invoice_each(client, bureau, [o["order_id"] for o in batch])
        numbers = [row["invoice_number"] for row in ledger(client).values()]
    assert len(set(numbers)) == 6


def test_reversals_are_not_offered_on_lq(tmp_path: Path) -> None:
    with merchant(tmp_path, FakeLq()) as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        drain(client)
        r = client.post(f"/invoices/{order['order_id']}/reverse", json={"reason": "01"})
        assert r.status_code == 409 and "--channel sync" in r.json()["error"]["message"]
        assert client.post("/invoices/nope/reverse", json={"reason": "01"}).status_code == 404


def test_an_invalid_order_never_reaches_the_bureau(tmp_path: Path) -> None:
    bureau = FakeLq()
    with merchant(tmp_path, bureau) as client:
        order = orders(1)[0]
        order["lines"][0]["tax_rate"] = "0.07"
        assert client.post("/invoices", json=order).status_code == 422
    assert bureau.calls["upload"] == 0

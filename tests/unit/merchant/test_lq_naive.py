"""The teaching profiles on the 乐企 channel: each documented mistake, against the in-memory bureau."""

from __future__ import annotations

import time
from pathlib import Path

from merchant_fake_bureau import times
from merchant_fake_lq import ACCOUNT, GONE, FakeLq, answer_times, ledger, merchant, orders

from fakes.bureau.clock import parse_kprq
from fakes.merchant.lq_time import cst_year


def on_time(**kwargs: object) -> FakeLq:
    """A bureau whose clock agrees with this machine's (naive dates by its own clock)."""
    return FakeLq(now=time.time(), **kwargs)  # type: ignore[arg-type]


def wait_until(predicate, limit_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + limit_s
    while not predicate() and time.monotonic() < end:
        time.sleep(0.02)
    assert predicate()


def test_naive_answers_201_at_the_upload_202_and_fails_on_a_later_refusal(tmp_path: Path) -> None:
    bureau = on_time(processing_polls=10**6)
    with merchant(tmp_path, bureau, "naive") as client:
        assert client.get("/health").json()["capabilities"] == ["lq", "stats"]
        [order] = orders(1)
        r = client.post("/invoices", json=order)
        assert r.status_code == 201 and r.json()["status"] == "issued"  # before any result: the mistake
        assert not bureau.accepted
        assert client.get("/stats").json()["pending"] == 1  # the drain still waits for the result
        assert ledger(client)[order["order_id"]]["invoice_number"] == r.json()["invoice_number"]
        bureau.verdict = lambda item: ("02", "QUOTA_EXCEEDED")
        bureau.processing_polls = 0
        wait_until(lambda: ledger(client)[order["order_id"]]["status"] == "failed")  # lost and dropped
    assert not bureau.accepted


def test_naive_trusts_03_without_a_lookup(tmp_path: Path) -> None:
    bureau = on_time()
    taken = f"{cst_year(bureau.now) % 100:02d}117000000000000001"  # the first number it will use
    bureau.accepted[taken] = {"invoice_number": taken, "external_id": "someone-else"}
    with merchant(tmp_path, bureau, "naive") as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        wait_until(lambda: ledger(client)[order["order_id"]]["status"] == "issued")
        assert ledger(client)[order["order_id"]]["invoice_number"] == taken  # another order's invoice
    assert bureau.calls["lookup"] == 0 and not bureau.blue_for(order["order_id"])


def test_naive_reuses_numbers_after_a_restart(tmp_path: Path) -> None:
    bureau = on_time()
    first, second = orders(4)[:2], orders(4)[2:]
    with merchant(tmp_path, bureau, "naive") as client:
        before = [client.post("/invoices", json=o).json()["invoice_number"] for o in first]
    with merchant(tmp_path, bureau, "naive") as client:  # its counter was in memory only
        after = [client.post("/invoices", json=o).json()["invoice_number"] for o in second]
        wait_until(lambda: client.get("/stats").json()["pending"] == 0)
        rows = ledger(client)
    assert after == before
    assert all(rows[o["order_id"]]["status"] == "issued" and not bureau.blue_for(o["order_id"]) for o in second)


def test_naive_dates_invoices_by_its_own_clock(tmp_path: Path) -> None:
    bureau = FakeLq(now=parse_kprq("2026-03-01 08:00:00"))  # the bureau is far behind this machine
    with merchant(tmp_path, bureau, "naive") as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        wait_until(lambda: ledger(client)[order["order_id"]]["status"] == "failed")
    [upload] = bureau.uploads.values()
    assert abs(parse_kprq(upload["invoices"][0]["issued_at"]) - time.time()) < 10
    assert upload["results"][0] == ("02", "ISSUED_IN_FUTURE")


def test_naive_stops_polling_after_410(tmp_path: Path) -> None:
    bureau = on_time(results_answer=lambda: GONE)
    with merchant(tmp_path, bureau, "naive") as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        wait_until(lambda: bureau.calls["results"] >= 1)
        time.sleep(0.8)
        assert bureau.calls["results"] == 1
        assert ledger(client)[order["order_id"]]["status"] == "pending"  # for ever: stuck


def test_naive_fails_an_order_on_an_account_level_refusal(tmp_path: Path) -> None:
    bureau = on_time(upload_answer=answer_times(1, ACCOUNT))
    with merchant(tmp_path, bureau, "naive") as client:
        [order] = orders(1)
        r = client.post("/invoices", json=order)
        assert r.status_code == 502 and "AUTH_EXPIRED" in r.json()["error"]["message"]
        assert ledger(client)[order["order_id"]]["status"] == "failed"  # dropped


def test_retrying_uploads_again_under_a_new_number_without_checking(tmp_path: Path) -> None:
    bureau = on_time(ghost_upload=times(1))
    with merchant(tmp_path, bureau, "retrying") as client:
        [order] = orders(1)
        assert client.post("/invoices", json=order).status_code == 201
        wait_until(lambda: client.get("/stats").json()["pending"] == 0)
    numbers = {i["invoice_number"] for i in bureau.blue_for(order["order_id"])}
    assert len(numbers) == 2  # two invoices for one order: duplicate


def test_reversals_are_not_offered_on_lq_by_naive(tmp_path: Path) -> None:
    with merchant(tmp_path, on_time(), "naive") as client:
        [order] = orders(1)
        client.post("/invoices", json=order)
        assert client.post(f"/invoices/{order['order_id']}/reverse", json={"reason": "01"}).status_code == 409

"""CONTRACT §5.4-§5.5 over HTTP, in-process: uploads, results, every detail code and their order."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from lqkit import (FAST, INVOICES, UPLOADS, allocate, at, codes, error_code, invoice, kprq, results, set_clock, upload,
                   upload_one)
from starlette.testclient import TestClient

from fakes.bureau.samples import sample_invoice

START = "2026-11-20T10:00:00+08:00"


@pytest.fixture
def lq(make_client: Any) -> TestClient:
    client: TestClient = make_client(clock_start=at(START), allow_reset=True, **FAST)
    return client


def test_upload_202_then_results_in_upload_order(lq: TestClient) -> None:
    a, b = allocate(lq, 2)
    now = kprq(at(START))
    resp = lq.post(UPLOADS, json={"invoices": [invoice(a, now), invoice(b, now, total_tax="1.00"), invoice(a, now)]})
    assert resp.status_code == 202 and set(resp.json()) == {"upload_id", "count"}
    upload_id = resp.json()["upload_id"]
    early = lq.get(f"{UPLOADS}/{upload_id}").json()
    assert set(early) == {"upload_id", "received_at", "results"} and early["received_at"].endswith("+08:00")
    assert [r["code"] for r in early["results"]] == ["01", "01", "01"]  # processing_s has not passed
    found = results(lq, upload_id)
    assert [r["invoice_number"] for r in found] == [a, b, a]
    assert codes(found) == [("00", None), ("02", "VALIDATION_FAILED"), ("03", "ALREADY_UPLOADED")]
    assert all(set(r) == {"invoice_number", "code", "message", "details"} and r["message"] for r in found)
    detail = found[1]["details"][0]
    assert detail["field"] == "total_tax" and set(detail) == {"field", "code", "message"}


def test_accepted_invoice_is_in_the_ledger_and_looked_up_by_number(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    upload_id = upload(lq, [invoice(number, "2026-11-20 09:59:00", request_id="REQ-7")])
    assert results(lq, upload_id)[0]["code"] == "00"
    record = lq.get(f"{INVOICES}/{number}").json()
    assert record["invoice_number"] == number and record["issued_at"] == "2026-11-20T09:59:00+08:00"
    assert record["status"] == "issued" and record["request_id"] == "REQ-7"
    (line,) = [json.loads(ln) for ln in lq.get("/admin/ledger").text.splitlines()]
    assert (line["channel"], line["upload_id"], line["issued_at"]) == ("lq", upload_id, "2026-11-20T09:59:00+08:00")
    assert lq.get(f"{INVOICES}/26117000000000000999").status_code == 404
    # The synchronous look-ups see the synchronous channel only.
    assert lq.get("/api/v1/invoices", params={"external_id": record["external_id"]}).json() == {"invoices": []}
    assert lq.get(f"/api/v1/invoices/{number}").status_code == 404


def test_lookup_is_lagged_results_are_not(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    lq.put("/admin/faults", json=[{"kind": "visibility_lag", "seconds": 30}])
    upload_id = upload(lq, [invoice(number, kprq(at(START)))])
    assert results(lq, upload_id)[0]["code"] == "00"
    assert lq.get(f"{INVOICES}/{number}").status_code == 404
    lq.delete("/admin/faults")
    assert lq.get(f"{INVOICES}/{number}").status_code == 200


def sized(number: str, issued_at: str, quantity: int) -> dict[str, Any]:
    """An invoice of ``quantity`` x 50.00 at 6%."""
    amount = 50 * quantity
    line = {**sample_invoice()["lines"][0], "quantity": str(quantity), "amount": f"{amount}.00",
            "tax_amount": f"{amount * 6 // 100}.{amount * 6 % 100:02d}"}
    tax = line["tax_amount"]
    return invoice(number, issued_at, lines=[line], total_amount=f"{amount}.00", total_tax=tax,
                   total_with_tax=f"{amount + float(tax):.2f}")


def test_the_checks_run_in_the_contract_order(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-11-29T10:00:00+08:00"), quota_monthly="150.00",
                         upload_deadline_s=20 * 86400, **FAST)
    nums = allocate(client, 8)
    foreign = "26117099999999999999"
    bad_tax = {"total_tax": "9.00", "total_with_tax": "109.00"}
    now = "2026-11-29 10:00:00"
    # Each row breaks every later rule too (where it can): the earliest check names the code.
    rows = [
        (invoice(foreign, "2027-01-01 00:00:00", **bad_tax), ("02", "VALIDATION_FAILED")),
        (invoice(foreign, "2027-01-01 00:00:00"), ("02", "NUMBER_NOT_ALLOCATED")),
        (invoice(nums[0], "2027-01-01 00:00:00"), ("02", "NUMBER_YEAR")),
        (invoice(nums[1], now), ("00", None)),
        (invoice(nums[1], "2026-11-29 10:30:00"), ("03", "ALREADY_UPLOADED")),  # also in the future
        (invoice(nums[2], "2026-11-29 10:05:01"), ("02", "ISSUED_IN_FUTURE")),
        (invoice(nums[3], "2026-11-29 10:05:00"), ("02", "QUOTA_EXCEEDED")),  # 300 s ahead is allowed
        (invoice(nums[4], "2026-11-09 09:59:59"), ("02", "DEADLINE_PASSED")),  # also over the quota
    ]
    assert codes(results(client, upload(client, [body for body, _ in rows]))) == [want for _, want in rows]
    set_clock(client, now="2026-12-13T00:00:00+08:00")
    client.put("/admin/faults", json=[{"kind": "upload_reject", "code": "NUMBER_YEAR"}])
    late = [invoice(nums[5], "2026-11-30 23:59:59"),  # closed month, also over November's quota
            sized(nums[6], "2026-12-12 00:00:01", 4),  # 200.00: over December's quota
            sized(nums[7], "2026-12-12 00:00:02", 1)]  # fine, but upload_reject comes last
    assert codes(results(client, upload(client, late))) == [
        ("02", "MONTH_CLOSED"), ("02", "QUOTA_EXCEEDED"), ("02", "NUMBER_YEAR")]


def test_month_close_refuses_what_was_held_across_it(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-11-30T23:00:00+08:00"), **FAST)
    nov, dec = allocate(client, 2)
    client.put("/admin/faults", json=[{"kind": "upload_stuck"}])  # held until removed
    first = upload(client, [invoice(nov, "2026-11-30 22:59:00")])  # received in time
    set_clock(client, now="2026-12-12T23:59:00+08:00")
    second = upload(client, [invoice(dec, "2026-12-12 23:58:00")])
    time.sleep(0.2)
    assert [r["code"] for r in client.get(f"{UPLOADS}/{first}").json()["results"]] == ["01"]
    set_clock(client, advance_s=120)  # past 00:00 on the 13th
    client.delete("/admin/faults")
    assert codes(results(client, first) + results(client, second)) == [("02", "MONTH_CLOSED"), ("00", None)]


def test_close_day_setting(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-12-01T00:00:01+08:00"), close_day=1, **FAST)
    (number,) = allocate(client, 1)
    assert upload_one(client, invoice(number, "2026-11-30 23:59:59"))["details"][0]["code"] == "MONTH_CLOSED"


def test_year_rollover(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-12-31T23:59:30+08:00"), **FAST)
    old = allocate(client, 3, request_id="Y26")
    set_clock(client, advance_s=60)
    new = allocate(client, 1, request_id="Y27")
    assert old[0].startswith("26") and new[0].startswith("27")
    found = results(client, upload(client, [
        invoice(old[0], "2027-01-01 00:00:10"),   # a 2026 number for a 2027 invoice: void
        invoice(old[1], "2026-12-31 23:59:50"),   # an old-year invoice uploaded in the new year: fine
        invoice(new[0], "2026-12-31 23:59:55"),   # a 2027 number for a 2026 invoice: void too
    ]))
    assert codes(found) == [("02", "NUMBER_YEAR"), ("00", None), ("02", "NUMBER_YEAR")]


def test_numbers_belong_to_their_seller(lq: TestClient) -> None:
    (theirs,) = allocate(lq, 1, seller="91230900MA1BDT4L60")
    assert upload_one(lq, invoice(theirs, kprq(at(START))))["details"][0]["code"] == "NUMBER_NOT_ALLOCATED"


@pytest.mark.parametrize("change,field", [
    ({"invoice_number": None}, "invoice_number"), ({"invoice_number": "123"}, "invoice_number"),
    ({"invoice_number": 26117000000000000001}, "invoice_number"), ({"issued_at": None}, "issued_at"),
    ({"issued_at": "2026-11-20T10:00:00+08:00"}, "issued_at"), ({"seller": None}, "seller"),
    ({"confirmation_id": "HZ1"}, "red_for"),
])
def test_upload_fields_are_validation_failures(lq: TestClient, change: dict[str, Any], field: str) -> None:
    (number,) = allocate(lq, 1)
    body = {**invoice(number, kprq(at(START))), **change}
    found = upload_one(lq, body)
    assert found["code"] == "02" and {d["code"] for d in found["details"]} == {"VALIDATION_FAILED"}
    assert field in [d["field"] for d in found["details"]]


def test_corrected_total_tax_rule_on_uploads(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    line = {"name": "*餐饮服务*餐费", "tax_code": "3070401000000000000", "amount": "1.00", "tax_rate": "0.06",
            "tax_amount": "0.12"}
    body = invoice(number, kprq(at(START)), lines=[line] * 30, total_amount="30.00", total_tax="3.60",
                   total_with_tax="33.60")
    found = upload_one(lq, body)
    assert found["code"] == "02" and found["details"][0]["field"] == "total_tax"


@pytest.mark.parametrize("raw,status", [(b"nope", 400), (b"", 400), (b"[]", 422), (b"{}", 422),
                                        (b'{"invoices": {}}', 422), (b'{"invoices": []}', 422),
                                        (b'{"invoices": [1, {}]}', 422)])
def test_broken_envelopes(lq: TestClient, raw: bytes, status: int) -> None:
    resp = lq.post(UPLOADS, content=raw)
    assert resp.status_code == status, resp.text
    assert error_code(resp) == ("MALFORMED_REQUEST" if status == 400 else "VALIDATION_FAILED")


def test_at_most_100_invoices_per_upload(lq: TestClient) -> None:
    body = invoice("26117000000000000001", kprq(at(START)))
    assert lq.post(UPLOADS, json={"invoices": [body] * 101}).status_code == 422
    assert lq.post(UPLOADS, json={"invoices": [body] * 100}).status_code == 202


def test_results_expire_after_result_ttl(make_client: Any) -> None:
    client = make_client(clock_start=at(START), result_ttl_s=3600, **FAST)
    a, b = allocate(client, 2)
    done = upload(client, [invoice(a, kprq(at(START)))])
    client.put("/admin/faults", json=[{"kind": "upload_stuck"}])
    held = upload(client, [invoice(b, kprq(at(START)))])
    results(client, done)
    set_clock(client, advance_s=3590)
    assert client.get(f"{UPLOADS}/{done}").status_code == 200  # not after the ttl yet
    set_clock(client, advance_s=11)
    resp = client.get(f"{UPLOADS}/{done}")
    assert resp.status_code == 410 and error_code(resp) == "RESULT_EXPIRED"
    set_clock(client, advance_s=86400)
    assert client.get(f"{UPLOADS}/{held}").status_code == 200  # held at 01: nothing expires
    assert client.get(f"{UPLOADS}/U999999999999999").status_code == 404
    # After expiry the number still tells: look it up, or upload again (03).
    assert client.get(f"{INVOICES}/{a}").status_code == 200
    client.delete("/admin/faults")
    assert upload_one(client, invoice(a, kprq(at(START))))["code"] == "03"


def test_upload_stuck_seconds_then_judged_at_release_time(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    lq.put("/admin/faults", json=[{"kind": "upload_stuck", "seconds": 0.4}])
    started = time.monotonic()
    upload_id = upload(lq, [invoice(number, kprq(at(START)))])
    lq.delete("/admin/faults")  # removing it does not shorten a stuck with seconds
    assert results(lq, upload_id)[0]["code"] == "00"
    assert time.monotonic() - started >= 0.4


def test_upload_reject_is_drawn_per_invoice(make_client: Any) -> None:
    client = make_client(clock_start=at(START), seed=5, **FAST)
    numbers = allocate(client, 40)
    client.put("/admin/faults", json=[{"kind": "upload_reject", "code": "DEADLINE_PASSED", "probability": 0.5}])
    found = codes(results(client, upload(client, [invoice(n, kprq(at(START))) for n in numbers])))
    assert set(found) == {("00", None), ("02", "DEADLINE_PASSED")}
    ledger = client.get("/admin/ledger").text.splitlines()
    assert len(ledger) == found.count(("00", None))  # nothing committed for the refused ones


def test_ghost_commit_on_an_upload_stores_and_processes_it(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    lq.put("/admin/faults", json=[{"kind": "ghost_commit", "match": {"path": UPLOADS}}])
    assert lq.post(UPLOADS, json={"invoices": [invoice(number, kprq(at(START)))]}).status_code == 504
    lq.delete("/admin/faults")
    deadline = time.monotonic() + 5
    while lq.get(f"{INVOICES}/{number}").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_uploads_are_processed_after_a_restart(make_client: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "restart.db")
    slow = make_client(db_path=db, clock_start=at(START), processing_s=3600)
    numbers = allocate(slow, 3)
    upload_id = upload(slow, [invoice(n, kprq(at(START))) for n in numbers])
    slow.__exit__(None, None, None)
    fast = make_client(db_path=db, **FAST)
    assert codes(results(fast, upload_id)) == [("00", None)] * 3


def test_request_log_has_one_line_per_invoice(lq: TestClient) -> None:
    a, b = allocate(lq, 2)
    upload_id = upload(lq, [invoice(a, kprq(at(START)), external_id="E-A"),
                            invoice(b, kprq(at(START)), external_id="E-B", total_tax="1.00")])
    results(lq, upload_id)
    lq.put("/admin/faults", json=[{"kind": "maintenance", "match": {"path": UPLOADS}}])
    lq.post(UPLOADS, json={"invoices": [invoice(a, kprq(at(START)), external_id="E-C")]})
    lines = [json.loads(ln) for ln in lq.get("/admin/requests").text.splitlines()]
    uploads = [ln for ln in lines if ln["path"] == UPLOADS]
    own, first, second, refused, refused_invoice = uploads
    assert own["upload_id"] == upload_id and own["status"] == 202 and own["error_code"] is None
    assert (first["invoice_number"], first["external_id"], first["result_code"], first["detail_code"]) == (a, "E-A", "00", None)
    assert (second["external_id"], second["result_code"], second["detail_code"]) == ("E-B", "02", "VALIDATION_FAILED")
    assert first["upload_id"] == second["upload_id"] == upload_id
    assert (refused["status"], refused["error_code"], refused["faults"]) == (503, "MAINTENANCE", ["maintenance"])
    assert (refused_invoice["external_id"], refused_invoice["result_code"], refused_invoice["upload_id"]) == ("E-C", None, None)
    ranges = [ln for ln in lines if ln["path"] == "/api/v1/lq/ranges"]
    assert ranges[0]["request_id"] == "R1" and ranges[0]["error_code"] is None


def test_reset_forgets_the_channel(lq: TestClient) -> None:
    numbers = allocate(lq, 2)
    results(lq, upload(lq, [invoice(numbers[0], kprq(at(START)))]))
    assert lq.post("/admin/reset").status_code == 200
    assert lq.get("/admin/ledger").text == ""
    assert upload_one(lq, invoice(numbers[1], kprq(at(START))))["details"][0]["code"] == "NUMBER_NOT_ALLOCATED"
    assert lq.get("/admin/stats").json()["lq"]["ranges"] == 0


def test_policy_change_acts_on_the_invoices_of_an_upload_received_under_it(lq: TestClient) -> None:
    a, b = allocate(lq, 2)
    lq.put("/admin/faults", json=[{"kind": "policy_change", "rates": ["0.13"], "match": {"path": UPLOADS}}])
    under = upload(lq, [invoice(a, kprq(at(START)))])
    lq.delete("/admin/faults")
    after = upload(lq, [invoice(b, kprq(at(START)))])
    refused = results(lq, under)[0]
    assert refused["code"] == "02" and refused["details"][0]["field"] == "lines[0].tax_rate"
    assert results(lq, after)[0]["code"] == "00"


def test_false_duplicate_and_error_on_uploads_store_nothing(lq: TestClient) -> None:
    (number,) = allocate(lq, 1)
    for fault in ({"kind": "false_duplicate"}, {"kind": "error", "status": 503}):
        lq.put("/admin/faults", json=[{**fault, "match": {"path": UPLOADS}}])
        assert lq.post(UPLOADS, json={"invoices": [invoice(number, kprq(at(START)))]}).status_code in (409, 503)
    lq.delete("/admin/faults")
    time.sleep(0.2)
    assert lq.get(f"{INVOICES}/{number}").status_code == 404 and lq.get("/admin/stats").json()["lq"]["accepted"] == 0

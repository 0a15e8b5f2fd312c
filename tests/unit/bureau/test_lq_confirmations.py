"""CONTRACT §5.6 over HTTP, in-process: red-letter confirmations and red uploads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lqkit import CONFIRMATIONS, FAST, INVOICES, allocate, at, error_code, invoice, set_clock, upload_one
from starlette.testclient import TestClient

START = "2026-11-20T10:00:00+08:00"
DATE = "2026-11-20 10:00:00"


@pytest.fixture
def lq(make_client: Any) -> TestClient:
    client: TestClient = make_client(clock_start=at(START), **FAST)
    return client


def blue(client: TestClient, quantity: int = 2) -> tuple[str, list[str]]:
    """An accepted blue invoice of ``quantity`` x 50.00 at 6%, and numbers for its reds."""
    first, *spare = allocate(client, 5, request_id=f"R{len(client.get('/admin/ledger').text)}")
    amount = 50 * quantity
    line = {"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
            "quantity": str(quantity), "unit_price": "50.00", "amount": f"{amount}.00", "tax_rate": "0.06",
            "tax_amount": f"{amount * 0.06:.2f}"}
    body = invoice(first, DATE, lines=[line], total_amount=line["amount"], total_tax=line["tax_amount"],
                   total_with_tax=f"{amount * 1.06:.2f}")
    assert upload_one(client, body)["code"] == "00"
    return first, spare


def apply(client: TestClient, number: str, reason: str = "01") -> Any:
    return client.post(CONFIRMATIONS, json={"blue_invoice_number": number, "reason": reason, "initiator": "seller"})


def red(client: TestClient, number: str, blue_number: str, confirmation_id: str, quantity: int) -> dict[str, Any]:
    """A red invoice taking ``quantity`` x 50.00 off the blue one."""
    record = client.get(f"{INVOICES}/{blue_number}").json()
    amount = 50 * quantity
    line = {**record["lines"][0], "quantity": f"-{quantity}", "amount": f"-{amount}.00",
            "tax_amount": f"-{amount * 0.06:.2f}"}
    return invoice(number, DATE, external_id=record["external_id"], lines=[line], total_amount=line["amount"],
                   total_tax=line["tax_amount"], total_with_tax=f"-{amount * 1.06:.2f}",
                   red_for=blue_number, confirmation_id=confirmation_id)


def confirmed(client: TestClient, number: str, reason: str = "01") -> str:
    resp = apply(client, number, reason)
    assert resp.status_code == 201 and resp.json()["status"] == "02", resp.text
    conf_id: str = resp.json()["confirmation_id"]
    set_clock(client, advance_s=3)  # buyer_delay_s (2 bureau seconds) passes
    assert client.get(f"{CONFIRMATIONS}/{conf_id}").json()["status"] == "04"
    return conf_id


def test_apply_wait_for_the_buyer_then_reverse_in_full(lq: TestClient) -> None:
    number, spare = blue(lq)
    resp = apply(lq, number)
    assert resp.status_code == 201 and set(resp.json()) == {"confirmation_id", "status"}
    assert resp.json()["status"] == "02"  # the simulated buyer has used the blue invoice
    conf_id = resp.json()["confirmation_id"]
    again = apply(lq, number)
    assert again.status_code == 409 and error_code(again) == "CONFIRMATION_IN_PROGRESS"
    assert again.json()["error"]["confirmation_id"] == conf_id
    early = upload_one(lq, red(lq, spare[0], number, conf_id, 2))
    assert early["code"] == "02" and early["details"][0]["field"] == "confirmation_id"  # not confirmed yet
    set_clock(lq, advance_s=3)
    assert lq.get(f"{CONFIRMATIONS}/{conf_id}").json()["status"] == "04"
    assert upload_one(lq, red(lq, spare[1], number, conf_id, 2))["code"] == "00"
    assert lq.get(f"{INVOICES}/{number}").json()["status"] == "reversed"
    record = lq.get(f"{INVOICES}/{spare[1]}").json()
    assert (record["red_for"], record["confirmation_id"], record["reason"]) == (number, conf_id, "01")
    assert lq.get(f"{CONFIRMATIONS}/{conf_id}").json()["red_invoice_number"] == spare[1]
    done = apply(lq, number)
    assert done.status_code == 409 and error_code(done) == "ALREADY_REVERSED"
    assert done.json()["error"]["invoice_number"] == spare[1]
    ledger = [json.loads(ln) for ln in lq.get("/admin/ledger").text.splitlines()]
    assert [(ln["invoice_number"], ln["status"], ln["channel"]) for ln in ledger] == [
        (number, "reversed", "lq"), (spare[1], "issued", "lq")]


def test_reason_01_must_reverse_in_full(lq: TestClient) -> None:
    number, spare = blue(lq, quantity=2)
    conf_id = confirmed(lq, number, "01")
    partial = upload_one(lq, red(lq, spare[0], number, conf_id, 1))
    assert partial["code"] == "02" and partial["details"][0]["code"] == "VALIDATION_FAILED"
    assert "NOT_IN_FULL" in partial["details"][0]["message"]


def test_reason_02_returns_quantities_until_nothing_remains(lq: TestClient) -> None:
    number, spare = blue(lq, quantity=3)
    first = confirmed(lq, number, "02")
    assert upload_one(lq, red(lq, spare[0], number, first, 1))["code"] == "00"
    assert lq.get(f"{INVOICES}/{number}").json()["status"] == "issued"  # 2 remain
    second = confirmed(lq, number, "02")  # the first is used: a new application is open to it
    too_much = upload_one(lq, red(lq, spare[1], number, second, 3))
    assert too_much["code"] == "02" and "MORE_THAN_REMAINS" in too_much["details"][0]["message"]
    other_price = red(lq, spare[2], number, second, 2)
    other_price["lines"][0].update(unit_price="60.00", amount="-120.00", tax_amount="-7.20")
    other_price.update(total_amount="-120.00", total_tax="-7.20", total_with_tax="-127.20")
    refused = upload_one(lq, other_price)
    assert refused["code"] == "02" and refused["details"][0]["field"] == "lines[0].unit_price"
    assert upload_one(lq, red(lq, spare[3], number, second, 2))["code"] == "00"
    assert lq.get(f"{INVOICES}/{number}").json()["status"] == "reversed"


def test_a_silent_buyer_voids_the_confirmation_after_72_hours(make_client: Any) -> None:
    client = make_client(clock_start=at(START), buyer_confirms=0, **FAST)
    number, spare = blue(client)
    conf_id = apply(client, number).json()["confirmation_id"]
    set_clock(client, advance_s=72 * 3600 - 60)
    assert client.get(f"{CONFIRMATIONS}/{conf_id}").json()["status"] == "02"
    set_clock(client, advance_s=60)
    assert client.get(f"{CONFIRMATIONS}/{conf_id}").json()["status"] == "07"
    assert upload_one(client, red(client, spare[0], number, conf_id, 2))["details"][0]["field"] == "confirmation_id"
    assert apply(client, number).status_code == 201  # a void one is no longer open


def test_applications_need_a_visible_blue_invoice(lq: TestClient) -> None:
    number, _ = blue(lq)
    lq.put("/admin/faults", json=[{"kind": "visibility_lag", "seconds": 60}])
    hidden = apply(lq, number)
    assert hidden.status_code == 404 and "蓝字发票不存在" in hidden.json()["error"]["message"]
    lq.delete("/admin/faults")
    assert apply(lq, "26117000000000009999").status_code == 404
    assert lq.get(f"{CONFIRMATIONS}/HZ0000000000000404").status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"reason": "01", "initiator": "seller"}, "blue_invoice_number"),
    ({"blue_invoice_number": "26117000000000000001", "reason": "05", "initiator": "seller"}, "reason"),
    ({"blue_invoice_number": "26117000000000000001", "reason": "01", "initiator": "buyer"}, "initiator"),
    ({"blue_invoice_number": "26117000000000000001", "reason": "01"}, "initiator"),
])
def test_bad_applications_are_422(lq: TestClient, body: dict[str, Any], field: str) -> None:
    resp = lq.post(CONFIRMATIONS, json=body)
    assert resp.status_code == 422 and [d["field"] for d in resp.json()["error"]["details"]] == [field]
    assert lq.post(CONFIRMATIONS, content=b"[]").status_code == 400


def test_red_uploads_must_mirror_their_blue_invoice(lq: TestClient) -> None:
    number, spare = blue(lq)
    conf_id = confirmed(lq, number)
    other_buyer = red(lq, spare[0], number, conf_id, 2)
    other_buyer["buyer"] = {"name": "别的公司", "tax_id": "91230900MA1BDT4L60"}
    found = upload_one(lq, other_buyer)
    assert {d["field"] for d in found["details"]} == {"buyer.tax_id", "buyer.name"}
    positive = red(lq, spare[1], number, conf_id, 2)
    positive["lines"][0]["quantity"] = "2"
    assert upload_one(lq, positive)["details"][0]["field"] == "lines[0].quantity"
    wrong_blue = red(lq, spare[2], number, conf_id, 2)
    wrong_blue["red_for"] = "26117000000000009999"
    assert upload_one(lq, wrong_blue)["details"][0]["field"] == "red_for"


def test_quota_exhausted_does_not_refuse_red_invoices(lq: TestClient) -> None:
    number, spare = blue(lq)
    conf_id = confirmed(lq, number)
    lq.put("/admin/faults", json=[{"kind": "quota_exhausted"}])
    assert upload_one(lq, red(lq, spare[0], number, conf_id, 2))["code"] == "00"

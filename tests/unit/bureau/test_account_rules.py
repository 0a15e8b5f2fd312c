"""CONTRACT §5.2 over HTTP, in-process: the monthly quota, quota_exhausted and auth_expired."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lqkit import CONFIRMATIONS, FAST, INVOICES, RANGES, UPLOADS, allocate, at, error_code, invoice, set_clock, upload_one

from fakes.bureau.samples import SELLER_TAX_ID, sample_invoice

ISSUE = "/api/v1/invoices"
OTHER_SELLER = {"tax_id": "91230900MA1BDT4L60", "name": "哈尔滨示例"}


def test_quota_per_seller_per_month_on_both_channels(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-11-30T23:00:00+08:00"), quota_monthly="250.00", **FAST)
    assert client.post(ISSUE, json=sample_invoice(request_id="A")).status_code == 201  # 100 of 250
    (number,) = allocate(client, 1)
    assert upload_one(client, invoice(number, "2026-11-30 23:00:00"))["code"] == "00"  # 200 of 250
    over = client.post(ISSUE, json=sample_invoice(request_id="B"))
    assert over.status_code == 403 and error_code(over) == "QUOTA_EXCEEDED"
    assert client.post(ISSUE, json=sample_invoice(request_id="A")).status_code == 200  # a replay issues nothing
    assert client.post(ISSUE, json=sample_invoice(request_id="C", seller=OTHER_SELLER)).status_code == 201
    set_clock(client, advance_s=3600)  # December (bureau time): a new month restores it
    assert client.post(ISSUE, json=sample_invoice(request_id="B")).status_code == 201
    # An upload counts in the month of its issued_at.
    (late,) = allocate(client, 1, request_id="R2")
    found = upload_one(client, invoice(late, "2026-11-30 23:30:00"))
    assert (found["code"], found["details"][0]["code"]) == ("02", "QUOTA_EXCEEDED")


def test_quota_is_rebuilt_after_a_restart(make_client: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "quota.db")
    first = make_client(db_path=db, quota_monthly="150.00")
    assert first.post(ISSUE, json=sample_invoice(request_id="A")).status_code == 201
    first.__exit__(None, None, None)
    second = make_client(db_path=db, quota_monthly="150.00")
    assert second.post(ISSUE, json=sample_invoice(request_id="B")).status_code == 403


def test_quota_exhausted_refuses_blue_invoices_only(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-11-20T10:00:00+08:00"), **FAST)
    blue = client.post(ISSUE, json=sample_invoice(request_id="A")).json()["invoice_number"]
    client.put("/admin/faults", json=[{"kind": "quota_exhausted"}])
    refused = client.post(ISSUE, json=sample_invoice(request_id="B"))
    assert refused.status_code == 403 and error_code(refused) == "QUOTA_EXCEEDED"
    (number,) = allocate(client, 1)  # range allocations are not refused
    found = upload_one(client, invoice(number, "2026-11-20 10:00:00"))
    assert (found["code"], found["details"][0]["code"]) == ("02", "QUOTA_EXCEEDED")
    red = client.post(f"{ISSUE}/{blue}/red-letter", json={"reason": "01"})
    assert red.status_code == 201  # red invoices are not refused
    client.delete("/admin/faults")
    assert client.post(ISSUE, json=sample_invoice(request_id="B")).status_code == 201
    log = client.get("/admin/requests").text
    assert '"faults":["quota_exhausted"]' in log and '"error_code":"QUOTA_EXCEEDED"' in log


def test_auth_expired_answers_every_public_call(client: Any) -> None:
    client.put("/admin/faults", json=[{"kind": "auth_expired"}])
    calls = [("GET", "/api/v1/time"), ("POST", ISSUE), ("GET", f"{ISSUE}/26112000000000000001"), ("POST", RANGES),
             ("POST", UPLOADS), ("GET", f"{UPLOADS}/U1"), ("GET", f"{INVOICES}/1"), ("POST", CONFIRMATIONS)]
    for method, path in calls:
        resp = client.request(method, path, json={"request_id": "R", "seller_tax_id": SELLER_TAX_ID, "count": 1})
        assert resp.status_code == 401 and error_code(resp) == "AUTH_EXPIRED", path
        assert resp.headers["X-Bureau-Time"].endswith("+08:00")
    assert client.get("/admin/stats").status_code == 200 and client.get("/health").status_code == 200
    client.delete("/admin/faults")
    assert client.get("/api/v1/time").status_code == 200

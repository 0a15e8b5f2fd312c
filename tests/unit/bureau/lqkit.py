"""Helpers for the asynchronous channel's tests (CONTRACT §5): clock, ranges, uploads, results."""

from __future__ import annotations

import time
from typing import Any

import httpx
from starlette.testclient import TestClient

from fakes.bureau.clock import CST_OFFSET_S, parse_rfc3339
from fakes.bureau.samples import SELLER_TAX_ID, sample_invoice

RANGES = "/api/v1/lq/ranges"
UPLOADS = "/api/v1/lq/uploads"
INVOICES = "/api/v1/lq/invoices"
CONFIRMATIONS = "/api/v1/lq/red-confirmations"
FAST = {"processing_s": 0.05}  # settings for tests that wait for results


def at(text: str) -> float:
    """Epoch seconds of an RFC 3339 time (test dates read better as text)."""
    return parse_rfc3339(text)


def kprq(epoch: float) -> str:
    """开票日期 ``yyyy-MM-dd HH:mm:ss`` (CST) of an epoch time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(epoch) + CST_OFFSET_S))


def bureau_now(client: TestClient) -> float:
    return parse_rfc3339(client.get("/admin/clock").json()["now"])


def set_clock(client: TestClient, **change: Any) -> dict[str, Any]:
    resp = client.put("/admin/clock", json=change)
    assert resp.status_code == 200, resp.text
    clock: dict[str, Any] = resp.json()
    return clock


def allocate(client: TestClient, count: int = 10, request_id: str = "R1", seller: str = SELLER_TAX_ID) -> list[str]:
    """The numbers of a freshly allocated range."""
    resp = client.post(RANGES, json={"request_id": request_id, "seller_tax_id": seller, "count": count})
    assert resp.status_code == 201, resp.text
    first = resp.json()["first"]
    return [f"{first[:6]}{int(first[6:]) + i:014d}" for i in range(count)]


def invoice(number: str, issued_at: str, **overrides: Any) -> dict[str, Any]:
    body = sample_invoice(external_id=f"ORDER-{number[-6:]}", invoice_number=number, issued_at=issued_at)
    body.update(overrides)
    return body


def upload(client: TestClient, invoices: list[dict[str, Any]]) -> str:
    resp = client.post(UPLOADS, json={"invoices": invoices})
    assert resp.status_code == 202, resp.text
    assert resp.json()["count"] == len(invoices)
    upload_id: str = resp.json()["upload_id"]
    return upload_id


def results(client: TestClient, upload_id: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The upload's results once none is 01 any more (fails after ``timeout`` real seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = client.get(f"{UPLOADS}/{upload_id}")
        assert resp.status_code == 200, resp.text
        found: list[dict[str, Any]] = resp.json()["results"]
        if all(r["code"] != "01" for r in found):
            return found
        assert time.monotonic() < deadline, f"still processing after {timeout} s: {found}"
        time.sleep(0.02)


def upload_one(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """Upload one invoice and wait for its result."""
    return results(client, upload(client, [body]))[0]


def codes(found: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """(code, first detail code) of each result."""
    return [(r["code"], r["details"][0]["code"] if r["details"] else None) for r in found]


def error_code(resp: httpx.Response) -> str:
    code: str = resp.json()["error"]["code"]
    return code

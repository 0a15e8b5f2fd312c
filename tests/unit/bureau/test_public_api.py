"""CONTRACT §1 over HTTP, in-process: statuses, error shape, dedup, reads, red-letter."""

from __future__ import annotations

import json
from typing import Any

import httpx
from starlette.testclient import TestClient

from fakes.bureau.samples import sample_invoice

ISSUE = "/api/v1/invoices"


def error_of(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error: dict[str, Any] = resp.json()["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in resp.text
    return error


def issue(client: TestClient, **overrides: Any) -> httpx.Response:
    resp: httpx.Response = client.post(ISSUE, json=sample_invoice(**overrides))
    return resp


def test_issue_returns_the_record(client: TestClient) -> None:
    resp = issue(client, junk={"x": 1})
    assert resp.status_code == 201
    record = resp.json()
    number = record["invoice_number"]
    assert len(number) == 20 and number.isdigit() and number[2:5] == "112"
    assert record["status"] == "issued" and record["red_for"] is None
    assert record["external_id"] == "ORDER-000123" and record["total_with_tax"] == "106.00"
    assert record["issued_at"].endswith("+08:00")
    assert "junk" not in record  # unknown fields are ignored and not stored
    assert client.get(f"{ISSUE}/{number}").json() == record


def test_numbers_are_unique_and_increasing(client: TestClient) -> None:
    numbers = [issue(client, request_id=f"R{i}").json()["invoice_number"] for i in range(5)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 5


def test_replay_is_200_with_the_original(client: TestClient) -> None:
    first = issue(client)
    # Same payload, different key order and whitespace: still the same parsed JSON.
    raw = json.dumps(dict(reversed(list(sample_invoice().items()))), indent=2)
    again = client.post(ISSUE, content=raw, headers={"content-type": "application/json"})
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["invoice_number"] == first.json()["invoice_number"]
    assert client.get("/admin/stats").json()["invoices"] == 1


def test_same_request_id_other_payload_is_409_with_original_number(client: TestClient) -> None:
    number = issue(client).json()["invoice_number"]
    error = error_of(issue(client, external_id="OTHER"), 409, "DUPLICATE_REQUEST")
    assert error["invoice_number"] == number


def test_request_id_is_per_seller(client: TestClient) -> None:
    issue(client)
    other = issue(client, seller={"tax_id": "91230900MA1BDT4L60", "name": "哈尔滨示例"})
    assert other.status_code == 201


def test_dedup_none_issues_every_post(make_client: Any) -> None:
    client = make_client(dedup="none")
    a, b = issue(client), issue(client)
    assert a.status_code == b.status_code == 201
    assert a.json()["invoice_number"] != b.json()["invoice_number"]


def test_validation_runs_before_dedup(client: TestClient) -> None:
    issue(client)
    error = error_of(issue(client, total_with_tax="1.00"), 422, "VALIDATION_FAILED")
    assert [d["field"] for d in error["details"]] == ["total_with_tax"]


def test_422_details_name_each_field(client: TestClient) -> None:
    body = sample_invoice()
    body["lines"][0]["tax_amount"] = "6.10"
    body["lines"][0]["tax_code"] = "123"
    error = error_of(client.post(ISSUE, json=body), 422, "VALIDATION_FAILED")
    fields = {d["field"] for d in error["details"]}
    assert {"lines[0].tax_amount", "lines[0].tax_code"} <= fields
    assert all(set(d) == {"field", "code", "message"} for d in error["details"])


def test_400_for_anything_but_a_json_object(client: TestClient) -> None:
    for raw in (b"[1]", b"nope", b"", b'"x"', b"\xff\xfe", b"NaN", b"[" * 100_000):
        error_of(client.post(ISSUE, content=raw), 400, "MALFORMED_REQUEST")


def test_duplicate_keys_last_one_counts(client: TestClient) -> None:
    raw = json.dumps(sample_invoice())[:-1] + ', "external_id": "LAST"}'
    assert client.post(ISSUE, content=raw).json()["external_id"] == "LAST"


def test_413_over_the_limit(make_client: Any) -> None:
    client = make_client(max_body_bytes=2000)
    error_of(client.post(ISSUE, content=b"{" + b" " * 3000 + b"}"), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Any:  # no content-length: counted while streaming
        for _ in range(10):
            yield b" " * 500

    error_of(client.post(ISSUE, content=chunks()), 413, "PAYLOAD_TOO_LARGE")


def test_lone_surrogate_is_422_not_500(client: TestClient) -> None:
    raw = json.dumps(sample_invoice()).replace("ORDER-000123", "\\ud800")
    error = error_of(client.post(ISSUE, content=raw), 422, "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "external_id"


def test_reads_by_external_id_and_request_id(client: TestClient) -> None:
    a = issue(client, request_id="A", external_id="E1").json()
    issue(client, request_id="B", external_id="E1")
    issue(client, request_id="A2", external_id="E2")
    assert [r["request_id"] for r in client.get(ISSUE, params={"external_id": "E1"}).json()["invoices"]] == ["A", "B"]
    both = client.get(ISSUE, params={"external_id": "E1", "request_id": "A"}).json()["invoices"]
    assert [r["invoice_number"] for r in both] == [a["invoice_number"]]
    assert client.get(ISSUE, params={"external_id": "none"}).json() == {"invoices": []}
    error_of(client.get(ISSUE), 400, "MALFORMED_REQUEST")
    error_of(client.get(f"{ISSUE}/26112000000000009999"), 404, "NOT_FOUND")


def test_red_letter(client: TestClient) -> None:
    blue = issue(client).json()
    url = f"{ISSUE}/{blue['invoice_number']}/red-letter"
    red = client.post(url, json={"request_id": "RED-1", "reason": "02"})
    assert red.status_code == 201
    record = red.json()
    assert record["red_for"] == blue["invoice_number"] and record["external_id"] == blue["external_id"]
    assert record["total_with_tax"] == "-106.00" and record["lines"][0]["amount"] == "-100.00"
    assert client.get(f"{ISSUE}/{blue['invoice_number']}").json()["status"] == "reversed"
    replay = client.post(url, json={"request_id": "RED-1", "reason": "02"})
    assert replay.status_code == 200 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["invoice_number"] == record["invoice_number"]
    again = error_of(client.post(url, json={"reason": "01"}), 409, "ALREADY_REVERSED")
    assert again["invoice_number"] == record["invoice_number"]
    listed = client.get(ISSUE, params={"external_id": blue["external_id"]}).json()["invoices"]
    assert [r["red_for"] for r in listed] == [None, blue["invoice_number"]]


def test_red_letter_errors(client: TestClient) -> None:
    error_of(client.post(f"{ISSUE}/26112000000000000404/red-letter", json={"reason": "01"}), 404, "NOT_FOUND")
    blue = issue(client).json()["invoice_number"]
    url = f"{ISSUE}/{blue}/red-letter"
    error = error_of(client.post(url, json={"reason": "05"}), 422, "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "reason"
    error_of(client.post(url, content=b"[]"), 400, "MALFORMED_REQUEST")
    red = client.post(url, json={"reason": "01"}).json()["invoice_number"]
    error = error_of(client.post(f"{ISSUE}/{red}/red-letter", json={"reason": "01"}), 422, "VALIDATION_FAILED")
    assert error["details"][0]["field"] == "invoice_number"


def test_unknown_route_has_the_error_shape(client: TestClient) -> None:
    error_of(client.get("/api/v1/nothing"), 404, "NOT_FOUND")
    error_of(client.delete(ISSUE), 405, "METHOD_NOT_ALLOWED")


def test_numbering_continues_after_restart_and_reset(make_client: Any, tmp_path: Any) -> None:
    db = str(tmp_path / "same.db")
    first = make_client(db_path=db, allow_reset=True)
    n1 = issue(first).json()["invoice_number"]
    first.post("/admin/reset")
    n2 = issue(first).json()["invoice_number"]
    first.__exit__(None, None, None)
    second = make_client(db_path=db)
    replay = issue(second)
    assert replay.status_code == 200 and replay.json()["invoice_number"] == n2  # dedup index survives
    n3 = issue(second, request_id="NEW").json()["invoice_number"]
    assert int(n1[5:]) < int(n2[5:]) < int(n3[5:])


def test_unknown_fields_with_lone_surrogates_are_harmless(client: TestClient) -> None:
    raw = json.dumps(sample_invoice())[:-1] + ', "note": "\\ud800"}'
    assert client.post(ISSUE, content=raw).status_code == 201
    number = client.get(ISSUE, params={"external_id": "ORDER-000123"}).json()["invoices"][0]["invoice_number"]
    red = client.post(f"{ISSUE}/{number}/red-letter", content='{"reason": "01", "request_id": "R", "x": "\\udfff"}')
    assert red.status_code == 201
    again = client.post(f"{ISSUE}/{number}/red-letter", content='{"reason": "01", "request_id": "R", "x": "\\udfff"}')
    assert again.status_code == 200

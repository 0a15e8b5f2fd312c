"""CONTRACT §5.3 over HTTP, in-process: number ranges (号段)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lqkit import RANGES, at, error_code
from starlette.testclient import TestClient

from fakes.bureau.samples import SELLER_TAX_ID

OTHER_SELLER = "91230900MA1BDT4L60"


def ask(client: TestClient, request_id: str = "R1", count: Any = 10, seller: Any = SELLER_TAX_ID) -> Any:
    return client.post(RANGES, json={"request_id": request_id, "seller_tax_id": seller, "count": count})


def test_a_range_is_contiguous_20_digit_numbers(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-06-01T10:00:00+08:00"), region="31")
    resp = ask(client, count=5000)
    assert resp.status_code == 201
    body = resp.json()
    assert set(body) == {"range_id", "year", "first", "last", "count"}
    assert (body["year"], body["count"]) == (2026, 5000)
    first, last = body["first"], body["last"]
    assert len(first) == len(last) == 20 and first[:6] == last[:6] == "263170"  # YY, region, 70 (乐企 自用)
    assert int(last[6:]) - int(first[6:]) == 4999


def test_repeat_replays_other_count_is_409(client: TestClient) -> None:
    first = ask(client).json()
    again = ask(client)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true" and again.json() == first
    other = ask(client, count=11)
    assert other.status_code == 409 and error_code(other) == "DUPLICATE_REQUEST"
    assert ask(client, seller=OTHER_SELLER).status_code == 201  # request ids are per seller


def test_ranges_never_overlap(client: TestClient) -> None:
    spans = []
    for i in range(30):
        body = ask(client, request_id=f"R{i}", count=1 + (i * 37) % 200, seller=(SELLER_TAX_ID, OTHER_SELLER)[i % 2]).json()
        spans.append((int(body["first"][6:]), int(body["last"][6:])))
    spans.sort()
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))


@pytest.mark.parametrize("body,field", [
    ({"seller_tax_id": SELLER_TAX_ID, "count": 1}, "request_id"),
    ({"request_id": "bad id!", "seller_tax_id": SELLER_TAX_ID, "count": 1}, "request_id"),
    ({"request_id": "R", "seller_tax_id": "91110108551385082A", "count": 1}, "seller_tax_id"),
    ({"request_id": "R", "count": 1}, "seller_tax_id"),
    ({"request_id": "R", "seller_tax_id": SELLER_TAX_ID, "count": 0}, "count"),
    ({"request_id": "R", "seller_tax_id": SELLER_TAX_ID, "count": 5001}, "count"),
    ({"request_id": "R", "seller_tax_id": SELLER_TAX_ID, "count": "10"}, "count"),
    ({"request_id": "R", "seller_tax_id": SELLER_TAX_ID, "count": True}, "count"),
    ({"request_id": "R", "seller_tax_id": SELLER_TAX_ID}, "count"),
])
def test_bad_requests_are_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str) -> None:
    resp = client.post(RANGES, json=body)
    assert resp.status_code == 422 and error_code(resp) == "VALIDATION_FAILED"
    assert [d["field"] for d in resp.json()["error"]["details"]] == [field]


def test_not_an_object_is_400(client: TestClient) -> None:
    for raw in (b"[]", b"{", b""):
        resp = client.post(RANGES, content=raw)
        assert resp.status_code == 400 and error_code(resp) == "MALFORMED_REQUEST"


def test_the_year_is_bureau_time_at_allocation(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-12-31T23:59:59+08:00"))
    client.put("/admin/clock", json={"advance_s": 2})
    body = ask(client).json()
    assert body["year"] == 2027 and body["first"].startswith("27")


def test_ranges_survive_restart_and_reset_without_reuse(make_client: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "ranges.db")
    first = make_client(db_path=db, allow_reset=True)
    a = ask(first, request_id="A").json()
    first.__exit__(None, None, None)
    second = make_client(db_path=db, allow_reset=True)
    assert ask(second, request_id="A").json() == a  # the replay index survives
    b = ask(second, request_id="B").json()
    assert int(b["first"][6:]) > int(a["last"][6:])
    assert second.post("/admin/reset").status_code == 200
    c = ask(second, request_id="A").json()  # forgotten by the reset, but its numbers are not reused
    assert int(c["first"][6:]) > int(b["last"][6:])


def test_ghost_commit_allocates_then_fails(client: TestClient) -> None:
    client.put("/admin/faults", json=[{"kind": "ghost_commit", "match": {"path": RANGES}}])
    assert ask(client).status_code == 504
    client.delete("/admin/faults")
    replay = ask(client)
    assert replay.status_code == 200 and replay.json()["count"] == 10  # it was allocated

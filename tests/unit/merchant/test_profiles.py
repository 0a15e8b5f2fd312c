"""The three profiles through the HTTP contract, against the in-memory bureau."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from merchant_fake_bureau import FakeBureau, always, times

from fakes.merchant.app import Settings, create_app
from fakes.merchant.orders import Seller
from fakes.merchant.resilience import AttemptTimeout, Backoff
from fakes.merchant.resilient import Tuning
from harness.data.orders import OrderFactory

SELLER = Seller("91110108551385082Q", "北京示例科技有限公司")
FAST = Tuning(confirm_wait_s=0.5, backoff=Backoff(base_s=0.005, cap_s=0.02),
              attempt_timeout=AttemptTimeout(first_s=0.5, cap_s=1.0), max_pending=50)


@contextmanager
def merchant(tmp_path: Path, bureau: FakeBureau, profile: str = "resilient", tuning: Tuning = FAST) -> Iterator[TestClient]:
    settings = Settings("http://unused", tmp_path, SELLER, profile=profile, tuning=tuning, seed=1)
    with TestClient(create_app(settings, bureau=bureau)) as client:
        yield client


def orders(n: int) -> list[dict[str, Any]]:
    f = OrderFactory(3, "t")
    return [f.next() for _ in range(n)]


def drain(client: TestClient, limit_s: float = 5.0) -> None:
    end = time.monotonic() + limit_s
    while client.get("/stats").json()["pending"] and time.monotonic() < end:
        time.sleep(0.02)
    assert client.get("/stats").json()["pending"] == 0


def anomalies(client: TestClient, bureau: FakeBureau, placed: list[str]) -> dict[str, list[str]]:
    """CONTRACT §4 anomalies, as far as the in-memory ledger tells them."""
    ledger = {o["order_id"]: o for o in client.get("/ledger").json()["invoices"]}
    out: dict[str, list[str]] = {"lost": [], "duplicate": [], "phantom": [], "mismatch": []}
    for oid in placed:
        blue = bureau.blue_for(oid)
        mine = ledger.get(oid)
        if mine and mine["status"] == "issued" and not blue:
            out["lost"].append(oid)
        if len(blue) > 1:
            out["duplicate"].append(oid)
        if blue and (mine is None or mine["status"] == "failed"):
            out["phantom"].append(oid)
        if blue and mine and mine.get("invoice_number") not in (None, *(b["invoice_number"] for b in blue)):
            out["mismatch"].append(oid)
    return out


def test_health_lists_capabilities(tmp_path: Path) -> None:
    with merchant(tmp_path, FakeBureau()) as c:
        assert c.get("/health").json()["capabilities"] == ["reverse", "stats"]
    with merchant(tmp_path, FakeBureau(), "naive") as c:
        assert "reverse" not in c.get("/health").json()["capabilities"]


def test_resilient_happy_path_and_repeat_posts(tmp_path: Path) -> None:
    bureau = FakeBureau()
    with merchant(tmp_path, bureau) as c:
        body = orders(1)[0]
        r = c.post("/invoices", json=body)
        assert r.status_code == 201 and r.json()["status"] == "issued"
        number = r.json()["invoice_number"]
        again = c.post("/invoices", json=body)
        assert again.status_code == 201 and again.json()["invoice_number"] == number
        got = c.get(f"/invoices/{body['order_id']}").json()
        assert got["status"] == "issued" and got["total_with_tax"] == bureau.invoices[0]["total_with_tax"]
        assert bureau.calls["issue"] == 1
        assert c.get("/invoices/NOPE").status_code == 404


def test_invalid_orders_never_reach_the_bureau(tmp_path: Path) -> None:
    bureau = FakeBureau()
    with merchant(tmp_path, bureau) as c:
        bad = orders(1)[0]
        bad["lines"][0]["tax_rate"] = "0.07"
        r = c.post("/invoices", json=bad)
        assert r.status_code == 422
        assert r.json()["error"]["details"][0]["field"] == "lines[0].tax_rate"
        assert c.post("/invoices", content=b"[1]").status_code == 400
        assert c.post("/invoices", content=b"{nope").status_code == 400
    assert bureau.calls["issue"] == 0


def test_naive_shows_phantoms_under_ghost_commit(tmp_path: Path) -> None:
    bureau = FakeBureau(ghost=always)
    with merchant(tmp_path, bureau, "naive") as c:
        placed = orders(3)
        assert {c.post("/invoices", json=o).status_code for o in placed} == {502}
        assert len(anomalies(c, bureau, [o["order_id"] for o in placed])["phantom"]) == 3


def test_retrying_shows_duplicates_under_ghost_commit(tmp_path: Path) -> None:
    bureau = FakeBureau(ghost=times(2))
    with merchant(tmp_path, bureau, "retrying") as c:
        o = orders(1)[0]
        assert c.post("/invoices", json=o).status_code == 201
        assert anomalies(c, bureau, [o["order_id"]])["duplicate"] == [o["order_id"]]


def test_resilient_resolves_ghost_commits_by_lookup(tmp_path: Path) -> None:
    bureau = FakeBureau(ghost=times(10))
    with merchant(tmp_path, bureau) as c:
        placed = orders(6)
        assert {c.post("/invoices", json=o).status_code for o in placed} <= {201, 202}
        drain(c)
        assert anomalies(c, bureau, [o["order_id"] for o in placed]) == {"lost": [], "duplicate": [], "phantom": [], "mismatch": []}
        assert len(bureau.invoices) == 6


def test_resilient_answers_202_while_the_bureau_is_down_then_drains(tmp_path: Path) -> None:
    down = [True]
    bureau = FakeBureau(down=lambda: down[0], lookups_fail=lambda: down[0])
    with merchant(tmp_path, bureau) as c:
        placed = orders(5)
        assert {c.post("/invoices", json=o).status_code for o in placed} == {202}
        assert c.get("/stats").json()["pending"] == 5
        down[0] = False
        drain(c)
        assert all(o["status"] == "issued" for o in c.get("/ledger").json()["invoices"])
        assert len(bureau.invoices) == 5


def test_resilient_honours_throttling(tmp_path: Path) -> None:
    bureau = FakeBureau(throttle=times(3))
    with merchant(tmp_path, bureau) as c:
        o = orders(1)[0]
        assert c.post("/invoices", json=o).status_code in (201, 202)
        drain(c)
        assert len(bureau.invoices) == 1 and bureau.calls["find"] == 0  # throttled: nothing to look up


def test_resilient_fails_rejected_orders_and_stops(tmp_path: Path) -> None:
    bureau = FakeBureau(reject=always)
    with merchant(tmp_path, bureau) as c:
        o = orders(1)[0]
        r = c.post("/invoices", json=o)
        assert r.status_code == 422 and r.json()["error"]["code"] == "REJECTED_BY_BUREAU"
        assert c.get(f"/invoices/{o['order_id']}").json()["status"] == "failed"
        assert bureau.calls["issue"] == 1
        bureau.reject = lambda: False           # the policy is lifted: a failed order may retry
        assert c.post("/invoices", json=o).status_code == 201


def test_resilient_queue_is_bounded(tmp_path: Path) -> None:
    bureau = FakeBureau(down=always, lookups_fail=always)
    tuning = Tuning(confirm_wait_s=0.01, max_pending=3, backoff=Backoff(0.05, 0.1))
    with merchant(tmp_path, bureau, tuning=tuning) as c:
        codes = [c.post("/invoices", json=o).status_code for o in orders(5)]
        assert codes == [202, 202, 202, 503, 503]


def test_resilient_resumes_pending_orders_after_restart(tmp_path: Path) -> None:
    bureau = FakeBureau(down=always, lookups_fail=always)
    placed = orders(4)
    with merchant(tmp_path, bureau) as c:
        assert {c.post("/invoices", json=o).status_code for o in placed} == {202}
    healthy = FakeBureau(invoices=bureau.invoices)
    with merchant(tmp_path, healthy) as c:
        drain(c)
        assert len(healthy.invoices) == 4
        assert healthy.calls["find"] == 4   # resumed orders look before they resubmit


def test_resilient_reverse(tmp_path: Path) -> None:
    bureau = FakeBureau()
    with merchant(tmp_path, bureau) as c:
        o = orders(1)[0]
        oid = o["order_id"]
        assert c.post("/invoices", json=o).status_code == 201
        r = c.post(f"/invoices/{oid}/reverse", json={"reason": "01"})
        assert r.status_code == 200 and r.json()["status"] == "reversed"
        assert c.post(f"/invoices/{oid}/reverse", json={"reason": "01"}).status_code == 200
        assert bureau.calls["red_letter"] == 1
        assert c.post("/invoices/NOPE/reverse", json={"reason": "01"}).status_code == 404
        assert c.post(f"/invoices/{oid}/reverse", json={"reason": "99"}).status_code == 422
        assert c.get("/ledger").json()["invoices"][0]["status"] == "reversed"


def test_resilient_reverse_survives_a_ghost_commit(tmp_path: Path) -> None:
    bureau = FakeBureau()
    with merchant(tmp_path, bureau) as c:
        o = orders(1)[0]
        assert c.post("/invoices", json=o).status_code == 201
        bureau.ghost = times(1)
        r = c.post(f"/invoices/{o['order_id']}/reverse", json={"reason": "02"})
        assert r.status_code == 200 and r.json()["status"] == "reversed"
        assert len([i for i in bureau.invoices if i.get("red_for")]) == 1


def test_resilient_driver_survives_a_bug(tmp_path: Path) -> None:
    bureau = FakeBureau(explode=times(1))
    with merchant(tmp_path, bureau, tuning=Tuning(confirm_wait_s=0.1)) as c:
        o = orders(1)[0]
        assert c.post("/invoices", json=o).status_code == 202
        drain(c)
        assert c.get(f"/invoices/{o['order_id']}").json()["status"] == "issued"
        assert len(bureau.invoices) == 1


def test_unknown_paths_answer_the_error_shape(tmp_path: Path) -> None:
    with merchant(tmp_path, FakeBureau()) as c:
        r = c.get("/nope")
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND"
        r = c.delete("/invoices")
        assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_resilient_answers_at_once_while_the_breaker_is_open(tmp_path: Path) -> None:
    bureau = FakeBureau(down=always, lookups_fail=always)
    tuning = Tuning(confirm_wait_s=0.5, backoff=Backoff(0.005, 0.02), attempt_timeout=AttemptTimeout(0.5, cap_s=1.0))
    with merchant(tmp_path, bureau, tuning=tuning) as c:
        placed = orders(8)
        for o in placed[:3]:
            assert c.post("/invoices", json=o).status_code == 202
        assert c.get("/stats").json()["breaker"] != "closed"
        started = time.monotonic()
        assert c.post("/invoices", json=placed[3]).status_code == 202
        assert time.monotonic() - started < 0.4

"""CONTRACT §5.1: the bureau clock, X-Bureau-Time, /api/v1/time and /admin/clock."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from lqkit import at, bureau_now, error_code, set_clock
from starlette.testclient import TestClient

from fakes.bureau.clock import (BureauClock, ClockBackwards, ClockState, month_close, parse_kprq, parse_rfc3339,
                                rfc3339)
from fakes.bureau.samples import sample_invoice

ISSUE = "/api/v1/invoices"


class FakeTime:
    def __init__(self) -> None:
        self.mono, self.wall = 100.0, 1_000_000.0

    def tick(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


def test_the_clock_runs_at_its_rate_from_its_anchor() -> None:
    t = FakeTime()
    clock = BureauClock(lambda: t.mono, lambda: t.wall)
    clock.restore(ClockState(anchor_real=t.wall - 10, anchor_bureau=5_000.0, rate=60))
    assert clock.now() == 5_000 + 600  # it ran while the bureau was down
    t.tick(2)
    assert clock.now() == 5_720
    t.wall -= 3600  # a step of the wall clock does not move bureau time
    t.tick(1)
    assert clock.now() == 5_780


def test_set_moves_forward_only() -> None:
    t = FakeTime()
    clock = BureauClock(lambda: t.mono, lambda: t.wall)
    start = clock.now()
    clock.set(advance_s=100)
    assert clock.now() == start + 100
    clock.set(now=start + 100)  # the same instant is not backwards
    with pytest.raises(ClockBackwards):
        clock.set(now=start + 99)
    state = clock.set(rate=10)
    t.tick(1)
    assert clock.now() == start + 110 and state.rate == 10


def test_restore_never_lands_behind_the_anchor() -> None:
    t = FakeTime()
    clock = BureauClock(lambda: t.mono, lambda: t.wall)
    clock.restore(ClockState(anchor_real=t.wall + 500, anchor_bureau=42.0, rate=1))  # wall clock went back
    assert clock.now() == 42.0


def test_formats() -> None:
    assert rfc3339(at("2026-12-31T15:59:40Z")) == "2026-12-31T23:59:40+08:00"
    assert parse_kprq("2027-01-01 00:00:05") == at("2027-01-01T00:00:05+08:00")
    for bad in ("2027-01-01T00:00:05", "2027-02-30 00:00:00", "2027-1-01 00:00:00", "now"):
        with pytest.raises(ValueError):
            parse_kprq(bad)
    with pytest.raises(ValueError):
        parse_rfc3339("2026-12-31T23:59:40")  # no offset
    assert month_close("2026-12", 13) == at("2027-01-13T00:00:00+08:00")
    assert month_close("2026-11", 1) == at("2026-12-01T00:00:00+08:00")


def test_every_public_answer_carries_bureau_time(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-12-31T23:59:40+08:00"))
    answers = [client.get("/api/v1/time"), client.post(ISSUE, json=sample_invoice()), client.post(ISSUE, content=b"["),
               client.get(f"{ISSUE}/00000000000000000000"), client.get("/api/v1/nothing"), client.delete(ISSUE)]
    client.put("/admin/faults", json=[{"kind": "maintenance"}])
    answers.append(client.get("/api/v1/time"))
    client.put("/admin/faults", json=[{"kind": "ghost_commit"}])
    answers.append(client.post(ISSUE, json=sample_invoice(request_id="G")))
    assert [a.status_code for a in answers] == [200, 201, 400, 404, 404, 405, 503, 504]
    for answer in answers:
        stamp = answer.headers["X-Bureau-Time"]
        assert stamp.startswith("2026-12-31T23:59:4") and stamp.endswith("+08:00"), stamp
    assert answers[0].json() == {"now": answers[0].headers["X-Bureau-Time"]}
    assert "x-bureau-time" not in client.get("/health").headers and "x-bureau-time" not in client.get("/admin/clock").headers


def test_sync_issued_at_and_number_year_follow_bureau_time(make_client: Any) -> None:
    client = make_client(clock_start=at("2027-06-01T08:00:00+08:00"))
    record = client.post(ISSUE, json=sample_invoice()).json()
    assert record["issued_at"].startswith("2027-06-01T08:00:0") and record["invoice_number"].startswith("27")
    (line,) = [json.loads(ln) for ln in client.get("/admin/ledger").text.splitlines()]
    assert abs(parse_rfc3339(line["committed_at"]) - time.time()) < 60  # committed_at stays real time


def test_admin_clock_get_and_put(make_client: Any) -> None:
    client = make_client(clock_start=at("2026-11-30T23:59:30+08:00"))
    assert client.get("/admin/clock").json()["rate"] == 1
    moved = set_clock(client, advance_s=3600)
    assert moved["now"].startswith("2026-12-01T00:59:3")
    set_clock(client, now="2027-01-01T00:00:00+08:00", rate=1000)
    first = bureau_now(client)
    time.sleep(0.05)
    assert bureau_now(client) - first >= 40  # 1000 bureau seconds per real second
    assert set_clock(client, rate=1)["rate"] == 1


@pytest.mark.parametrize("body,field", [
    ({"now": "2030-01-01T00:00:00+08:00", "advance_s": 5}, "advance_s"),
    ({"advance_s": -1}, "advance_s"), ({"advance_s": True}, "advance_s"), ({"advance_s": "5"}, "advance_s"),
    ({"rate": 0}, "rate"), ({"rate": 100001}, "rate"), ({"rate": -2}, "rate"),
    ({"now": "2030-01-01 00:00:00"}, "now"), ({"now": 5}, "now"), ({"tempo": 2}, "tempo"), ([], "clock"),
])
def test_bad_clock_changes_are_422_naming_the_field(client: TestClient, body: Any, field: str) -> None:
    before = bureau_now(client)
    resp = client.put("/admin/clock", json=body)
    assert resp.status_code == 422 and error_code(resp) == "VALIDATION_FAILED", resp.text
    assert field in [d["field"] for d in resp.json()["error"]["details"]]
    assert bureau_now(client) - before < 5  # nothing moved
    assert client.put("/admin/clock", content=b"{").status_code == 400


def test_backwards_is_409(client: TestClient) -> None:
    resp = client.put("/admin/clock", json={"now": "2001-01-01T00:00:00+08:00"})
    assert resp.status_code == 409 and error_code(resp) == "CLOCK_BACKWARDS"


def test_the_clock_survives_a_restart(make_client: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "clock.db")
    first = make_client(db_path=db, clock_start=at("2026-12-31T23:00:00+08:00"))
    set_clock(first, advance_s=7 * 86400, rate=10)
    before = bureau_now(first)
    first.__exit__(None, None, None)
    # Restarted with other start options: the database's clock wins (it never goes backwards).
    second = make_client(db_path=db, clock_start=at("2026-01-01T00:00:00+08:00"), clock_rate=1)
    after = bureau_now(second)
    assert after >= before and after - before < 60
    assert second.get("/admin/clock").json()["rate"] == 10


def test_reset_keeps_the_clock(make_client: Any) -> None:
    client = make_client(allow_reset=True, clock_start=at("2026-12-31T23:00:00+08:00"))
    set_clock(client, advance_s=86400)
    assert client.post("/admin/reset").status_code == 200
    assert bureau_now(client) >= at("2027-01-01T23:00:00+08:00")

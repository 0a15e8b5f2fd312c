"""An in-memory 乐企 bureau speaking the ``LqBureau`` protocol, with scripted faults, for unit tests.

It keeps ranges, uploads and accepted invoices like the real one (CONTRACT §5.3-§5.4): numbers
are judged, every stored upload in order, once ``processing_polls`` result polls (of any
upload) have passed since it was stored, by the checks in their order
(not allocated, year, already accepted -> 03, future, deadline); ``verdict`` overrides the
result of chosen invoices. ``blue_for(order_id)`` is what the bureau accepted for an order.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from merchant_fake_bureau import times

from fakes.bureau.clock import cst, parse_kprq, rfc3339
from fakes.merchant.app import Settings, create_app
from fakes.merchant.lq_client import LqAnswer
from fakes.merchant.lq_state import LqTuning
from fakes.merchant.lq_time import BureauTime
from fakes.merchant.orders import Seller
from fakes.merchant.resilience import Backoff
from harness.data.orders import OrderFactory

Verdict = tuple[str, str | None]  # (code, detail code)


@dataclass
class FakeLq:
    now: float = parse_kprq("2026-06-10 10:00:00")
    time: BureauTime = field(default_factory=BureauTime)
    processing_polls: int = 0                                   # polls answered 01 before judging
    upload_answer: Callable[[], LqAnswer | None] = lambda: None  # replaces the 202 (nothing stored)
    ghost_upload: Callable[[], bool] = lambda: False            # stored, then answered unknown
    results_answer: Callable[[], LqAnswer | None] = lambda: None
    lookup_answer: Callable[[], LqAnswer | None] = lambda: None
    verdict: Callable[[dict[str, Any]], Verdict | None] = lambda item: None
    deadline_s: float = 172800.0
    ranges: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # number -> invoice
    upload_sizes: list[int] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    _next_seq: int = 1

    def blue_for(self, order_id: str) -> list[dict[str, Any]]:
        return [i for i in self.accepted.values() if i["external_id"] == order_id]

    def _stamp(self) -> None:
        self.time.observe(rfc3339(self.now))

    async def bureau_time(self, timeout_s: float) -> LqAnswer:
        self.calls["time"] += 1
        self._stamp()
        return LqAnswer("ok", 200, body={"now": rfc3339(self.now)})

    async def allocate(self, request_id: str, seller_tax_id: str, count: int, timeout_s: float) -> LqAnswer:
        self.calls["allocate"] += 1
        self._stamp()
        known = next((r for r in self.ranges if r["request_id"] == request_id), None)
        if known is not None:
            return LqAnswer("ok", 200, body=known["answer"])
        year = cst(self.now).tm_year
        first, last = self._next_seq, self._next_seq + count - 1
        self._next_seq += count
        prefix = f"{year % 100:02d}1170"
        answer: dict[str, Any] = {"range_id": f"R{first}", "year": year, "first": f"{prefix}{first:014d}",
                                  "last": f"{prefix}{last:014d}", "count": count}
        self.ranges.append({"request_id": request_id, "year": year, "first": first, "last": last,
                            "prefix": prefix, "answer": answer})
        return LqAnswer("ok", 201, body=answer)

    async def upload(self, body: bytes, timeout_s: float) -> LqAnswer:
        self.calls["upload"] += 1
        self._stamp()
        refused = self.upload_answer()
        if refused is not None:
            return refused
        invoices = json.loads(body)["invoices"]
        assert 1 <= len(invoices) <= 100
        self.upload_sizes.append(len(invoices))
        uid = f"U{len(self.uploads) + 1:015d}"
        self.uploads[uid] = {"received_at": self.now, "invoices": invoices, "results": {}, "polls": 0}
        if self.ghost_upload():
            return LqAnswer("unknown", 504, reason="ghost")
        return LqAnswer("ok", 202, body={"upload_id": uid, "count": len(invoices)})

    async def results(self, upload_id: str, timeout_s: float) -> LqAnswer:
        self.calls["results"] += 1
        self._stamp()
        scripted = self.results_answer()
        if scripted is not None:
            return scripted
        for stored in self.uploads.values():  # the bureau processes every stored upload, polled or not
            stored["polls"] += 1
            for i, item in enumerate(stored["invoices"]):
                if i not in stored["results"] and stored["polls"] > self.processing_polls:
                    stored["results"][i] = self._judge(item, stored["received_at"])
        upload = self.uploads.get(upload_id)
        if upload is None:
            return LqAnswer("gone", 404, code="NOT_FOUND")
        out = []
        for i, item in enumerate(upload["invoices"]):
            code, detail = upload["results"].get(i, ("01", None))
            details = [{"field": "invoice_number", "code": detail, "message": detail}] if detail else []
            out.append({"invoice_number": item["invoice_number"], "code": code, "message": code, "details": details})
        return LqAnswer("ok", 200, body={"upload_id": upload_id, "results": out})

    async def lookup(self, invoice_number: str, timeout_s: float) -> LqAnswer:
        self.calls["lookup"] += 1
        self._stamp()
        scripted = self.lookup_answer()
        if scripted is not None:
            return scripted
        found = self.accepted.get(invoice_number)
        if found is None:
            return LqAnswer("gone", 404, code="NOT_FOUND")
        return LqAnswer("ok", 200, body=dict(found, status="issued"))

    def _judge(self, item: dict[str, Any], received_at: float) -> Verdict:
        number, issued = item["invoice_number"], parse_kprq(item["issued_at"])
        found = next((r for r in self.ranges if r["prefix"] == number[:6] and r["first"] <= int(number[6:]) <= r["last"]), None)
        if found is None:
            return "02", "NUMBER_NOT_ALLOCATED"
        if cst(issued).tm_year != found["year"]:
            return "02", "NUMBER_YEAR"
        if number in self.accepted:
            return "03", "ALREADY_UPLOADED"
        if issued > self.now + 300:
            return "02", "ISSUED_IN_FUTURE"
        if received_at - issued > self.deadline_s:
            return "02", "DEADLINE_PASSED"
        scripted = self.verdict(item)
        if scripted is not None:
            return scripted
        self.accepted[number] = item
        return "00", None


def answer_times(n: int, answer: LqAnswer) -> Callable[[], LqAnswer | None]:
    """``answer`` for the next ``n`` calls, then None (the normal answer)."""
    fire = times(n)
    return lambda: answer if fire() else None


# --- the merchant on the channel, through its HTTP contract ------------------------------

SELLER = Seller("91110108551385082Q", "北京示例科技有限公司")
FAST = LqTuning(confirm_wait_s=0.5, poll_s=0.01, backoff=Backoff(base_s=0.005, cap_s=0.02), uncertain_grace_s=0.1,
                timeout_s=1.0, time_max_age_s=0.0)
ACCOUNT = LqAnswer("account", 401, code="AUTH_EXPIRED", retry_after=0.01)
DOWN = LqAnswer("unknown", 503, reason="down")
GONE = LqAnswer("gone", 410, code="RESULT_EXPIRED")


@contextmanager
def merchant(tmp_path: Path, bureau: FakeLq, profile: str = "resilient", tuning: LqTuning = FAST) -> Iterator[TestClient]:
    settings = Settings("http://unused", tmp_path, SELLER, profile=profile, seed=1, channel="lq", lq_tuning=tuning)
    with TestClient(create_app(settings, bureau=bureau)) as client:
        yield client


def orders(n: int, prefix: str = "t") -> list[dict[str, Any]]:
    f = OrderFactory(3, prefix)
    return [f.next() for _ in range(n)]


def drain(client: TestClient, limit_s: float = 5.0) -> None:
    end = time.monotonic() + limit_s
    while client.get("/stats").json()["pending"] and time.monotonic() < end:
        time.sleep(0.01)
    assert client.get("/stats").json()["pending"] == 0


def ledger(client: TestClient) -> dict[str, dict[str, Any]]:
    return {row["order_id"]: row for row in client.get("/ledger").json()["invoices"]}

"""An in-memory bureau speaking the ``Bureau`` protocol, with scripted faults, for unit tests.

It keeps a ledger like the real one (dedup by ``request_id``) so tests check the anomalies of
CONTRACT §4 directly: ``blue_for(order_id)`` is what the bureau's ledger holds for an order.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakes.merchant.bureau_client import Lookup, Outcome


@dataclass
class FakeBureau:
    # Each returns True when the fault acts on this call (and may consume itself).
    ghost: Callable[[], bool] = lambda: False          # commit, then answer "unknown"
    down: Callable[[], bool] = lambda: False           # answer "unknown", commit nothing
    throttle: Callable[[], bool] = lambda: False       # 429 with Retry-After 0.01
    reject: Callable[[], bool] = lambda: False         # 422 (policy change)
    lookups_fail: Callable[[], bool] = lambda: False
    explode: Callable[[], bool] = lambda: False         # raise: a bug in the client
    latency_s: float = 0.0
    invoices: list[dict[str, Any]] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def blue_for(self, order_id: str) -> list[dict[str, Any]]:
        return [i for i in self.invoices if i["external_id"] == order_id and not i.get("red_for")]

    async def issue(self, body: dict[str, Any] | bytes, timeout_s: float) -> Outcome:
        self.calls["issue"] += 1
        payload: dict[str, Any] = json.loads(body) if isinstance(body, bytes) else body
        await asyncio.sleep(self.latency_s)
        if self.explode():
            raise RuntimeError("injected bug")
        if self.down():
            return Outcome("unknown", 503, reason="down")
        if self.throttle():
            return Outcome("throttled", 429, error={"code": "RATE_LIMITED"}, retry_after=0.01)
        if self.reject():
            return Outcome("rejected", 422, error={"code": "VALIDATION_FAILED", "message": "policy"})
        rid = payload.get("request_id")
        known = [i for i in self.invoices if rid is not None and i.get("request_id") == rid]
        record = known[0] if known else self._commit(payload)
        if self.ghost():
            return Outcome("unknown", 504, reason="ghost")
        return Outcome("issued", 200 if known else 201, record=record)

    async def find(self, external_id: str, timeout_s: float) -> Lookup:
        self.calls["find"] += 1
        if self.lookups_fail():
            return Lookup(None)
        return Lookup([dict(i) for i in self.invoices if i["external_id"] == external_id])

    async def red_letter(self, invoice_number: str, request_id: str, reason: str, timeout_s: float) -> Outcome:
        self.calls["red_letter"] += 1
        if self.down():
            return Outcome("unknown", 503, reason="down")
        blue = next((i for i in self.invoices if i["invoice_number"] == invoice_number), None)
        if blue is None:
            return Outcome("rejected", 404, error={"code": "NOT_FOUND"})
        red = next((i for i in self.invoices if i.get("red_for") == invoice_number), None)
        if red is not None:
            return Outcome("duplicate", 409, error={"code": "ALREADY_REVERSED", "invoice_number": red["invoice_number"]})
        blue["status"] = "reversed"
        red = self._commit({"external_id": blue["external_id"], "request_id": request_id, "red_for": invoice_number})
        if self.ghost():
            return Outcome("unknown", 504, reason="ghost")
        return Outcome("issued", 201, record=red)

    def _commit(self, payload: dict[str, Any]) -> dict[str, Any]:
        record = dict(payload, invoice_number=f"2611{len(self.invoices) + 1:016d}", status="issued")
        self.invoices.append(record)
        return record


def times(n: int) -> Callable[[], bool]:
    """A fault that acts on the next ``n`` calls, then never again."""
    left = [n]

    def fire() -> bool:
        if left[0] > 0:
            left[0] -= 1
            return True
        return False

    return fire


def always() -> bool:
    return True

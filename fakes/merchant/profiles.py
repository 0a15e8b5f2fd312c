"""The profile protocol and the two teaching profiles: ``naive`` and ``retrying``.

A profile turns a valid order (``Invoice``) into an HTTP answer of CONTRACT §3 and keeps the
order book the harness audits. ``resilient`` (``fakes.merchant.resilient``) is what good looks
like; these two are the common mistakes, kept deliberately:

- ``naive``    — one attempt, no ``request_id``; any failure answers 502 and records ``failed``.
                 Under ``ghost_commit`` the bureau has an invoice the merchant calls failed:
                 a *phantom*.
- ``retrying`` — retries with backoff inside the request, but with a fresh ``request_id`` each
                 attempt and no lookup first: an attempt that committed but answered 5xx is
                 issued again — a *duplicate*.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from typing import Any, Protocol

from fakes.merchant.bureau_client import Bureau, Outcome
from fakes.merchant.orders import Invoice, error_body, issue_request_id
from fakes.merchant.store import Order, Store

Answer = tuple[int, dict[str, Any]]


class Profile(Protocol):
    """One merchant behaviour behind the SUT contract."""

    name: str
    capabilities: tuple[str, ...]
    store: Store

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, invoice: Invoice) -> Answer:
        """Answer POST /invoices for a valid order."""
        ...

    async def reverse(self, order_id: str, reason: str) -> Answer:
        """Answer POST /invoices/{order_id}/reverse (only with the ``reverse`` capability)."""
        ...


def current_state(order: Order) -> Answer:
    """The answer to a repeated POST: the order's state as it stands."""
    if order.status in ("issued", "reversed"):
        return 201, {"order_id": order.order_id, "status": order.status, "invoice_number": order.invoice_number}
    if order.status == "pending":
        return 202, {"order_id": order.order_id, "status": "pending"}
    return 502, error_body("BUREAU_FAILED", f"order {order.order_id} failed: {order.error or 'unknown'}")


def new_order(invoice: Invoice, status: str = "pending", request_id: str | None = None) -> Order:
    """An order row; with ``request_id`` the stored payload is the exact body to send."""
    payload = dict(invoice.payload, request_id=request_id) if request_id else invoice.payload
    return Order(
        order_id=invoice.order_id,
        status=status,  # type: ignore[arg-type]
        total_with_tax=invoice.total_with_tax,
        payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        request_id=request_id,
    )


async def admit(store: Store, invoice: Invoice, max_pending: int) -> tuple[Answer | None, Order | None]:
    """The outbox's front door for the resilient profiles: ``(answer, None)`` for an order that
    is known and not failed (its current state) or when the outbox is full (503); otherwise
    ``(None, the earlier failed row or None)`` once the new pending row is on disk."""
    oid = invoice.order_id
    existing = store.get(oid)
    if existing is not None and existing.status != "failed":
        await store.barrier()  # a concurrent first POST may not be on disk yet
        return current_state(store.get(oid) or existing), existing
    if store.pending >= max_pending:
        return (503, error_body("QUEUE_FULL", f"{store.pending} orders are pending; retry later")), None
    # No await between the get above and this put: two concurrent POSTs cannot both insert.
    await store.put(new_order(invoice, request_id=issue_request_id(oid)))
    return None, existing


def settled(order: Order) -> Answer:
    """The answer once a resilient profile stopped waiting: 422 if the bureau refused the order."""
    if order.status == "failed":
        return 422, error_body("REJECTED_BY_BUREAU", f"the bureau refused order {order.order_id}: {order.error}")
    return current_state(order)


def describe(outcome: Outcome) -> str:
    if outcome.error is not None:
        return f"{outcome.status} {outcome.error.get('code')}: {outcome.error.get('message')}"
    return f"{outcome.kind} ({outcome.reason or outcome.status})"


class _Simple:
    """Shared by naive and retrying: the order book is written after the bureau answered."""

    name = "simple"
    capabilities: tuple[str, ...] = ("stats",)
    attempts = 1
    attempt_timeout_s = 8.0
    backoff_s = 0.0

    def __init__(self, store: Store, bureau: Bureau, *, rng: random.Random | None = None) -> None:
        self.store = store
        self.bureau = bureau
        self._rng = rng or random.Random()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def submit(self, invoice: Invoice) -> Answer:
        existing = self.store.get(invoice.order_id)
        if existing is not None and existing.status in ("issued", "reversed"):
            return current_state(existing)
        outcome = await self._attempts(invoice)
        order = new_order(invoice)
        if outcome.kind == "issued":
            saved = await self.store.put(order.evolve(status="issued", invoice_number=outcome.invoice_number))
            return current_state(saved)
        await self.store.put(order.evolve(status="failed", error=describe(outcome)))
        return 502, error_body("BUREAU_FAILED", f"the bureau did not issue order {invoice.order_id}: {describe(outcome)}")

    async def _attempts(self, invoice: Invoice) -> Outcome:
        outcome = Outcome("unknown", reason="no attempt")
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self._rng.uniform(0, self.backoff_s * 2 ** (attempt - 1)))
            payload = dict(invoice.payload)
            request_id = self.request_id()
            if request_id is not None:
                payload["request_id"] = request_id
            outcome = await self.bureau.issue(payload, self.attempt_timeout_s)
            if outcome.kind in ("issued", "rejected"):
                return outcome
        return outcome

    def request_id(self) -> str | None:
        return None

    async def reverse(self, order_id: str, reason: str) -> Answer:
        return 404, error_body("NOT_SUPPORTED", f"profile {self.name} does not reverse invoices")


class Naive(_Simple):
    """One synchronous attempt, no retry, no ``request_id``."""

    name = "naive"


class Retrying(_Simple):
    """Up to four attempts with backoff, a fresh ``request_id`` each time, no lookup first."""

    name = "retrying"
    attempts = 4
    attempt_timeout_s = 2.0
    backoff_s = 0.25

    def request_id(self) -> str | None:
        return uuid.uuid4().hex

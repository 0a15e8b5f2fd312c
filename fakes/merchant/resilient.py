"""The ``resilient`` profile: what a merchant invoicing client should do.

    POST /invoices ─▶ validate ─▶ outbox row (pending, on disk) ─▶ driver task ─▶ bureau
                          │                 │                          │
                          4xx               503 when the outbox        201 if it confirms within
                                            holds ``max_pending``      ``confirm_wait_s``, else 202

One driver task per pending order, at most ``concurrency`` of them talking to the bureau at a
time. A driver sends the order with ``request_id = order_id``, so every resubmission is a replay
at the bureau. After any indeterminate outcome (timeout, reset, 5xx, garbled body, a 409) it
first looks the order up by ``external_id`` and adopts what it finds; only when the bureau has
nothing does it resubmit. Retries wait with capped exponential backoff and full jitter, never
less than ``Retry-After``; a circuit breaker stops the hammering while the bureau is down. A 422
``VALIDATION_FAILED`` from the bureau (a policy change, CONTRACT §2) marks the order ``failed``
after one more lookup (a ghost commit may wear a 4xx) and is not retried; any other refusal
(an account-level one, an unexplained 4xx) keeps the order and retries (CONTRACT §5.7). On start, every pending order is resumed,
lookup first: the process may have died mid-call. Reversals follow the same rules.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from fakes.merchant.bureau_client import Bureau, Outcome
from fakes.merchant.orders import Invoice, error_body, reversal_request_id
from fakes.merchant.profiles import Answer, admit, describe, settled
from fakes.merchant.resilience import AttemptTimeout, Backoff, CircuitBreaker
from fakes.merchant.store import Order, Store

log = logging.getLogger("invoice_chaos.merchant")


@dataclass(frozen=True)
class Tuning:
    confirm_wait_s: float = 1.0       # how long POST /invoices waits for a 201 before a 202
    reverse_wait_s: float = 3.0
    max_pending: int = 10_000         # the bounded queue: beyond it, 503
    concurrency: int = 32             # bureau calls in flight
    backoff: Backoff = field(default_factory=Backoff)
    attempt_timeout: AttemptTimeout = field(default_factory=AttemptTimeout)


class Resilient:
    name = "resilient"
    capabilities: tuple[str, ...] = ("reverse", "stats")

    def __init__(self, store: Store, bureau: Bureau, *, seller_tax_id: str,
                 tuning: Tuning | None = None, rng: random.Random | None = None,
                 breaker: CircuitBreaker | None = None) -> None:
        self.store = store
        self.bureau = bureau
        self.tuning = tuning or Tuning()
        self.breaker = breaker or CircuitBreaker()
        self._seller = seller_tax_id
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(self.tuning.concurrency)
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}
        # bureau calls by outcome ("issue:unknown", "find:found", ...): the evidence of retries
        self.counters: Counter[str] = Counter()

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Resume what the outbox owes: pending issues and asked-for reversals."""
        for order in self.store:
            if order.status == "pending":
                self._spawn("issue", order.order_id, partial(self._drive_issue, order.order_id, uncertain=True))
            elif order.status == "issued" and order.reverse_reason is not None:
                self._spawn("reverse", order.order_id, partial(self._drive_reversal, order.order_id))

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- requests -----------------------------------------------------------------------

    async def submit(self, invoice: Invoice) -> Answer:
        oid = invoice.order_id
        answer, existing = await admit(self.store, invoice, self.tuning.max_pending)
        if answer is not None:
            return answer
        task = self._spawn("issue", oid, partial(self._drive_issue, oid, uncertain=existing is not None))
        # With the breaker open the bureau is known to be down: answer 202 at once, no waiting.
        await _wait(task, 0.0 if self.breaker.is_open else self.tuning.confirm_wait_s)
        order = self.store.get(oid)
        assert order is not None
        return settled(order)

    async def reverse(self, order_id: str, reason: str) -> Answer:
        order = self.store.get(order_id)
        if order is None:
            return 404, error_body("NOT_FOUND", f"no order {order_id}")
        if order.status == "reversed":
            return 200, _reversed(order)
        if order.status != "issued":
            return 409, error_body("NOT_REVERSIBLE", f"order {order_id} is {order.status}; only issued orders can be reversed")
        if order.reverse_reason is None:
            order = await self.store.put(order.evolve(reverse_reason=reason, error=None))
        else:
            await self.store.barrier()
        task = self._spawn("reverse", order_id, partial(self._drive_reversal, order_id))
        await _wait(task, self.tuning.reverse_wait_s)
        order = self.store.get(order_id) or order
        if order.status == "reversed":
            return 200, _reversed(order)
        if order.reverse_reason is None:
            return 409, error_body("NOT_REVERSIBLE", f"the bureau refused to reverse order {order_id}: {order.error}")
        return 202, {"order_id": order_id, "status": order.status, "invoice_number": order.invoice_number, "reversal": "pending"}

    # --- drivers ------------------------------------------------------------------------

    def _spawn(self, kind: str, order_id: str, drive: Callable[[], Coroutine[Any, Any, None]]) -> asyncio.Task[None]:
        """Run ``drive`` for an order unless one is already running for it (one driver each)."""
        key = (kind, order_id)
        running = self._tasks.get(key)
        if running is not None and not running.done():
            return running
        task = asyncio.get_running_loop().create_task(self._supervise(kind, order_id, drive))
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._tasks.pop(key, None) if self._tasks.get(key) is t else None)
        return task

    async def _supervise(self, kind: str, order_id: str, drive: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """A driver that dies of a bug must not strand its order as pending until a restart."""
        while True:
            try:
                await drive()
                return
            except Exception:  # noqa: BLE001 - logged; the order is retried, lookup first
                log.exception("order %s: the %s driver failed; retrying in 1 s", order_id, kind)
                await asyncio.sleep(1.0)
                if kind == "issue":
                    drive = partial(self._drive_issue, order_id, uncertain=True)

    async def _pause(self, attempt: int, retry_after: float | None = None) -> None:
        await asyncio.sleep(self.tuning.backoff.delay(attempt, self._rng, retry_after))

    async def _breaker_gate(self) -> bool:
        """True when a call may go now; otherwise waits a little and returns False."""
        wait = self.breaker.before_attempt()
        if wait <= 0:
            return True
        await asyncio.sleep(wait + self._rng.uniform(0.0, 0.05))
        return False

    async def _drive_issue(self, order_id: str, *, uncertain: bool) -> None:
        attempt = 0
        refusal: Outcome | None = None  # a 4xx waiting for its confirming lookup
        while True:
            order = self.store.get(order_id)
            if order is None or order.status != "pending":
                return
            if not await self._breaker_gate():
                continue
            timeout = self.tuning.attempt_timeout(attempt)
            if uncertain or refusal is not None:
                async with self._slots:  # slots bound calls in flight; never held while sleeping
                    lookup = await self.bureau.find(order_id, timeout)
                self.counters[f"find:{'failed' if lookup.invoices is None else 'ok'}"] += 1
                if lookup.invoices is None:
                    self.breaker.failure()
                    await self._pause(attempt, lookup.retry_after)
                    attempt += 1
                    continue
                self.breaker.success()
                found = self._blue(order_id, lookup.invoices)
                if found is not None:
                    self.store.record(order.evolve(status="issued", invoice_number=found, error=None))
                    return
                if refusal is not None:
                    self.store.record(order.evolve(status="failed", error=describe(refusal)))
                    return
                uncertain = False
            async with self._slots:
                # The stored payload already carries request_id = order_id: send it as stored.
                outcome = await self.bureau.issue(order.payload.encode(), timeout)
            self.counters[f"issue:{outcome.kind}"] += 1
            if outcome.kind == "issued":
                self.breaker.success()
                self.store.record(order.evolve(status="issued", invoice_number=outcome.invoice_number, error=None))
                return
            if outcome.kind == "rejected":
                self.breaker.success()
                refusal = outcome
                continue
            if outcome.kind == "duplicate":
                uncertain = True  # something is committed under our request_id, or a lie: look
            elif outcome.kind == "throttled":
                self.breaker.failure()
            else:
                self.breaker.failure()
                uncertain = True
                log.info("order %s: indeterminate (%s); will look up before resubmitting", order_id, describe(outcome))
            await self._pause(attempt, outcome.retry_after)
            attempt += 1

    async def _drive_reversal(self, order_id: str) -> None:
        attempt = 0
        while True:
            order = self.store.get(order_id)
            if order is None or order.status != "issued" or order.reverse_reason is None or order.invoice_number is None:
                return
            if not await self._breaker_gate():
                continue
            async with self._slots:
                outcome = await self.bureau.red_letter(order.invoice_number, reversal_request_id(order_id),
                                                       order.reverse_reason, self.tuning.attempt_timeout(attempt))
            self.counters[f"red_letter:{outcome.kind}"] += 1
            if outcome.kind in ("issued", "duplicate"):
                # 201, a replay, 409 ALREADY_REVERSED or a known request_id: the red invoice exists.
                self.breaker.success()
                self.store.record(order.evolve(status="reversed", red_invoice_number=outcome.invoice_number))
                return
            if outcome.kind == "rejected":
                self.breaker.success()
                self.store.record(order.evolve(reverse_reason=None, error=describe(outcome)))
                return
            self.breaker.failure()
            await self._pause(attempt, outcome.retry_after)
            attempt += 1

    def _blue(self, order_id: str, invoices: list[dict[str, Any]]) -> str | None:
        """The number of this seller's blue invoice for the order, if the bureau has one."""
        for inv in invoices:
            seller = inv.get("seller")
            seller_id = seller.get("tax_id") if isinstance(seller, dict) else None
            if inv.get("external_id") != order_id or inv.get("red_for") or seller_id not in (None, self._seller):
                continue
            number = inv.get("invoice_number")
            if isinstance(number, str) and number:
                return number
        return None


async def _wait(task: asyncio.Task[None], seconds: float) -> None:
    """Wait up to ``seconds`` for ``task`` without cancelling it."""
    try:
        await asyncio.wait_for(asyncio.shield(task), seconds)
    except asyncio.TimeoutError:
        pass


def _reversed(order: Order) -> dict[str, Any]:
    body = order.public()
    if order.red_invoice_number is not None:
        body["red_invoice_number"] = order.red_invoice_number
    return body

"""The teaching profiles on the 乐企 channel: ``naive`` and ``retrying`` with ``--channel lq``.

Each mistake is kept on purpose, and each produces a CONTRACT §4/§5.7 anomaly (docs/merchant.md):

- *201 at the upload's 202.* The order is answered ``issued`` as soon as the bureau stored the
  upload, before any result: when the bureau then refuses it or never accepts it, the buyer
  holds an invoice the bureau does not have — ``lost`` (北京的发票北京系统里没有).
- *A number counter in memory only.* The range comes back after a restart (its allocation
  request id is derived from a count that restarts at 1, so the bureau replays the same range),
  and the counter starts again at its first number: the reused numbers are answered ``03``.
- *03 trusted without a look-up.* ``03`` is taken for "mine, already there": the order is
  recorded ``issued`` under a number the bureau accepted for another order — ``mismatch``
  (and ``lost``: it has no invoice of its own).
- *Its own clock.* ``issued_at`` comes from the merchant's machine: under clock skew the bureau
  refuses ``ISSUED_IN_FUTURE`` (bureau behind) or ``DEADLINE_PASSED`` / ``NUMBER_YEAR`` (ahead).
- *Any refusal fails the order.* Any ``02``, and any account-level refusal of the upload (401,
  403, 429, 503), records ``failed``: the sale is given up — ``dropped`` (CONTRACT §5.7).
- *No re-poll after 410.* Once the results expired it stops asking: the orders stay ``pending``
  forever — ``stuck``.

``retrying`` adds the classic retry bug of the channel: after a timeout or an error it uploads
the invoice again under a *new* number without checking whether the first upload was stored —
when it was (a ghost commit, a slow bureau), the order gets two invoices: ``duplicate``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from fakes.merchant.lq_client import LqAnswer, LqBureau
from fakes.merchant.lq_decide import detail_code
from fakes.merchant.lq_numbers import NumberRange, RangeAnswerError, parse_range
from fakes.merchant.lq_numbering import upload_item
from fakes.merchant.lq_resilient import LQ_REVERSE
from fakes.merchant.lq_time import kprq
from fakes.merchant.orders import Invoice, error_body
from fakes.merchant.profiles import Answer, current_state, new_order
from fakes.merchant.store import Order, Store

log = logging.getLogger("invoice_chaos.merchant")


class NaiveLq:
    """One upload per order, answered 201 at the bureau's 202; results polled for the ledger."""

    name = "naive"
    capabilities: tuple[str, ...] = ("lq", "stats")
    attempts = 1
    attempt_timeout_s = 8.0
    backoff_s = 0.0
    range_size = 1000
    poll_s = 0.25

    def __init__(self, store: Store, bureau: LqBureau, *, seller_tax_id: str, rng: random.Random | None = None,
                 wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.bureau = bureau
        self._seller = seller_tax_id
        self._rng = rng or random.Random()
        self._wall = wall
        self._range: NumberRange | None = None   # in memory only: the mistake
        self._allocations = 0
        self._numbering = asyncio.Lock()
        self._uploads: dict[str, dict[str, str]] = {}  # upload id -> {number: order} awaiting results
        self._poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for order in self.store:  # it does poll the uploads its ledger names
            if order.status == "pending" and order.upload_id and order.invoice_number:
                self._uploads.setdefault(order.upload_id, {})[order.invoice_number] = order.order_id
        self._poller = asyncio.get_running_loop().create_task(self._poll_forever(), name=f"lq-{self.name}")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)

    async def submit(self, invoice: Invoice) -> Answer:
        existing = self.store.get(invoice.order_id)
        if existing is not None and existing.status != "failed":
            if existing.status == "pending" and existing.invoice_number:
                return _issued(existing)  # it believes an upload is an invoice
            return current_state(existing)
        order = new_order(invoice)
        answer = LqAnswer("unknown", reason="no attempt")
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self._rng.uniform(0, self.backoff_s * 2 ** (attempt - 1)))
            try:
                number = await self._next_number()
            except LookupError as exc:
                answer = LqAnswer("unknown", reason=str(exc))
                continue
            order = order.evolve(invoice_number=number, issued_at=kprq(self._wall()))  # its own clock
            answer = await self.bureau.upload(b'{"invoices":[' + upload_item(order) + b"]}", self.attempt_timeout_s)
            uid = answer.body.get("upload_id") if answer.kind == "ok" and answer.body else None
            if isinstance(uid, str):
                saved = await self.store.put(order.evolve(upload_id=uid))
                self._uploads.setdefault(uid, {})[number] = order.order_id
                return _issued(saved)
            if answer.kind == "refused":
                break
        await self.store.put(order.evolve(status="failed", error=answer.describe()))
        return 502, error_body("BUREAU_FAILED", f"the bureau did not take order {invoice.order_id}: {answer.describe()}")

    async def reverse(self, order_id: str, reason: str) -> Answer:
        if self.store.get(order_id) is None:
            return 404, error_body("NOT_FOUND", f"no order {order_id}")
        return 409, error_body("NOT_SUPPORTED", LQ_REVERSE)

    async def _next_number(self) -> str:
        async with self._numbering:
            current = self._range
            if current is None or current.left == 0:
                self._allocations += 1
                # Derived from a count kept in memory: "retry-safe", and the same range after a restart.
                rid = f"naive-{self._seller}-{self._allocations}"
                answer = await self.bureau.allocate(rid, self._seller, self.range_size, self.attempt_timeout_s)
                try:
                    current = parse_range(answer.body or {}) if answer.kind == "ok" else None
                except RangeAnswerError:
                    current = None
                if current is None:
                    self._allocations -= 1
                    raise LookupError(f"no range: {answer.describe()}")
                self._range = current
            number = current.number(current.next_seq)
            current.next_seq += 1
            return number

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            for uid in list(self._uploads):
                try:
                    await self._poll(uid)
                except Exception:  # noqa: BLE001 - logged; polled again next round
                    log.exception("polling %s failed", uid)

    async def _poll(self, uid: str) -> None:
        answer = await self.bureau.results(uid, self.attempt_timeout_s)
        waiting = self._uploads.get(uid, {})
        if answer.kind == "gone":
            log.warning("results of %s expired (%s); forgetting them", uid, answer.describe())
            self._uploads.pop(uid, None)  # the mistake: those orders stay pending for ever
            return
        results = answer.body.get("results") if answer.kind == "ok" and answer.body else None
        for result in results if isinstance(results, list) else []:
            number = result.get("invoice_number") if isinstance(result, dict) else None
            oid = waiting.get(number) if isinstance(number, str) else None
            order = self.store.get(oid) if oid else None
            if order is None or number is None or order.status != "pending":
                continue
            code = result.get("code")
            if code in ("00", "03"):  # 03 trusted: "already there" must be ours
                self.store.record(order.evolve(status="issued"))
            elif code == "02":
                self.store.record(order.evolve(status="failed", error=f"02 {detail_code(result)}"))
            else:
                continue
            del waiting[number]
        if not waiting:
            self._uploads.pop(uid, None)


class RetryingLq(NaiveLq):
    """Up to four uploads with backoff, each under a fresh number, with no check in between."""

    name = "retrying"
    attempts = 4
    attempt_timeout_s = 2.0
    backoff_s = 0.25


def _issued(order: Order) -> Answer:
    return 201, {"order_id": order.order_id, "status": "issued", "invoice_number": order.invoice_number}

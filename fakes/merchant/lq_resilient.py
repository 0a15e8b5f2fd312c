"""The ``resilient`` profile on the 乐企 channel (``--channel lq``): what a merchant should do.

    POST /invoices ─▶ validate ─▶ outbox row (pending, on disk) ─▶ number ─▶ upload ─▶ poll ─▶ 00
                                                                  │           │         │
                                  durable counter, then the row   │  ≤100 per │  results│ 03: look the
                                  with its number, both on disk   │  upload   │  expire:│ number up
                                  before any upload carries it ───┘           │  look up│

One loop owns the queues (``lq_state``): it numbers what waits (``lq_numbering``: bureau time,
a range of that year, the counter on disk, then the numbered rows on disk, all before any upload
carries them) and launches uploads of up to 100, polls and look-ups as tasks beside it. Each
result goes through the decision table (``lq_decide``, in ``lq_results``); account-level refusals and unknown
outcomes of an upload pause all uploads with backoff and keep every order, and an upload whose
answer was lost is sent again under the same numbers (an accepted one answers 03). 201 only
after 00, or 03 proven by look-up to be this order's; 202 until then. On start every pending row
resumes: unnumbered ones are numbered, numbered ones re-polled or uploaded again.

One limit of the channel: an upload whose 202 was lost cannot be polled (no id) nor found by
order. If a later copy is refused in a way the lost copy might not be (``DEADLINE_PASSED``,
``ISSUED_IN_FUTURE``, an injected code), the order is re-numbered only after
``uncertain_grace_s`` and a look-up that finds nothing; a lost copy held longer than that could
still be accepted (a duplicate). docs/merchant.md has the whole decision table.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any

from fakes.merchant.lq_client import LqBureau
from fakes.merchant.lq_numbering import Numberer, Unavailable, upload_item
from fakes.merchant.lq_numbers import NumberBook
from fakes.merchant.lq_results import Outcomes
from fakes.merchant.lq_state import LqTuning, Track, WorkQueues, take_first
from fakes.merchant.lq_time import kprq
from fakes.merchant.orders import Invoice, error_body
from fakes.merchant.profiles import Answer, admit, settled
from fakes.merchant.store import Order, Store

log = logging.getLogger("invoice_chaos.merchant")
LQ_REVERSE = ("reversals on the 乐企 channel (红字确认单, CONTRACT §5.6) are not supported by the reference "
              "merchant yet; run it with --channel sync to reverse invoices")


class LqResilient(Outcomes):
    name = "resilient"
    capabilities: tuple[str, ...] = ("lq", "stats")

    def __init__(self, store: Store, bureau: LqBureau, numbers: NumberBook, *, seller_tax_id: str,
                 tuning: LqTuning | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.bureau = bureau
        self.numbers = numbers
        self.tuning = tuning or LqTuning()
        self._seller = seller_tax_id
        self._rng = rng or random.Random()
        self._clock = clock
        self._q = WorkQueues(clock)
        self._uploads: dict[str, dict[str, str]] = {}       # upload id -> {number: order} undecided
        self._poll_attempts: Counter[str] = Counter()
        self._tracks: dict[str, Track] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._void: set[str] = set()                         # numbers whose range the bureau does not know
        self._upload_failures = 0
        self._numbering_failures = 0
        self._paused_until = 0.0
        self._numbering_until = 0.0
        self._uploading = 0
        self._calls = 0
        self._max_batch = self.tuning.batch
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self.counters: Counter[str] = Counter()
        self._numberer = Numberer(bureau, numbers, seller_tax_id, self.counters, range_size=self.tuning.range_size,
                                  time_max_age_s=self.tuning.time_max_age_s, timeout_s=self.tuning.timeout_s)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the number book and resume every pending order from the outbox."""
        self.numbers.open()
        now = self._clock()
        for order in self.store:
            if order.status != "pending":
                continue
            oid = order.order_id
            if order.invoice_number is None:
                self._q.unnumbered[oid] = None
                continue
            self._track(oid).uncertain_since = now  # the process may have died mid-upload
            if order.upload_id is not None:
                self._uploads.setdefault(order.upload_id, {})[order.invoice_number] = oid
                self._q.polls[order.upload_id] = None
            else:
                self._q.ready[oid] = None
        self._loop = asyncio.get_running_loop().create_task(self._run(), name="lq-resilient")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._loop] if self._loop else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.numbers.close()

    # --- requests -----------------------------------------------------------------------

    async def submit(self, invoice: Invoice) -> Answer:
        oid = invoice.order_id
        answer, _ = await admit(self.store, invoice, self.tuning.max_pending)
        if answer is not None:
            return answer
        self._tracks[oid] = Track()
        self._q.unnumbered[oid] = None
        self._wake.set()
        event = self._waiters.setdefault(oid, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), self.tuning.confirm_wait_s)
        except asyncio.TimeoutError:
            pass
        finally:
            self._waiters.pop(oid, None)
        order = self.store.get(oid)
        assert order is not None
        return settled(order)

    async def reverse(self, order_id: str, reason: str) -> Answer:
        if self.store.get(order_id) is None:
            return 404, error_body("NOT_FOUND", f"no order {order_id}")
        return 409, error_body("NOT_SUPPORTED", LQ_REVERSE)

    # --- the loop -----------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                timeout = await self._turn()
            except Exception:  # noqa: BLE001 - a bug must not stop every order: log, go on
                log.exception("the lq loop failed; going on in 1 s")
                timeout = 1.0
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def _turn(self) -> float | None:
        """Number what waits, launch what is due; the seconds until the next thing is due."""
        now = self._clock()
        self._q.release(now)
        if self._q.unnumbered and now >= self._numbering_until:
            try:
                await self._number_batch()
            except Exception:  # noqa: BLE001 - logged; the orders stay queued
                log.exception("numbering failed; retrying in 1 s")
                self._numbering_until = self._clock() + 1.0
            now = self._clock()
            self._q.release(now)
        self._launch(now)
        wakeups = [t for t in (self._q.next_timer(),) if t is not None]
        if self._q.unnumbered:
            wakeups.append(self._numbering_until)
        if self._q.ready and self._uploading < self.tuning.uploads_in_flight:
            wakeups.append(self._paused_until)
        return max(0.0, min(wakeups) - now) if wakeups else None

    def _launch(self, now: float) -> None:
        while self._q.ready and self._uploading < self.tuning.uploads_in_flight and now >= self._paused_until:
            batch = self._take_batch()
            if not batch:
                break
            self._uploading += 1
            self._spawn(self._upload(batch))
        while self._calls < self.tuning.calls_in_flight and (self._q.polls or self._q.lookups):
            self._calls += 1
            if self._q.polls:
                self._spawn(self._poll(take_first(self._q.polls)))
            else:
                oid = next(iter(self._q.lookups))
                self._spawn(self._lookup(oid, self._q.lookups.pop(oid)))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("lq task failed: %r", task.exception())
        self._wake.set()

    # --- numbering ----------------------------------------------------------------------

    async def _number_batch(self) -> None:
        ids: list[str] = []
        while self._q.unnumbered and len(ids) < self.tuning.batch:
            oid = take_first(self._q.unnumbered)
            order = self.store.get(oid)
            if order is not None and order.status == "pending":
                ids.append(oid)
        if not ids:
            return
        try:
            for number in list(self._void):
                await self.numbers.void(number)
                self._void.discard(number)
            when, numbers = await self._numberer.numbers_for(len(ids))
        except Unavailable as exc:
            self._q.requeue_unnumbered(ids)
            self._numbering_failures += 1
            delay = self.tuning.backoff.delay(self._numbering_failures, self._rng, exc.retry_after)
            self._numbering_until = self._clock() + max(delay, 0.05)
            log.info("cannot number %d orders now (%s); again in %.2f s", len(ids), exc, delay)
            return
        self._numbering_failures = 0
        issued_at = kprq(when)
        rows = []
        for oid, number in zip(ids, numbers, strict=True):
            order = self.store.get(oid)
            if order is not None and order.status == "pending":
                rows.append(order.evolve(invoice_number=number, issued_at=issued_at, upload_id=None, error=None))
        # On disk before any upload carries them: a restart must know which number each order has.
        await asyncio.gather(*(self.store.put(row) for row in rows))
        for row in rows:
            self._track(row.order_id).uncertain_since = None
            self._q.ready[row.order_id] = None

    # --- uploads ------------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[Order, bytes]]:
        batch: list[tuple[Order, bytes]] = []
        size = 0
        while self._q.ready and len(batch) < self._max_batch:
            oid = next(iter(self._q.ready))
            order = self.store.get(oid)
            if order is None or order.status != "pending" or order.invoice_number is None:
                del self._q.ready[oid]
                continue
            item = upload_item(order)
            if batch and size + len(item) > self.tuning.batch_bytes:
                break
            del self._q.ready[oid]
            batch.append((order, item))
            size += len(item) + 1
        return batch

    async def _upload(self, batch: list[tuple[Order, bytes]]) -> None:
        try:
            body = b'{"invoices":[' + b",".join(item for _, item in batch) + b"]}"
            answer = await self.bureau.upload(body, self.tuning.timeout_s)
            self.counters[f"upload:{answer.kind}"] += 1
            uid = answer.body.get("upload_id") if answer.kind == "ok" and answer.body else None
            if isinstance(uid, str):
                self._upload_failures = 0
                waiting = self._uploads.setdefault(uid, {})
                for order, _ in batch:
                    current = self._still(order)
                    if current is not None:
                        self.store.record(current.evolve(upload_id=uid))
                        waiting[order.invoice_number] = order.order_id  # type: ignore[index]
                self._q.later(self.tuning.poll_s, "poll", uid)
                return
            now = self._clock()
            if answer.kind == "unknown":  # it may be stored all the same, and judged unseen
                for order, _ in batch:
                    track = self._track(order.order_id)
                    track.uncertain_since = track.uncertain_since or now
            if answer.kind == "refused" and answer.status == 413 and len(batch) > 1:
                self._max_batch = max(1, len(batch) // 2)
            self._upload_failures += 1
            delay = self.tuning.backoff.delay(self._upload_failures, self._rng, answer.retry_after)
            self._paused_until = max(self._paused_until, now + delay)
            log.info("upload of %d: %s; uploads paused %.2f s", len(batch), answer.describe(), delay)
            for order, _ in batch:
                self._q.ready[order.order_id] = None
        finally:
            self._uploading -= 1

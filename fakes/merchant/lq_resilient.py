"""The ``resilient`` profile on the 乐企 channel (``--channel lq``): what a merchant should do.

    POST /invoices ─▶ validate ─▶ outbox row (pending, on disk) ─▶ number ─▶ upload ─▶ poll ─▶ 00
                                                                  │           │         │
                                  durable counter, then the row   │  ≤100 per │  results│ 03: look the
                                  with its number, both on disk   │  upload   │  expire:│ number up
                                  before any upload carries it ───┘           │  look up│

One loop owns the queues; uploads, polls and look-ups run as tasks beside it. The rules:

- *Never reuse a number.* ``NumberBook.take`` writes the advanced counter before it returns; the
  rows carrying the numbers are on disk before the upload is sent. A crash leaves gaps only.
- *Bureau time.* ``issued_at`` is bureau time (``BUREAU_TIME_URL``, ``X-Bureau-Time``), refreshed
  when older than a second, and a number is taken from a range of that date's year: a new range
  is allocated when the year changed.
- *Batches.* Up to 100 invoices (and 4 MiB) per upload, at most ``uploads_in_flight`` at once.
- *The decision table* (``lq_decide``): 00 issued; 03 look the number up (this order's: issued;
  another's: new number); 02 ``VALIDATION_FAILED`` failed; ``NUMBER_*``, ``ISSUED_IN_FUTURE``,
  ``DEADLINE_PASSED``, ``MONTH_CLOSED``: a new number dated now; ``QUOTA_EXCEEDED`` and the rest:
  hold and upload again later.
- *Account-level refusals* (401, 403 quota, 429, 503) and unknown outcomes of an upload pause all
  uploads with backoff (never less than ``Retry-After``) and keep every order; an upload whose
  answer was lost is sent again under the same numbers (an accepted one answers 03).
- *Expired results* (410): each undecided number is looked up; not found: uploaded again.
- *Answers.* 201 only after 00, or 03 proven by look-up to be this order's; 202 until then.
- *Restart.* Every pending row resumes: unnumbered ones are numbered, numbered ones re-polled
  (their upload is known) or uploaded again under the same number.

One limit of the channel: an upload whose 202 was lost cannot be polled (no id) nor found by
order (no look-up by order reference). If a later copy of it is refused in a way the lost copy
might not be (``DEADLINE_PASSED``, ``ISSUED_IN_FUTURE``, an injected code), the order is
re-numbered only after ``uncertain_grace_s`` and a look-up that finds nothing; a lost copy held
longer than that could still be accepted (a duplicate).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from fakes.merchant.lq_client import LqBureau
from fakes.merchant.lq_decide import Action, decide, detail_code
from fakes.merchant.lq_numbers import NumberBook, NumberRange, RangeAnswerError
from fakes.merchant.lq_time import cst_year, kprq, month_of, parse_kprq
from fakes.merchant.orders import Invoice, error_body
from fakes.merchant.profiles import Answer, admit, settled
from fakes.merchant.resilience import Backoff
from fakes.merchant.store import Order, Store

log = logging.getLogger("invoice_chaos.merchant")
# A lost copy of an upload is refused like this copy whatever happens (same number and date,
# judged no earlier): re-numbering at once cannot make a duplicate.
SAFE_TO_REISSUE = frozenset({"MONTH_CLOSED", "NUMBER_YEAR", "NUMBER_NOT_ALLOCATED"})
# When a refresh fails (the network, not the bureau: its refusals carry X-Bureau-Time too), an
# estimate this old still dates invoices; an older one could be far behind a clock jump.
TIME_TRUST_S = 30.0
LQ_REVERSE = ("reversals on the 乐企 channel (红字确认单, CONTRACT §5.6) are not supported by the reference "
              "merchant yet; run it with --channel sync to reverse invoices")


@dataclass(frozen=True)
class LqTuning:
    confirm_wait_s: float = 1.0      # how long POST /invoices waits for a 201 before a 202
    max_pending: int = 10_000        # the bounded queue: beyond it, 503
    batch: int = 100                 # invoices per upload (LQ §2.2.4.1)
    batch_bytes: int = 4 << 20       # below the bureau's 5 MiB body limit
    range_size: int = 1000           # numbers per allocation (at most 5000)
    uploads_in_flight: int = 4
    calls_in_flight: int = 16        # polls and look-ups
    poll_s: float = 0.25             # the platform asks for 10 s; the fake answers in ~1 s
    time_max_age_s: float = 1.0      # refresh bureau time when the last observation is older
    uncertain_grace_s: float = 5.0
    timeout_s: float = 5.0
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.1, cap_s=2.0))


class Unavailable(Exception):
    """Numbering cannot go on now (no bureau time, no range); retry after a pause."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


@dataclass
class _Track:
    """In-memory state of a pending order."""

    attempt: int = 0                       # consecutive holds or failed calls, for backoff
    uncertain_since: float | None = None   # a copy of its upload may be stored unseen since then


def upload_item(order: Order) -> bytes:
    """The order's invoice as uploaded: the stored §1 payload plus its number and 开票日期."""
    payload = order.payload
    assert payload.endswith("}") and order.invoice_number is not None and order.issued_at is not None
    return f'{payload[:-1]},"invoice_number":"{order.invoice_number}","issued_at":"{order.issued_at}"}}'.encode()


class LqResilient:
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
        # Queues of work due now (insertion-ordered dicts as sets) and a heap of work due later.
        self._unnumbered: dict[str, None] = {}
        self._ready: dict[str, None] = {}
        self._polls: dict[str, None] = {}
        self._lookups: dict[str, str] = {}                  # order -> why it is looked up
        self._timers: list[tuple[float, int, str, str, str]] = []
        self._seq = itertools.count()
        self._uploads: dict[str, dict[str, str]] = {}       # upload id -> {number: order} undecided
        self._poll_attempts: Counter[str] = Counter()
        self._tracks: dict[str, _Track] = {}
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
                self._unnumbered[oid] = None
                continue
            self._track(oid).uncertain_since = now  # the process may have died mid-upload
            if order.upload_id is not None:
                self._uploads.setdefault(order.upload_id, {})[order.invoice_number] = oid
                self._polls[order.upload_id] = None
            else:
                self._ready[oid] = None
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
        self._tracks[oid] = _Track()
        self._unnumbered[oid] = None
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
        self._release(now)
        if self._unnumbered and now >= self._numbering_until:
            try:
                await self._number_batch()
            except Exception:  # noqa: BLE001 - logged; the orders stay queued
                log.exception("numbering failed; retrying in 1 s")
                self._numbering_until = self._clock() + 1.0
            now = self._clock()
            self._release(now)
        self._launch(now)
        wakeups = [t[0] for t in self._timers[:1]]
        if self._unnumbered:
            wakeups.append(self._numbering_until)
        if self._ready and self._uploading < self.tuning.uploads_in_flight:
            wakeups.append(self._paused_until)
        return max(0.0, min(wakeups) - now) if wakeups else None

    def _later(self, delay: float, queue: str, key: str, why: str = "") -> None:
        heapq.heappush(self._timers, (self._clock() + delay, next(self._seq), queue, key, why))

    def _release(self, now: float) -> None:
        """Move timers that are due into their queues."""
        while self._timers and self._timers[0][0] <= now:
            _, _, queue, key, why = heapq.heappop(self._timers)
            if queue == "ready":
                self._ready[key] = None
            elif queue == "poll":
                self._polls[key] = None
            elif queue == "lookup":
                self._lookups[key] = why

    def _launch(self, now: float) -> None:
        while self._ready and self._uploading < self.tuning.uploads_in_flight and now >= self._paused_until:
            batch = self._take_batch()
            if not batch:
                break
            self._uploading += 1
            self._spawn(self._upload(batch))
        while self._calls < self.tuning.calls_in_flight and (self._polls or self._lookups):
            self._calls += 1
            if self._polls:
                uid = next(iter(self._polls))
                del self._polls[uid]
                self._spawn(self._poll(uid))
            else:
                oid = next(iter(self._lookups))
                why = self._lookups.pop(oid)
                self._spawn(self._lookup(oid, why))

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
        while self._unnumbered and len(ids) < self.tuning.batch:
            oid = next(iter(self._unnumbered))
            del self._unnumbered[oid]
            order = self.store.get(oid)
            if order is not None and order.status == "pending":
                ids.append(oid)
        if not ids:
            return
        try:
            for number in list(self._void):
                await self.numbers.void(number)
                self._void.discard(number)
            when, numbers = await self._numbers_for(len(ids))
        except Unavailable as exc:
            self._unnumbered = {**dict.fromkeys(ids), **self._unnumbered}
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
            self._ready[row.order_id] = None

    async def _numbers_for(self, count: int) -> tuple[float, list[str]]:
        """A bureau time and ``count`` numbers from ranges of that time's year."""
        when = await self._bureau_now()
        for _ in range(3):
            year = cst_year(when)
            if self.numbers.left(year) >= count:
                return when, await self.numbers.take(year, count)
            await self._allocate(max(self.tuning.range_size, count))
            when = self.bureau.time.now() or when  # the allocation's own X-Bureau-Time
        raise Unavailable("no range of the bureau's current year")

    async def _bureau_now(self) -> float:
        clock = self.bureau.time
        if clock.age() > self.tuning.time_max_age_s:
            answer = await self.bureau.bureau_time(self.tuning.timeout_s)
            self.counters[f"time:{answer.kind}"] += 1
        now = clock.now()
        if now is None or clock.age() > TIME_TRUST_S:
            raise Unavailable("bureau time unknown")
        return now

    async def _allocate(self, count: int) -> NumberRange:
        intent = self.numbers.intent or await self.numbers.new_intent(count)
        answer = await self.bureau.allocate(intent.request_id, self._seller, intent.count, self.tuning.timeout_s)
        self.counters[f"range:{answer.kind}"] += 1
        if answer.kind == "ok" and answer.body is not None:
            try:
                return await self.numbers.add(answer.body)
            except RangeAnswerError as exc:
                raise Unavailable(str(exc)) from None
        if answer.kind == "refused":  # this request id cannot be replayed (409) or was refused: a new one
            await self.numbers.drop_intent()
        raise Unavailable(f"range allocation: {answer.describe()}", answer.retry_after)

    # --- uploads ------------------------------------------------------------------------

    def _take_batch(self) -> list[tuple[Order, bytes]]:
        batch: list[tuple[Order, bytes]] = []
        size = 0
        while self._ready and len(batch) < self._max_batch:
            oid = next(iter(self._ready))
            order = self.store.get(oid)
            if order is None or order.status != "pending" or order.invoice_number is None:
                del self._ready[oid]
                continue
            item = upload_item(order)
            if batch and size + len(item) > self.tuning.batch_bytes:
                break
            del self._ready[oid]
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
                self._later(self.tuning.poll_s, "poll", uid)
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
                self._ready[order.order_id] = None
        finally:
            self._uploading -= 1

    # --- results ------------------------------------------------------------------------

    async def _poll(self, uid: str) -> None:
        try:
            answer = await self.bureau.results(uid, self.tuning.timeout_s)
            self.counters[f"results:{answer.kind}"] += 1
            waiting = self._uploads.get(uid)
            if waiting is None:
                return
            results = answer.body.get("results") if answer.kind == "ok" and answer.body else None
            if isinstance(results, list):
                self._poll_attempts.pop(uid, None)
                for result in results:
                    if isinstance(result, dict):
                        self._result(waiting, result)
                if waiting:
                    self._later(self.tuning.poll_s, "poll", uid)
                else:
                    del self._uploads[uid]
            elif answer.kind == "gone":  # 410 RESULT_EXPIRED, or 404: only a look-up can tell now
                for oid in waiting.values():
                    self._lookups[oid] = "expired"
                del self._uploads[uid]
                self._poll_attempts.pop(uid, None)
            else:
                self._poll_attempts[uid] += 1
                delay = self.tuning.backoff.delay(self._poll_attempts[uid], self._rng, answer.retry_after)
                self._later(self.tuning.poll_s + delay, "poll", uid)
        finally:
            self._calls -= 1

    def _result(self, waiting: dict[str, str], result: dict[str, Any]) -> None:
        number = result.get("invoice_number")
        oid = waiting.get(number) if isinstance(number, str) else None
        if oid is None:
            return
        order = self.store.get(oid)
        if order is None or order.status != "pending" or order.invoice_number != number:
            del waiting[number]  # type: ignore[arg-type]
            return
        detail = detail_code(result)
        action = decide(result.get("code"), detail, month_passed=self._month_passed(order))
        if action == "wait":
            return
        del waiting[number]  # type: ignore[arg-type]
        self._act(action, order, detail, str(result.get("message") or ""))

    def _act(self, action: Action, order: Order, detail: str | None, message: str) -> None:
        oid = order.order_id
        if action == "issued":
            self._decided(order.evolve(status="issued", error=None))
        elif action == "failed":
            self._decided(order.evolve(status="failed", error=f"02 {detail}: {message}"))
        elif action == "lookup":
            self._lookups[oid] = "03"
        elif action == "reissue":
            self._reissue(order, detail)
        else:  # hold: the same invoice again, later
            track = self._track(oid)
            track.attempt += 1
            self._later(self.tuning.backoff.delay(track.attempt, self._rng), "ready", oid)

    def _reissue(self, order: Order, detail: str | None) -> None:
        oid = order.order_id
        if detail == "NUMBER_NOT_ALLOCATED" and order.invoice_number is not None:
            self._void.add(order.invoice_number)
        if detail == "ISSUED_IN_FUTURE":
            self.bureau.time.stale()
        track = self._track(oid)
        if track.uncertain_since is not None and detail not in SAFE_TO_REISSUE:
            wait = track.uncertain_since + self.tuning.uncertain_grace_s - self._clock()
            self._later(max(0.0, wait), "lookup", oid, "reissue")
            return
        log.info("order %s: %s; re-issuing under a new number dated now", oid, detail)
        self._unnumbered[oid] = None

    async def _lookup(self, oid: str, why: str) -> None:
        try:
            order = self.store.get(oid)
            if order is None or order.status != "pending" or order.invoice_number is None:
                return
            number = order.invoice_number
            answer = await self.bureau.lookup(number, self.tuning.timeout_s)
            self.counters[f"lookup:{answer.kind}"] += 1
            order = self._still(order)
            if order is None:
                return
            track = self._track(oid)
            if answer.kind == "ok" and answer.body is not None:
                if self._ours(answer.body, oid):
                    self._decided(order.evolve(status="issued", error=None))
                else:  # accepted for another order: ours can never be accepted under this number
                    log.warning("order %s: number %s belongs to order %s; re-issuing", oid, number,
                                answer.body.get("external_id"))
                    self._unnumbered[oid] = None
            elif answer.kind == "gone" and why == "expired":
                self._ready[oid] = None  # upload it again: an accepted number answers 03
            elif answer.kind == "gone" and why == "reissue":
                self._unnumbered[oid] = None
            else:  # not visible yet after a 03 (visibility lag), or the look-up failed: look again
                track.attempt += 1
                self._later(self.tuning.backoff.delay(track.attempt, self._rng, answer.retry_after), "lookup", oid, why)
        finally:
            self._calls -= 1

    # --- helpers ------------------------------------------------------------------------

    def _decided(self, order: Order) -> None:
        # Not waited for: a row still pending on disk is resumed and resolved again after a crash.
        self.store.record(order)
        self._tracks.pop(order.order_id, None)
        event = self._waiters.get(order.order_id)
        if event is not None:
            event.set()

    def _still(self, order: Order) -> Order | None:
        """The order as it is now, if it is still pending under the same number."""
        current = self.store.get(order.order_id)
        if current is None or current.status != "pending" or current.invoice_number != order.invoice_number:
            return None
        return current

    def _track(self, oid: str) -> _Track:
        return self._tracks.setdefault(oid, _Track())

    def _ours(self, record: dict[str, Any], oid: str) -> bool:
        seller = record.get("seller")
        seller_id = seller.get("tax_id") if isinstance(seller, dict) else None
        return record.get("external_id") == oid and not record.get("red_for") and seller_id in (None, self._seller)

    def _month_passed(self, order: Order) -> bool:
        now = self.bureau.time.now()
        if now is None or order.issued_at is None:
            return False
        try:
            return month_of(now) > month_of(parse_kprq(order.issued_at))
        except ValueError:
            return False

"""What an upload result or a look-up makes of a pending order (the resilient 乐企 profile).

A mixin of ``LqResilient`` (``fakes.merchant.lq_resilient``), which owns the state it reads:
``_poll`` reads one upload's results and applies the decision table (``lq_decide``) to each
undecided number; ``_lookup`` asks the bureau about one number after a ``03`` or an expired
result, or before re-numbering an order whose earlier upload may be stored unseen. Both run as
tasks beside the profile's loop and give their call slot back when done.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from fakes.merchant.lq_client import LqBureau
from fakes.merchant.lq_decide import Action, decide, detail_code
from fakes.merchant.lq_state import LqTuning, Track, WorkQueues
from fakes.merchant.lq_time import month_of, parse_kprq
from fakes.merchant.store import Order, Store

log = logging.getLogger("invoice_chaos.merchant")
# A lost copy of an upload is refused like this copy whatever happens (same number and date,
# judged no earlier): re-numbering at once cannot make a duplicate.
SAFE_TO_REISSUE = frozenset({"MONTH_CLOSED", "NUMBER_YEAR", "NUMBER_NOT_ALLOCATED"})


class Outcomes:
    """Results and look-ups; the attributes below are ``LqResilient``'s, declared for typing."""

    store: Store
    bureau: LqBureau
    tuning: LqTuning
    counters: Counter[str]
    _seller: str
    _rng: random.Random
    _clock: Callable[[], float]
    _q: WorkQueues
    _uploads: dict[str, dict[str, str]]     # upload id -> {number: order} not decided yet
    _poll_attempts: Counter[str]
    _tracks: dict[str, Track]
    _waiters: dict[str, asyncio.Event]
    _void: set[str]
    _calls: int

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
                    self._q.later(self.tuning.poll_s, "poll", uid)
                else:
                    del self._uploads[uid]
            elif answer.kind == "gone":  # 410 RESULT_EXPIRED, or 404: only a look-up can tell now
                for oid in waiting.values():
                    self._q.lookups[oid] = "expired"
                del self._uploads[uid]
                self._poll_attempts.pop(uid, None)
            else:
                self._poll_attempts[uid] += 1
                delay = self.tuning.backoff.delay(self._poll_attempts[uid], self._rng, answer.retry_after)
                self._q.later(self.tuning.poll_s + delay, "poll", uid)
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
            self._q.lookups[oid] = "03"
        elif action == "reissue":
            self._reissue(order, detail)
        else:  # hold: the same invoice again, later
            track = self._track(oid)
            track.attempt += 1
            self._q.later(self.tuning.backoff.delay(track.attempt, self._rng), "ready", oid)

    def _reissue(self, order: Order, detail: str | None) -> None:
        oid = order.order_id
        if detail == "NUMBER_NOT_ALLOCATED" and order.invoice_number is not None:
            self._void.add(order.invoice_number)
        if detail == "ISSUED_IN_FUTURE":
            self.bureau.time.stale()
        track = self._track(oid)
        if track.uncertain_since is not None and detail not in SAFE_TO_REISSUE:
            wait = track.uncertain_since + self.tuning.uncertain_grace_s - self._clock()
            self._q.later(max(0.0, wait), "lookup", oid, "reissue")
            return
        log.info("order %s: %s; re-issuing under a new number dated now", oid, detail)
        self._q.unnumbered[oid] = None

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
                    self._q.unnumbered[oid] = None
            elif answer.kind == "gone" and why == "expired":
                self._q.ready[oid] = None  # upload it again: an accepted number answers 03
            elif answer.kind == "gone" and why == "reissue":
                self._q.unnumbered[oid] = None
            else:  # not visible yet after a 03 (visibility lag), or the look-up failed: look again
                track.attempt += 1
                self._q.later(self.tuning.backoff.delay(track.attempt, self._rng, answer.retry_after), "lookup", oid, why)
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

    def _track(self, oid: str) -> Track:
        return self._tracks.setdefault(oid, Track())

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

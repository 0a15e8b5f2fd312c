"""Numbering on the 乐企 channel: a bureau time to date with and fresh numbers of that year.

``Numberer`` is the resilient profile's numbering step (``fakes.merchant.lq_resilient``):

- bureau time from ``BUREAU_TIME_URL`` when the last observation (any answer's
  ``X-Bureau-Time``) is older than ``time_max_age_s``; never the machine's clock;
- numbers from a range of that time's year in the ``NumberBook`` (its counter is on disk
  before a number is handed out); when the year has too few, a new range is allocated under a
  request id stored before the call, so a retry after a lost answer or a crash replays it;
- ``Unavailable`` when it cannot go on now (no bureau time, no range): the caller retries.

``upload_item`` is one invoice as uploaded (CONTRACT §5.4): the stored §1 payload plus its
number and 开票日期, without re-encoding the payload.
"""

from __future__ import annotations

from collections import Counter

from fakes.merchant.lq_client import LqBureau
from fakes.merchant.lq_numbers import NumberBook, NumberRange, RangeAnswerError
from fakes.merchant.lq_time import cst_year
from fakes.merchant.store import Order

# When a refresh fails (the network, not the bureau: its refusals carry X-Bureau-Time too), an
# estimate this old still dates invoices; an older one could be far behind a clock jump.
TIME_TRUST_S = 30.0


class Unavailable(Exception):
    """Numbering cannot go on now (no bureau time, no range); retry after a pause."""

    def __init__(self, why: str, retry_after: float | None = None) -> None:
        super().__init__(why)
        self.retry_after = retry_after


def upload_item(order: Order) -> bytes:
    """The order's invoice as uploaded: the stored §1 payload plus its number and 开票日期."""
    payload = order.payload
    assert payload.endswith("}") and order.invoice_number is not None and order.issued_at is not None
    return f'{payload[:-1]},"invoice_number":"{order.invoice_number}","issued_at":"{order.issued_at}"}}'.encode()


class Numberer:
    def __init__(self, bureau: LqBureau, numbers: NumberBook, seller_tax_id: str, counters: Counter[str], *,
                 range_size: int, time_max_age_s: float, timeout_s: float) -> None:
        self.bureau = bureau
        self.numbers = numbers
        self._seller = seller_tax_id
        self._counters = counters
        self._range_size = range_size
        self._time_max_age_s = time_max_age_s
        self._timeout_s = timeout_s

    async def numbers_for(self, count: int) -> tuple[float, list[str]]:
        """A bureau time and ``count`` numbers from ranges of that time's year."""
        when = await self.bureau_now()
        for _ in range(3):
            year = cst_year(when)
            if self.numbers.left(year) >= count:
                return when, await self.numbers.take(year, count)
            await self.allocate(max(self._range_size, count))
            when = self.bureau.time.now() or when  # the allocation's own X-Bureau-Time
        raise Unavailable("no range of the bureau's current year")

    async def bureau_now(self) -> float:
        clock = self.bureau.time
        if clock.age() > self._time_max_age_s:
            answer = await self.bureau.bureau_time(self._timeout_s)
            self._counters[f"time:{answer.kind}"] += 1
        now = clock.now()
        if now is None or clock.age() > TIME_TRUST_S:
            raise Unavailable("bureau time unknown")
        return now

    async def allocate(self, count: int) -> NumberRange:
        intent = self.numbers.intent or await self.numbers.new_intent(count)
        answer = await self.bureau.allocate(intent.request_id, self._seller, intent.count, self._timeout_s)
        self._counters[f"range:{answer.kind}"] += 1
        if answer.kind == "ok" and answer.body is not None:
            try:
                return await self.numbers.add(answer.body)
            except RangeAnswerError as exc:
                raise Unavailable(str(exc)) from None
        if answer.kind == "refused":  # this request id cannot be replayed (409) or was refused: a new one
            await self.numbers.drop_intent()
        raise Unavailable(f"range allocation: {answer.describe()}", answer.retry_after)

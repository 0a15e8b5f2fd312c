"""Number ranges (号段, CONTRACT §5.3): allocation, replay by request id, and number look-up.

A 乐企 number is 20 digits: the 2-digit year of bureau time at allocation, the region code,
``70`` (乐企 自用, digits 5-6), a 14-digit sequence. Sequences come from one counter for every
seller and year, so ranges never overlap; a range is known (and usable) only once it is
durably committed, and the counter continues past the highest range after a restart, so a
range handed out is never handed out again. A range reserved but lost in a crash leaves a gap.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakes.bureau.clock import BureauClock, cst
from fakes.bureau.errors import ApiError
from fakes.bureau.ledger import Ledger
from fakes.bureau.lq import store
from fakes.bureau.rules import REQUEST_ID_RE, Problem, is_valid_uscc
from fakes.bureau.service import REPLAYED, Outcome, validation_failed

LQ_DIGITS = "70"  # 乐企 自用
MAX_SEQUENCE = 10**14 - 1
MAX_COUNT = 5000  # per allocation (LQ §1)


@dataclass(frozen=True)
class Range:
    range_id: str
    seller: str
    request_id: str
    year: int
    first_seq: int
    last_seq: int

    def number(self, seq: int, region: str) -> str:
        return f"{self.year % 100:02d}{region}{LQ_DIGITS}{seq:014d}"

    def answer(self, region: str) -> dict[str, Any]:
        return {"range_id": self.range_id, "year": self.year, "first": self.number(self.first_seq, region),
                "last": self.number(self.last_seq, region), "count": self.last_seq - self.first_seq + 1}


class RangeBook:
    def __init__(self, ledger: Ledger, clock: BureauClock, region: str, loaded: store.LqLoaded) -> None:
        self.ledger = ledger
        self.clock = clock
        self.region = region
        self.next_seq = loaded.next_range_seq
        self._ranges: list[Range] = []
        self._starts: list[int] = []
        self._by_key: dict[tuple[str, str], Range] = {}
        self._pending: dict[tuple[str, str], asyncio.Future[float]] = {}
        for row in loaded.ranges:
            self._add(Range(*row))

    async def allocate(self, body: Mapping[str, Any]) -> Outcome:
        """201 a new range; 200 the same range for a repeated request id and count; 409 otherwise."""
        request_id, seller, count = _allocation_fields(body)
        key = (seller, request_id)
        while (inflight := self._pending.get(key)) is not None:
            await asyncio.wait([inflight])
        known = self._by_key.get(key)
        if known is not None:
            if known.last_seq - known.first_seq + 1 != count:
                raise ApiError(409, "DUPLICATE_REQUEST",
                               f"request_id {request_id!r} already allocated {known.range_id} with another count",
                               extra={"range_id": known.range_id})
            return Outcome(200, known.answer(self.region), dict(REPLAYED))
        first = self.next_seq
        if first + count - 1 > MAX_SEQUENCE:
            raise ApiError(503, "NUMBERS_EXHAUSTED", "the bureau has no 乐企 numbers left")
        self.next_seq += count
        now = self.clock.now()
        year = cst(now).tm_year
        allocated = Range(f"R{year % 100:02d}{first:014d}", seller, request_id, year, first, first + count - 1)
        fut = self.ledger.submit_statements([(store.INSERT_RANGE, (
            allocated.range_id, seller, request_id, year, allocated.first_seq, allocated.last_seq, now))])
        self._pending[key] = fut
        try:
            await asyncio.shield(fut)
        except Exception as exc:
            raise ApiError(500, "INTERNAL_ERROR", f"the range could not be stored: {type(exc).__name__}") from exc
        finally:
            if self._pending.get(key) is fut:
                del self._pending[key]
        self._add(allocated)
        return Outcome(201, allocated.answer(self.region))

    def find(self, number: str, seller: str) -> Range | None:
        """The range of ``seller`` that holds ``number`` (a 20-digit string), if any."""
        if number[2:4] != self.region or number[4:6] != LQ_DIGITS:
            return None
        seq = int(number[6:])
        i = bisect.bisect_right(self._starts, seq) - 1
        if i < 0:
            return None
        found = self._ranges[i]
        if seq > found.last_seq or found.seller != seller or found.year % 100 != int(number[:2]):
            return None
        return found

    def reset(self) -> int:
        """Forget every range; the high-water mark to persist (the counter keeps counting)."""
        self._ranges, self._starts, self._by_key = [], [], {}
        return self.next_seq - 1

    @property
    def count(self) -> int:
        return len(self._ranges)

    def _add(self, allocated: Range) -> None:
        # Committed in allocation order, so appending keeps the list sorted by first_seq.
        i = bisect.bisect_right(self._starts, allocated.first_seq)
        self._ranges.insert(i, allocated)
        self._starts.insert(i, allocated.first_seq)
        self._by_key[(allocated.seller, allocated.request_id)] = allocated


def _allocation_fields(body: Mapping[str, Any]) -> tuple[str, str, int]:
    problems = []
    request_id, seller, count = body.get("request_id"), body.get("seller_tax_id"), body.get("count")
    if not isinstance(request_id, str) or not REQUEST_ID_RE.fullmatch(request_id):
        problems.append(Problem("request_id", "REQUIRED" if request_id is None else "FORMAT",
                                f"request_id {request_id!r} must be 1-64 of A-Z a-z 0-9 _ - (it makes the allocation retry-safe)"))
    if not isinstance(seller, str) or not is_valid_uscc(seller):
        problems.append(Problem("seller_tax_id", "REQUIRED" if seller is None else "CHECK_CHARACTER",
                                f"seller_tax_id {seller!r} must be a valid 18-character 统一社会信用代码"))
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        problems.append(Problem("count", "REQUIRED" if count is None else "RANGE",
                                f"count {count!r} must be an integer from 1 to {MAX_COUNT}"))
    if problems:
        raise validation_failed(problems, "the range request")
    return request_id, seller, count  # type: ignore[return-value]

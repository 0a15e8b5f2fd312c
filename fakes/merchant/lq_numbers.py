"""The merchant's number ranges (号段) and the counter inside each (CONTRACT §5.3).

On the 乐企 channel the merchant numbers its invoices itself, so reusing a number is the
merchant's bug: the bureau answers ``03`` for the second invoice and it is never accepted.
``NumberBook`` holds the ranges the bureau allocated and the next free sequence of each.

Durable (a path given): one SQLite file (WAL, ``synchronous=FULL``) of ranges and counters.
``take`` writes the advanced counters to disk *before* it returns the numbers, so after a
``kill -9`` the book continues past every number ever handed out (a number taken but never
used is a gap, never a repeat). An allocation's ``request_id`` is stored before it is sent
(``intent``), so a retry after a lost answer or a crash replays the same range instead of
wasting one. In memory (no path): the same book that forgets everything on exit — the
``naive`` profile's mistake.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ranges (
    range_id TEXT PRIMARY KEY,
    year INTEGER NOT NULL,
    first TEXT NOT NULL,          -- 20 digits
    last TEXT NOT NULL,
    next_seq INTEGER NOT NULL,    -- the next unused 14-digit sequence
    void INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS intents (
    request_id TEXT PRIMARY KEY,
    count INTEGER NOT NULL
);
"""


class RangeAnswerError(ValueError):
    """The bureau's range answer is not what CONTRACT §5.3 says it is."""


@dataclass
class NumberRange:
    range_id: str
    year: int
    prefix: str     # the 6 digits before the sequence: YY + region + 70
    first_seq: int
    last_seq: int
    next_seq: int
    void: bool = False

    @property
    def left(self) -> int:
        return 0 if self.void else self.last_seq - self.next_seq + 1

    def number(self, seq: int) -> str:
        return f"{self.prefix}{seq:014d}"


@dataclass(frozen=True)
class Intent:
    request_id: str
    count: int


def parse_range(answer: dict[str, Any]) -> NumberRange:
    """A range from the bureau's 201/200 answer; ``RangeAnswerError`` when it is malformed."""
    rid, year, first, last = (answer.get(k) for k in ("range_id", "year", "first", "last"))
    if not (isinstance(rid, str) and isinstance(year, int) and isinstance(first, str) and isinstance(last, str)
            and len(first) == len(last) == 20 and first.isdigit() and last.isdigit() and first[:6] == last[:6]
            and int(first[6:]) <= int(last[6:]) and first[:2] == f"{year % 100:02d}"):
        raise RangeAnswerError(f"not a range answer: {answer!r}")
    return NumberRange(rid, year, first[:6], int(first[6:]), int(last[6:]), int(first[6:]))


class NumberBook:
    """Ranges and counters; durable with ``path``, in memory without. One event loop uses it."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._ranges: dict[str, NumberRange] = {}
        self._intent: Intent | None = None
        self._lock = asyncio.Lock()    # one take at a time
        self._wlock = asyncio.Lock()   # one transaction at a time on the connection
        self._inflight: asyncio.Future[None] | None = None

    @property
    def durable(self) -> bool:
        return self._path is not None

    def open(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        for rid, year, first, last, next_seq, void in db.execute(
                "SELECT range_id, year, first, last, next_seq, void FROM ranges"):
            self._ranges[rid] = NumberRange(rid, year, first[:6], int(first[6:]), int(last[6:]), next_seq, bool(void))
        row = db.execute("SELECT request_id, count FROM intents LIMIT 1").fetchone()
        self._intent = Intent(row[0], row[1]) if row else None
        self._db = db

    async def close(self) -> None:
        """Close after the transaction in flight, if any (its waiter may have been cancelled)."""
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait([self._inflight])
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- reads ----------------------------------------------------------------------------

    def left(self, year: int) -> int:
        """Numbers still free in this year's ranges."""
        return sum(r.left for r in self._ranges.values() if r.year == year)

    @property
    def ranges(self) -> list[NumberRange]:
        return list(self._ranges.values())

    @property
    def intent(self) -> Intent | None:
        """The allocation asked for and not yet answered (durable: it survives a crash)."""
        return self._intent

    # --- writes ---------------------------------------------------------------------------

    async def new_intent(self, count: int, request_id: str | None = None) -> Intent:
        """Remember (durably) that a range of ``count`` is being asked for under a request id."""
        intent = Intent(request_id or f"MR-{uuid.uuid4().hex}", count)
        await self._write([("DELETE FROM intents", ()), ("INSERT INTO intents VALUES (?, ?)", (intent.request_id, count))])
        self._intent = intent
        return intent

    async def drop_intent(self) -> None:
        await self._write([("DELETE FROM intents", ())])
        self._intent = None

    async def add(self, answer: dict[str, Any]) -> NumberRange:
        """Record an allocated range (idempotent: a replayed answer changes nothing)."""
        allocated = parse_range(answer)
        known = self._ranges.get(allocated.range_id)
        if known is not None:
            await self.drop_intent()
            return known
        await self._write([
            ("INSERT OR IGNORE INTO ranges (range_id, year, first, last, next_seq) VALUES (?, ?, ?, ?, ?)",
             (allocated.range_id, allocated.year, answer["first"], answer["last"], allocated.next_seq)),
            ("DELETE FROM intents", ())])
        self._ranges[allocated.range_id] = allocated
        self._intent = None
        return allocated

    async def take(self, year: int, count: int) -> list[str]:
        """``count`` fresh numbers from this year's ranges, on disk as used before they return.

        ``ValueError`` when the year's ranges hold fewer (allocate first).
        """
        async with self._lock:
            if self.left(year) < count:
                raise ValueError(f"only {self.left(year)} numbers left for {year}, {count} asked")
            numbers: list[str] = []
            advanced: dict[str, int] = {}
            for r in sorted((r for r in self._ranges.values() if r.year == year and r.left), key=lambda r: r.next_seq):
                n = min(count - len(numbers), r.left)
                numbers.extend(r.number(seq) for seq in range(r.next_seq, r.next_seq + n))
                advanced[r.range_id] = r.next_seq + n
                if len(numbers) == count:
                    break
            await self._write([("UPDATE ranges SET next_seq = ? WHERE range_id = ?", (seq, rid))
                               for rid, seq in advanced.items()])
            for rid, seq in advanced.items():
                self._ranges[rid].next_seq = seq
            return numbers

    async def void(self, number: str) -> None:
        """Stop using the range that holds ``number`` (the bureau does not know it:
        NUMBER_NOT_ALLOCATED, e.g. after the bureau lost its ranges)."""
        for r in self._ranges.values():
            if not r.void and number[:6] == r.prefix and r.first_seq <= int(number[6:]) <= r.last_seq:
                await self._write([("UPDATE ranges SET void = 1 WHERE range_id = ?", (r.range_id,))])
                r.void = True

    async def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        if self._db is None:
            return
        async with self._wlock:
            # Shielded: a cancelled caller must not leave a transaction running unseen at close.
            self._inflight = asyncio.ensure_future(asyncio.to_thread(self._commit, statements))
            await asyncio.shield(self._inflight)

    def _commit(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        db = self._db
        if db is None:
            raise RuntimeError("the number book is closed")
        db.execute("BEGIN")
        try:
            for sql, args in statements:
                db.execute(sql, args)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

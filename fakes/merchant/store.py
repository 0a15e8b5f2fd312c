"""The merchant's durable order book: an SQLite outbox with group commit and an in-memory mirror.

Every order is one row, written whole (``INSERT OR REPLACE``), so a write is idempotent and the
last one wins. ``put`` updates the mirror at once and returns when the row is on disk
(WAL, ``synchronous=FULL``): callers answer 201/202 only after that, so an answer survives
``kill -9``. Writes queued while a commit runs share the next commit (group commit without a
timer). Reads come from the mirror, which ``open`` loads from disk on start.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger("invoice_chaos.merchant")
Status = Literal["pending", "issued", "failed", "reversed"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    invoice_number TEXT,
    total_with_tax TEXT NOT NULL,
    request_id TEXT,
    payload TEXT NOT NULL,
    error TEXT,
    reverse_reason TEXT,
    red_invoice_number TEXT,
    issued_at TEXT,
    upload_id TEXT
)
"""
_COLUMNS = ("order_id", "status", "invoice_number", "total_with_tax", "request_id", "payload",
            "error", "reverse_reason", "red_invoice_number", "issued_at", "upload_id")
# Columns added after the first release: an older outbox gains them on open (NULL in old rows).
_ADDED = ("issued_at", "upload_id")


@dataclass(frozen=True)
class Order:
    """What the merchant believes about one order. ``payload`` is the bureau body to send."""

    order_id: str
    status: Status
    total_with_tax: str
    payload: str
    invoice_number: str | None = None
    request_id: str | None = None
    error: str | None = None
    reverse_reason: str | None = None        # set: a reversal was asked for and is owed
    red_invoice_number: str | None = None
    issued_at: str | None = None             # 乐企: the 开票日期 the number was dated with
    upload_id: str | None = None             # 乐企: the last upload known to carry the number

    def evolve(self, **changes: Any) -> Order:
        return replace(self, **changes)

    def public(self) -> dict[str, Any]:
        """The order as GET /invoices/{order_id} and GET /ledger show it."""
        out: dict[str, Any] = {"order_id": self.order_id, "status": self.status}
        if self.invoice_number is not None:
            out["invoice_number"] = self.invoice_number
        out["total_with_tax"] = self.total_with_tax
        return out


class Store:
    """Durable order book; one instance per process, used from one event loop."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self._path = path
        self._durable = durable
        self._orders: dict[str, Order] = {}
        self._pending = 0
        self._queue: list[tuple[Order | None, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._db: sqlite3.Connection | None = None

    # --- lifecycle ----------------------------------------------------------------------

    def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={'FULL' if self._durable else 'OFF'}")
        db.execute(_SCHEMA)
        present = {row[1] for row in db.execute("PRAGMA table_info(orders)")}
        for column in _ADDED:
            if column not in present:
                db.execute(f"ALTER TABLE orders ADD COLUMN {column} TEXT")
        for row in db.execute(f"SELECT {', '.join(_COLUMNS)} FROM orders"):
            order = Order(**dict(zip(_COLUMNS, row, strict=True)))
            self._remember(order)
        self._db = db

    async def close(self) -> None:
        await self.barrier()
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- reads --------------------------------------------------------------------------

    def get(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def __iter__(self) -> Iterator[Order]:
        return iter(list(self._orders.values()))

    def __len__(self) -> int:
        return len(self._orders)

    @property
    def pending(self) -> int:
        return self._pending

    # --- writes -------------------------------------------------------------------------

    async def put(self, order: Order) -> Order:
        """Record ``order`` and return once it is on disk."""
        self._remember(order)
        await self._enqueue(order)
        return order

    def record(self, order: Order) -> None:
        """Record ``order`` without waiting for the disk.

        For outcomes the outbox can recover after a crash: a row left ``pending`` on disk is
        resumed on start and resolved by lookup at the bureau, so it need not be waited for.
        """
        self._remember(order)
        self._enqueue(order).add_done_callback(_log_failure)

    async def barrier(self) -> None:
        """Return once every write queued so far is on disk."""
        await self._enqueue(None)

    def _remember(self, order: Order) -> None:
        old = self._orders.get(order.order_id)
        self._pending += (order.status == "pending") - (old is not None and old.status == "pending")
        self._orders[order.order_id] = order

    def _enqueue(self, order: Order | None) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._queue.append((order, fut))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush_loop())
        return fut

    async def _flush_loop(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            rows = [_row(o) for o, _ in batch if o is not None]
            try:
                if rows:
                    await asyncio.to_thread(self._commit, rows)
            except Exception as exc:  # noqa: BLE001 - every waiter must learn the write failed
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(None)

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
        db = self._db
        if db is None:
            raise RuntimeError("the store is closed")
        db.execute("BEGIN")
        try:
            db.executemany(f"INSERT OR REPLACE INTO orders ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})", rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _row(order: Order) -> tuple[Any, ...]:
    return tuple(getattr(order, c) for c in _COLUMNS)


def _log_failure(fut: asyncio.Future[None]) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("the outbox could not write a row: %s", fut.exception())

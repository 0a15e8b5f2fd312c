"""The bureau's ledger: SQLite (WAL, synchronous=FULL) behind a group-commit writer thread.

Handlers never touch the write connection. They hand rows to ``Ledger.submit_*``, which buffer
them on the event loop. While no batch is in flight the buffer goes to the writer thread at
once; while one is, rows accumulate and go together as the next batch. The thread writes a
batch in one transaction and commits (one fsync for many invoices), then resolves the batch's
futures on the loop. One thread hand-off per batch, not per row. A 201 is sent only after its
future resolves, so every 201 survives ``kill -9``::

    handler --row--> buffer --batch--> writer thread: BEGIN; INSERT x N; COMMIT (fsync)
                       ^                                                     |
                       +------- loop: resolve futures, hand over next batch <-+

Request-log rows ride along in the same batches without anyone waiting for them, and so do
the asynchronous channel's statements (``submit_statements``: ranges, uploads, results,
confirmations, the clock), executed in order after the batch's invoices.
Reads use short-lived connections of their own (WAL readers never block the writer).
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    seq INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    seller_tax_id TEXT NOT NULL,
    request_id TEXT,
    external_id TEXT NOT NULL,
    red_for TEXT,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,  -- sync: the request as received (a repeat is compared with it); lq: ''
    record TEXT NOT NULL,
    committed_at REAL NOT NULL,
    channel TEXT NOT NULL DEFAULT 'sync',  -- sync (§1) or lq (§5.4)
    upload_id TEXT  -- lq: the upload that carried it
);
CREATE INDEX IF NOT EXISTS invoices_external_id ON invoices (external_id);
CREATE INDEX IF NOT EXISTS invoices_request_id ON invoices (request_id);
CREATE TABLE IF NOT EXISTS requests (id INTEGER PRIMARY KEY, line TEXT NOT NULL);  -- NDJSON lines of one batch
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# Files written before the asynchronous channel existed gain its columns on open.
_ADDED_COLUMNS = {"channel": "TEXT NOT NULL DEFAULT 'sync'", "upload_id": "TEXT"}
Statement = tuple[str, tuple[Any, ...]]
MAX_BATCH = 2000
LOG_FLUSH_S = 0.05  # request-log lines wait at most this long for a batch to ride with


class InvoiceRow(NamedTuple):
    """One invoice to commit. ``record`` is the JSON record without ``status``; ``payload`` the
    request's JSON text, kept so a repeated request_id can be compared with it (as parsed JSON).
    (A named tuple: immutable, and built in a fifth of a frozen dataclass's time, once per issue.)"""

    seq: int
    number: str
    seller_tax_id: str
    request_id: str | None
    external_id: str
    red_for: str | None
    payload: str
    record: str
    reverses: str | None = None  # a red invoice flips this blue invoice to ``reversed``
    channel: str = "sync"
    upload_id: str | None = None
    after: tuple[Statement, ...] = ()  # written in the same transaction (an lq result row)


@dataclass
class LoadedState:
    """What the bureau keeps in memory, rebuilt from the ledger at start-up."""

    next_seq: int
    invoices: int
    dedup: dict[tuple[str, str], str] = field(default_factory=dict)
    reversed_by: dict[str, str] = field(default_factory=dict)


_STOP = object()
Resolver = Callable[[float | BaseException], None]


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class Ledger:
    """Owns the database file: schema, start-up state, the writer thread and read helpers."""

    def __init__(self, path: str, max_batch: int = MAX_BATCH) -> None:
        self.path = path
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.backlog = 0
        # Loop side of the group commit: rows wait here while a batch is being committed.
        self._buffer: list[tuple[tuple[str, Any], asyncio.Future[float] | None]] = []
        self._in_flight = False
        self._flush_timer: asyncio.TimerHandle | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def open(self) -> LoadedState:
        """Create the schema if needed and load the dedup index, reversals and sequence."""
        conn = connect(self.path)
        try:
            conn.executescript(SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(invoices)")}
            if "payload" not in columns:
                raise sqlite3.DatabaseError("it was written by an older bureau (no payload column)")
            for name, decl in _ADDED_COLUMNS.items():
                if name not in columns:
                    conn.execute(f"ALTER TABLE invoices ADD COLUMN {name} {decl}")
            row = conn.execute("SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM invoices").fetchone()
            hwm = conn.execute("SELECT value FROM meta WHERE key = 'hwm'").fetchone()
            state = LoadedState(next_seq=max(row[0], hwm[0] if hwm else 0) + 1, invoices=row[1])
            # The first invoice committed under a (seller, request_id) is the one replays return.
            for seller, rid, number in conn.execute(
                "SELECT seller_tax_id, request_id, number FROM invoices"
                " WHERE request_id IS NOT NULL AND channel = 'sync' ORDER BY seq DESC"
            ):
                state.dedup[(seller, rid)] = number
            for red, blue in conn.execute(
                "SELECT number, red_for FROM invoices WHERE red_for IS NOT NULL AND channel = 'sync'"
            ):
                state.reversed_by[blue] = red
        finally:
            conn.close()
        return state

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Commit what is buffered, then stop the writer (SIGTERM path; on the loop thread)."""
        if self._thread is not None:
            if self._buffer:
                self._queue.put(self._buffer)
                self._buffer = []
            self._queue.put(_STOP)
            self._thread.join(timeout=30)
            self._thread = None

    # --- writes (event-loop side) -----------------------------------------------------------

    def submit_invoice(self, row: InvoiceRow) -> asyncio.Future[float]:
        """Queue an invoice; the future resolves to its ``committed_at`` once it is durable."""
        return self._submit(("invoice", row))

    def submit_reset(self, hwm: int) -> asyncio.Future[float]:
        return self._submit(("reset", hwm))

    def submit_statements(self, statements: list[Statement]) -> asyncio.Future[float]:
        """Queue statements for one transaction of the next batch; resolves once durable."""
        return self._submit(("exec", tuple(statements)))

    def write_quietly(self, statements: list[Statement]) -> None:
        """Like ``submit_statements`` for writes nobody waits for (a failure is dropped)."""
        fut = self.submit_statements(statements)
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())

    def barrier(self) -> asyncio.Future[float]:
        """Resolves once everything queued before it is committed."""
        return self._submit(("noop", None))

    def log_request(self, line: str) -> None:
        """Buffer a request-log line; it rides with the next batch (or a flush shortly after)."""
        self._buffer.append((("log", line), None))
        if not self._in_flight and self._flush_timer is None and self._loop is not None:
            self._flush_timer = self._loop.call_later(LOG_FLUSH_S, self._kick)

    def _submit(self, op: tuple[str, Any]) -> asyncio.Future[float]:
        assert self._loop is not None, "Ledger.start() was not called"
        fut: asyncio.Future[float] = self._loop.create_future()
        self.backlog += 1
        self._buffer.append((op, fut))
        self._kick()
        return fut

    def _kick(self) -> None:
        """Hand the buffer to the writer unless a batch is in flight (then it goes next)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._in_flight or not self._buffer:
            return
        batch, self._buffer = self._buffer[: self.max_batch], self._buffer[self.max_batch:]
        self._in_flight = True
        self._queue.put(batch)

    def _done(self, results: list[tuple[asyncio.Future[float], float | BaseException]]) -> None:
        """On the loop: a batch is durable (or failed); answer its waiters, start the next."""
        self._in_flight = False
        self.backlog -= len(results)
        for fut, outcome in results:
            if fut.done():
                continue
            if isinstance(outcome, BaseException):
                fut.set_exception(outcome)
            else:
                fut.set_result(outcome)
        self._kick()

    # --- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        conn = connect(self.path)
        try:
            while (batch := self._queue.get()) is not _STOP:
                self._write(conn, batch)
        finally:
            conn.close()

    def _write(self, conn: sqlite3.Connection, batch: list[Any]) -> None:
        outcome = self._transaction(conn, batch)
        if isinstance(outcome, BaseException) and len(batch) > 1:
            # One bad row must not fail its neighbours: retry each on its own (slow path).
            results = [(fut, self._transaction(conn, [item])) for item in batch for fut in [item[1]]]
        else:
            results = [(fut, outcome) for _, fut in batch]
        answered = [(fut, result) for fut, result in results if fut is not None]
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(self._done, answered)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _transaction(self, conn: sqlite3.Connection, batch: list[Any]) -> float | BaseException:
        """Write a batch in one transaction; its ``committed_at``, or the error (rolled back)."""
        committed_at = time.time()
        try:
            conn.execute("BEGIN IMMEDIATE")
            pending = _Pending()
            for (kind, payload), _ in batch:
                if kind == "invoice":
                    pending.invoices.append(_row_values(payload, committed_at))
                    if payload.reverses is not None:
                        pending.reversed.append((payload.reverses,))
                    pending.statements.extend(payload.after)
                elif kind == "exec":
                    pending.statements.extend(payload)
                elif kind == "log":
                    pending.log.append(payload)
                elif kind == "reset":
                    pending.flush(conn)  # what was queued before the reset is reset too
                    conn.execute("DELETE FROM invoices")
                    conn.execute("DELETE FROM requests")
                    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('hwm', ?)", (payload,))
            pending.flush(conn)
            conn.execute("COMMIT")
            self.batches += 1
        except Exception as exc:  # noqa: BLE001 - every waiter must hear about a failed commit
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return exc
        return committed_at

    # --- reads (own connections; safe from any thread) ---------------------------------------

    def read_one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        conn = self._reader()
        row: tuple[Any, ...] | None = conn.execute(sql, params).fetchone()
        return row

    def read_all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return list(self._reader().execute(sql, params).fetchall())

    def _reader(self) -> sqlite3.Connection:
        # One reader per thread: sqlite3 connections must not be shared across threads.
        local = _thread_local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is None or getattr(local, "path", None) != self.path:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=10000")
            local.conn, local.path = conn, self.path
        return conn

    def iter_lines(self, sql: str, render: Callable[[tuple[Any, ...]], str]) -> Iterator[bytes]:
        """Stream a table as NDJSON in chunks, from a private connection (run in a thread)."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            cur = conn.execute(sql)
            while rows := cur.fetchmany(1000):
                yield "".join(render(r) + "\n" for r in rows).encode("utf-8", "backslashreplace")
        finally:
            conn.close()


_thread_local = threading.local()


_INSERT = (
    "INSERT INTO invoices (seq, number, seller_tax_id, request_id, external_id, red_for, status,"
    " payload, record, committed_at, channel, upload_id) VALUES (?, ?, ?, ?, ?, ?, 'issued', ?, ?, ?, ?, ?)"
)


def _row_values(row: InvoiceRow, committed_at: float) -> tuple[Any, ...]:
    return (row.seq, row.number, row.seller_tax_id, row.request_id, row.external_id, row.red_for,
            row.payload, row.record, committed_at, row.channel, row.upload_id)


@dataclass
class _Pending:
    """Rows of one batch, written with one statement each (the request log as one row)."""

    invoices: list[tuple[Any, ...]] = field(default_factory=list)
    reversed: list[tuple[str]] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.invoices:
            conn.executemany(_INSERT, self.invoices)
        if self.reversed:
            conn.executemany("UPDATE invoices SET status = 'reversed' WHERE number = ?", self.reversed)
        # In order; a run of the same statement (an upload's result rows) is one executemany.
        i = 0
        while i < len(self.statements):
            sql = self.statements[i][0]
            j = i
            while j < len(self.statements) and self.statements[j][0] == sql:
                j += 1
            conn.executemany(sql, [params for _, params in self.statements[i:j]])
            i = j
        if self.log:
            # One row per batch holding its lines: one insert instead of one per request.
            conn.execute("INSERT INTO requests (line) VALUES (?)", ("\n".join(self.log),))
        self.invoices, self.reversed, self.statements, self.log = [], [], [], []


def record_with_status(record_json: str, status: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(record_json)
    record["status"] = status
    return record

"""The asynchronous channel's tables, and what it rebuilds from them at start-up.

Accepted invoices live in the ledger's ``invoices`` table (``channel = 'lq'``); these tables
hold the rest. Every write goes through the ledger's writer thread (``submit_statements`` or
an invoice row's ``after``), so it is durable before the answer that depends on it::

    lq_ranges          one row per allocated range (号段); never deleted but by a reset
    lq_uploads         one row per upload, its body as received: durable before the 202
    lq_results         one row per judged invoice (00, 02, 03); absent = 01 (processing)
    lq_confirmations   one row per red-letter confirmation (红字确认单)

Sequences (ranges, uploads, confirmations) continue from the highest row or, after a reset,
from the high-water mark in ``meta``: ids and numbers are never handed out twice.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS lq_ranges (
    range_id TEXT PRIMARY KEY,
    seller_tax_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    allocated_at REAL NOT NULL,  -- bureau time
    UNIQUE (seller_tax_id, request_id)
);
CREATE TABLE IF NOT EXISTS lq_uploads (
    seq INTEGER PRIMARY KEY,
    upload_id TEXT NOT NULL UNIQUE,
    received_at REAL NOT NULL,    -- bureau time: DEADLINE_PASSED compares issued_at with it
    received_real REAL NOT NULL,  -- real time: processing_s counts real seconds
    path TEXT NOT NULL,
    count INTEGER NOT NULL,
    items TEXT NOT NULL,  -- JSON [[invoice_number, external_id, request_id], ...] for reads and the log
    body TEXT NOT NULL    -- the request as received
);
CREATE TABLE IF NOT EXISTS lq_results (
    upload_seq INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    detail_code TEXT,
    faults TEXT NOT NULL,
    final_at REAL NOT NULL,  -- bureau time of the judgement: result_ttl_s counts from the last one
    PRIMARY KEY (upload_seq, idx)
);
CREATE TABLE IF NOT EXISTS lq_confirmations (
    seq INTEGER PRIMARY KEY,
    confirmation_id TEXT NOT NULL UNIQUE,
    blue_number TEXT NOT NULL,
    seller_tax_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at REAL NOT NULL,  -- bureau time
    decided_at REAL,           -- bureau time the simulated buyer confirms; NULL: it stays silent
    used_by TEXT               -- the red invoice accepted under it
);
"""
TABLES = ("lq_ranges", "lq_uploads", "lq_results", "lq_confirmations")
HWM_KEYS = {"lq_ranges": "lq_range_hwm", "lq_uploads": "lq_upload_hwm", "lq_confirmations": "lq_confirmation_hwm"}

INSERT_RANGE = ("INSERT INTO lq_ranges (range_id, seller_tax_id, request_id, year, first_seq, last_seq, allocated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)")
INSERT_UPLOAD = ("INSERT INTO lq_uploads (seq, upload_id, received_at, received_real, path, count, items, body)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_RESULT = ("INSERT INTO lq_results (upload_seq, idx, code, message, details, detail_code, faults, final_at)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
INSERT_CONFIRMATION = ("INSERT INTO lq_confirmations (seq, confirmation_id, blue_number, seller_tax_id, reason,"
                       " created_at, decided_at, used_by) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)")
USE_CONFIRMATION = "UPDATE lq_confirmations SET used_by = ? WHERE confirmation_id = ?"


@dataclass
class StoredUpload:
    """An upload with invoices still at 01, as found at start-up."""

    seq: int
    upload_id: str
    received_at: float
    received_real: float
    path: str
    body: str
    done: set[int]


@dataclass
class LqLoaded:
    ranges: list[tuple[Any, ...]] = field(default_factory=list)
    next_range_seq: int = 1
    next_upload_seq: int = 1
    next_confirmation_seq: int = 1
    unfinished: list[StoredUpload] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    reds: list[tuple[str, str]] = field(default_factory=list)  # (blue number, red record JSON) in order
    confirmations: list[tuple[Any, ...]] = field(default_factory=list)


def load(conn: sqlite3.Connection) -> LqLoaded:
    """Create the tables if needed and read what the channel keeps in memory."""
    conn.executescript(SCHEMA)
    hwm = dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'lq_%'").fetchall())
    state = LqLoaded()
    state.ranges = conn.execute("SELECT range_id, seller_tax_id, request_id, year, first_seq, last_seq"
                                " FROM lq_ranges ORDER BY first_seq").fetchall()
    top = max((r[5] for r in state.ranges), default=0)
    state.next_range_seq = max(top, hwm.get(HWM_KEYS["lq_ranges"], 0)) + 1
    top = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM lq_uploads").fetchone()[0]
    state.next_upload_seq = max(top, hwm.get(HWM_KEYS["lq_uploads"], 0)) + 1
    top = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM lq_confirmations").fetchone()[0]
    state.next_confirmation_seq = max(top, hwm.get(HWM_KEYS["lq_confirmations"], 0)) + 1
    for seq, upload_id, received_at, received_real, path, body in conn.execute(
        "SELECT seq, upload_id, received_at, received_real, path, body FROM lq_uploads u"
        " WHERE count > (SELECT COUNT(*) FROM lq_results r WHERE r.upload_seq = u.seq) ORDER BY seq"
    ).fetchall():
        done = {row[0] for row in conn.execute("SELECT idx FROM lq_results WHERE upload_seq = ?", (seq,))}
        state.unfinished.append(StoredUpload(seq, upload_id, received_at, received_real, path, body, done))
    state.accepted = {row[0] for row in conn.execute("SELECT number FROM invoices WHERE channel = 'lq'")}
    state.reds = conn.execute("SELECT red_for, record FROM invoices WHERE channel = 'lq' AND red_for IS NOT NULL"
                              " ORDER BY seq").fetchall()
    state.confirmations = conn.execute(
        "SELECT seq, confirmation_id, blue_number, seller_tax_id, reason, created_at, decided_at, used_by"
        " FROM lq_confirmations ORDER BY seq").fetchall()
    return state


def reset_statements(hwms: dict[str, int]) -> list[tuple[str, tuple[Any, ...]]]:
    """Empty the channel's tables, keeping each sequence's high-water mark (``table -> last used``)."""
    statements: list[tuple[str, tuple[Any, ...]]] = [(f"DELETE FROM {table}", ()) for table in TABLES]
    for table, value in hwms.items():
        statements.append(("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (HWM_KEYS[table], value)))
    return statements


def items_json(items: list[tuple[str | None, str | None, str | None]]) -> str:
    return json.dumps(items, ensure_ascii=True, separators=(",", ":"))

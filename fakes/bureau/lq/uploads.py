"""Uploads (CONTRACT §5.4): receipt, durable before the 202, and their results.

``POST /api/v1/lq/uploads`` checks only the envelope (1-100 objects under ``invoices``),
draws the per-invoice faults (``upload_stuck``, ``upload_reject``), stores the upload as
received and answers 202 once that is durable; the processor judges its invoices later.
``GET /api/v1/lq/uploads/{id}`` reads the results from the database, so a result is shown
only once it is durable: ``01`` until then. Results expire ``result_ttl_s`` bureau seconds
after the last one became final (410); while any invoice is at ``01`` nothing expires.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fakes.bureau.clock import BureauClock, rfc3339
from fakes.bureau.errors import ApiError
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.hooks import UploadItem, note_upload, note_upload_items, upload_item
from fakes.bureau.faults.specs import PER_INVOICE, Fault
from fakes.bureau.ledger import Ledger
from fakes.bureau.lq import store
from fakes.bureau.lq.judge import MESSAGES
from fakes.bureau.rules import Problem
from fakes.bureau.service import Policy, validation_failed
from fakes.bureau.settings import Settings

MAX_INVOICES = 100  # per upload call (LQ §2.2.4.1)


@dataclass
class Upload:
    """An upload whose invoices are not all final yet (the processor's unit of work)."""

    seq: int
    upload_id: str
    received_at: float  # bureau time
    received_real: float
    path: str
    invoices: list[Any]
    policy: Policy
    faults: list[list[Fault]]  # per invoice: the per-invoice faults drawn at receipt
    remaining: set[int] = field(default_factory=set)


def upload_id_of(seq: int) -> str:
    return f"U{seq:015d}"


class UploadDesk:
    def __init__(self, settings: Settings, ledger: Ledger, clock: BureauClock, board: FaultBoard,
                 loaded: store.LqLoaded) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clock = clock
        self.board = board
        self.next_seq = loaded.next_upload_seq

    async def receive(self, body: Any, raw: str, scope: MutableMapping[str, Any], policy: Policy) -> Upload:
        """Store an upload (durably, ``raw`` as received) and return it for processing; 422 for a
        broken envelope."""
        invoices = _envelope(body, scope)
        method, path = scope["method"], scope["path"]
        faults = [self.board.acting_per_invoice(PER_INVOICE, method, path) for _ in invoices]
        seq = self.next_seq
        self.next_seq += 1
        upload = Upload(seq, upload_id_of(seq), self.clock.now(), time.time(), path, invoices, policy, faults,
                        set(range(len(invoices))))
        items: list[UploadItem] = [upload_item(item) for item in invoices]
        fut = self.ledger.submit_statements([(store.INSERT_UPLOAD, (
            seq, upload.upload_id, upload.received_at, upload.received_real, path, len(invoices),
            store.items_json(items), raw))])
        try:
            await asyncio.shield(fut)
        except Exception as exc:
            raise ApiError(500, "INTERNAL_ERROR", f"the upload could not be stored: {type(exc).__name__}") from exc
        note_upload(scope, upload.upload_id)
        return upload

    def results(self, upload_id: str) -> dict[str, Any]:
        row = self.ledger.read_one("SELECT seq, received_at, count, items FROM lq_uploads WHERE upload_id = ?",
                                   (upload_id,))
        if row is None:
            raise ApiError(404, "NOT_FOUND", f"no upload {upload_id!r}")
        seq, received_at, count, items = row
        final = {idx: (code, message, details, final_at) for idx, code, message, details, final_at in self.ledger.read_all(
            "SELECT idx, code, message, details, final_at FROM lq_results WHERE upload_seq = ?", (seq,))}
        if len(final) == count:
            last = max(at for *_, at in final.values())
            if self.clock.now() > last + self.settings.result_ttl_s:
                raise ApiError(410, "RESULT_EXPIRED", f"the results of {upload_id} expired at"
                               f" {rfc3339(last + self.settings.result_ttl_s)} ({self.settings.result_ttl_s:g} s after"
                               " the last became final): look the numbers up, or upload again (accepted ones answer 03)")
        results = []
        for idx, (number, _, _) in enumerate(json.loads(items)):
            if idx in final:
                code, message, details, _ = final[idx]
                results.append({"invoice_number": number, "code": code, "message": message,
                                "details": json.loads(details)})
            else:
                results.append({"invoice_number": number, "code": "01", "message": MESSAGES["01"], "details": []})
        return {"upload_id": upload_id, "received_at": rfc3339(received_at), "results": results}

    def reset(self) -> int:
        return self.next_seq - 1


def _envelope(body: Any, scope: MutableMapping[str, Any]) -> list[Any]:
    if not isinstance(body, dict):
        raise validation_failed([Problem("invoices", "REQUIRED", "the body must be an object {\"invoices\": [...]}")],
                                "the upload")
    invoices = body.get("invoices")
    if not isinstance(invoices, list):
        raise validation_failed([Problem("invoices", "REQUIRED" if invoices is None else "TYPE",
                                         "invoices must be a list of 1-100 invoices")], "the upload")
    note_upload_items(scope, invoices)
    problems = [Problem(f"invoices[{i}]", "TYPE", f"invoices[{i}] must be an object (an invoice)")
                for i, item in enumerate(invoices) if not isinstance(item, dict)]
    if not 1 <= len(invoices) <= MAX_INVOICES:
        problems.insert(0, Problem("invoices", "LENGTH", f"an upload carries 1-{MAX_INVOICES} invoices, got {len(invoices)}"))
    if problems:
        raise validation_failed(problems[:20], "the upload")
    return invoices

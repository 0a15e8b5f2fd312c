"""The per-invoice lines of ``/admin/requests`` (CONTRACT §5.4), rendered when the log is read.

An upload's own line names its ``upload_id`` once the upload was stored. Reading the log puts
one line per invoice of that upload right after it, with the invoice's number, ids and, once
judged, its ``result_code`` (and ``detail_code`` for 02) as the database holds them now: a
result arrives after the request line was written, so it cannot be written with it.
"""

from __future__ import annotations

import json
from typing import Any

from fakes.bureau.ledger import Ledger
from fakes.bureau.requestlog import invoice_line

MARK = '"upload_id":"'


def expand(blob: str, ledger: Ledger) -> str:
    """A stored row of request-log lines, with the invoice lines of every stored upload added."""
    if MARK not in blob:
        return blob
    return "\n".join(_with_invoices(line, ledger) for line in blob.split("\n"))


def _with_invoices(line: str, ledger: Ledger) -> str:
    if MARK not in line:
        return line
    entry: dict[str, Any] = json.loads(line)
    upload_id = entry.get("upload_id")
    found = ledger.read_one("SELECT seq, items FROM lq_uploads WHERE upload_id = ?", (upload_id,))
    if found is None:  # reset since
        return line
    seq, items = found
    results = {idx: (code, detail, json.loads(faults)) for idx, code, detail, faults in ledger.read_all(
        "SELECT idx, code, detail_code, faults FROM lq_results WHERE upload_seq = ?", (seq,))}
    head = ",".join(f"{json.dumps(k)}:{json.dumps(entry[k], ensure_ascii=False)}" for k in ("at", "method", "path"))
    status = "null" if entry["status"] is None else str(entry["status"])
    lines = [line]
    for idx, (number, external_id, request_id) in enumerate(json.loads(items)):
        code, detail, own = results.get(idx, (None, None, []))
        lines.append(invoice_line(head, status, entry["error_code"], upload_id, (number, external_id, request_id),
                                  entry["faults"] + [k for k in own if k not in entry["faults"]], code, detail))
    return "\n".join(lines)

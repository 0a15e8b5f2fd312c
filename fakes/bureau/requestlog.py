"""The request log (``/admin/requests``) and the counters behind ``/admin/stats``.

One entry per ``/api/`` request, with exactly the keys of CONTRACT §2: ``at``, ``method``,
``path``, ``request_id``, ``external_id``, ``status`` and ``faults``. Lines are persisted
through the ledger's writer thread (riding along with invoice batches), so the log survives a
bureau restart; nobody waits for them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fakes.bureau.faults.hooks import HOOKED, IDS
from fakes.bureau.ledger import Ledger


@dataclass
class Entry:
    at: str
    status: int | None = None
    faults: list[str] = field(default_factory=list)


def endpoint_of(method: str, path: str) -> str:
    """The route template of a public path, for counters (``GET /api/v1/invoices/{number}``)."""
    parts = path.rstrip("/").split("/")
    if parts[:4] == ["", "api", "v1", "invoices"]:
        if len(parts) == 4:
            return f"{method} /api/v1/invoices"
        if len(parts) == 5:
            return f"{method} /api/v1/invoices/{{number}}"
        if len(parts) == 6 and parts[5] == "red-letter":
            return f"{method} /api/v1/invoices/{{number}}/red-letter"
    return f"{method} other"


def _text(value: str | None) -> str | None:
    # Lone surrogates cannot be stored as UTF-8; keep them visible but escaped.
    return None if value is None else value.encode("utf-8", "backslashreplace").decode("utf-8")


class RequestLog:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.total = 0
        self.by_endpoint: dict[str, Counter[str]] = {}

    def begin(self, scope: MutableMapping[str, Any]) -> Entry:
        return Entry(datetime.now(timezone.utc).isoformat(timespec="microseconds"))

    def finish(self, scope: MutableMapping[str, Any], entry: Entry) -> None:
        request_id, external_id = scope.get(IDS) or (None, None)
        kinds = entry.faults + sorted(scope.get(HOOKED) or ())
        line = {"at": entry.at, "method": scope["method"], "path": scope["path"],
                "request_id": _text(request_id), "external_id": _text(external_id),
                "status": entry.status, "faults": kinds}
        self.ledger.log_request(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        self.total += 1
        counter = self.by_endpoint.setdefault(endpoint_of(scope["method"], scope["path"]), Counter())
        counter[str(entry.status) if entry.status is not None else "none"] += 1

    def reset(self) -> None:
        self.total = 0
        self.by_endpoint = {}

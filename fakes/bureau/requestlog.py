"""The request log (``/admin/requests``) and the counters behind ``/admin/stats``.

One entry per ``/api/`` request, with exactly the keys of CONTRACT §2: ``at``, ``method``,
``path``, ``request_id``, ``external_id``, ``status`` and ``faults``. Lines are persisted
through the ledger's writer thread (riding along with invoice batches), so the log survives a
bureau restart; nobody waits for them.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fakes.bureau.faults.hooks import HOOKED, IDS
from fakes.bureau.ledger import Ledger


@dataclass
class Entry:
    at: float  # epoch seconds; formatted once, when the line is written
    status: int | None = None
    faults: list[str] = field(default_factory=list)


class _Clock:
    """RFC 3339 UTC timestamps, re-formatting the seconds part only when the second changes."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def format(self, at: float) -> str:
        second = int(at)
        if second != self._second:
            self._second, self._prefix = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((at - second) * 1_000_000):06d}+00:00"


_quote = json.encoder.encode_basestring  # the C string encoder behind json.dumps


def _json_text(value: str | None) -> str:
    if value is None:
        return "null"
    # Lone surrogates cannot be stored as UTF-8; keep them visible but escaped.
    return str(_quote(value.encode("utf-8", "backslashreplace").decode("utf-8")))


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


class RequestLog:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.total = 0
        self.by_endpoint: dict[str, Counter[str]] = {}
        self._clock = _Clock()

    def begin(self, scope: MutableMapping[str, Any]) -> Entry:
        return Entry(time.time())

    def finish(self, scope: MutableMapping[str, Any], entry: Entry) -> None:
        request_id, external_id = scope.get(IDS) or (None, None)
        kinds = entry.faults + sorted(scope.get(HOOKED) or ())
        # Written out by hand: this runs on every public request (json.dumps costs several µs).
        status = "null" if entry.status is None else str(entry.status)
        faults = ",".join(f'"{kind}"' for kind in kinds)
        self.ledger.log_request(
            f'{{"at":"{self._clock.format(entry.at)}","method":{_json_text(scope["method"])},'
            f'"path":{_json_text(scope["path"])},"request_id":{_json_text(request_id)},'
            f'"external_id":{_json_text(external_id)},"status":{status},"faults":[{faults}]}}')
        self.total += 1
        counter = self.by_endpoint.setdefault(endpoint_of(scope["method"], scope["path"]), Counter())
        counter[str(entry.status) if entry.status is not None else "none"] += 1

    def reset(self) -> None:
        self.total = 0
        self.by_endpoint = {}

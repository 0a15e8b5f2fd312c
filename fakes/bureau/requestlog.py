"""The request log (``/admin/requests``) and the counters behind ``/admin/stats``.

One entry per ``/api/`` request, with the keys of CONTRACT §2 (``at``, ``method``, ``path``,
``request_id``, ``external_id``, ``status``, ``faults``) and of §5.4 (``error_code``: the
``error.code`` answered, null on success). An upload's line also names its ``upload_id`` when it
was stored; each of its invoices then gets a line of its own, rendered when the log is read
(``fakes.bureau.lq.requestlines``: its result is known only later). The invoices of an upload
refused before it was stored get their lines here, at once. Lines are persisted through the
ledger's writer thread (riding along with invoice batches), so the log survives a bureau
restart; nobody waits for them.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from fakes.bureau.faults.hooks import ERROR_CODE, HOOKED, IDS, UPLOAD_ID, UPLOAD_ITEMS, UploadItem
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
    if value.isascii():   # the usual case: nothing to escape for UTF-8
        return str(_quote(value))
    # Lone surrogates cannot be stored as UTF-8; keep them visible but escaped.
    return str(_quote(value.encode("utf-8", "backslashreplace").decode("utf-8")))


def invoice_line(head: str, status: str, error_code: str | None, upload_id: str | None, item: UploadItem,
                 faults: list[str], result_code: str | None, detail_code: str | None) -> str:
    """The log line of one invoice of an upload; ``head`` is ``"at":..,"method":..,"path":..``."""
    number, external_id, request_id = item
    kinds = ",".join(f'"{kind}"' for kind in faults)
    return (f'{{{head},"request_id":{_json_text(request_id)},"external_id":{_json_text(external_id)},'
            f'"status":{status},"faults":[{kinds}],"error_code":{_json_text(error_code)},'
            f'"invoice_number":{_json_text(number)},"upload_id":{_json_text(upload_id)},'
            f'"result_code":{_json_text(result_code)},"detail_code":{_json_text(detail_code)}}}')


_LQ_COLLECTIONS = {"ranges": "ranges", "uploads": "uploads/{id}", "invoices": "invoices/{number}",
                   "red-confirmations": "red-confirmations/{id}"}


@functools.lru_cache(maxsize=1024)  # the same few paths come back on every request
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
    if parts == ["", "api", "v1", "time"]:
        return f"{method} /api/v1/time"
    if parts[:4] == ["", "api", "v1", "lq"] and len(parts) in (5, 6) and parts[4] in _LQ_COLLECTIONS:
        tail = parts[4] if len(parts) == 5 else _LQ_COLLECTIONS[parts[4]]
        return f"{method} /api/v1/lq/{tail}"
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
        error_code = scope.get(ERROR_CODE)
        upload_id = scope.get(UPLOAD_ID)
        head = (f'"at":"{self._clock.format(entry.at)}","method":{_json_text(scope["method"])},'
                f'"path":{_json_text(scope["path"])}')
        stored = "" if upload_id is None else f',"upload_id":{_json_text(upload_id)}'
        self.ledger.log_request(
            f'{{{head},"request_id":{_json_text(request_id)},'
            f'"external_id":{_json_text(external_id)},"status":{status},"faults":[{faults}],'
            f'"error_code":{_json_text(error_code)}{stored}}}')
        if upload_id is None and scope.get(UPLOAD_ITEMS):
            for item in scope[UPLOAD_ITEMS]:  # refused before it was stored: never judged
                self.ledger.log_request(invoice_line(head, status, error_code, None, item, kinds, None, None))
        self.total += 1
        endpoint = endpoint_of(scope["method"], scope["path"])
        counter = self.by_endpoint.get(endpoint)
        if counter is None:
            counter = self.by_endpoint[endpoint] = Counter()
        counter["none" if entry.status is None else status] += 1

    def reset(self) -> None:
        self.total = 0
        self.by_endpoint = {}

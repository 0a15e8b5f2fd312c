"""The merchant's HTTP client for the 乐企 channel (CONTRACT §5.3-§5.4), on aiohttp.

Every call returns an ``LqAnswer``; no exception escapes for anything the network or the bureau
can do, and every answer that carries ``X-Bureau-Time`` updates the shared ``BureauTime``
(error answers too: under ``auth_expired`` the header is still the freshest clock there is).

- ``ok``       — 200/201/202 with a readable JSON object.
- ``account``  — an account-level refusal (CONTRACT §5.2): 429, or ``error.code`` one of
                 ``ACCOUNT_LEVEL`` (401 AUTH_EXPIRED, 503 MAINTENANCE, 403 QUOTA_EXCEEDED, ...).
                 Refused before handling: nothing was stored; wait ``retry_after`` and retry.
- ``gone``     — 404 ``NOT_FOUND`` or 410 ``RESULT_EXPIRED``: the bureau knows nothing (more).
- ``refused``  — any other readable 4xx (400, 409, 413, 422): the request itself was wrong.
- ``unknown``  — timeout, reset, 5xx, unreadable body: it may or may not have been stored.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

from fakes.merchant.bureau_client import ACCOUNT_LEVEL, _loads, _retry_after
from fakes.merchant.lq_time import BureauTime

Kind = Literal["ok", "account", "gone", "refused", "unknown"]
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class LqAnswer:
    kind: Kind
    status: int | None = None
    body: dict[str, Any] | None = None
    code: str | None = None           # error.code of an error answer
    retry_after: float | None = None
    reason: str = ""

    def describe(self) -> str:
        if self.code is not None:
            return f"{self.status} {self.code}"
        return f"{self.kind} ({self.reason or self.status})"


class LqBureau(Protocol):
    """What the lq profiles need from a bureau; ``LqClient`` over HTTP, fakes in unit tests."""

    time: BureauTime

    async def bureau_time(self, timeout_s: float) -> LqAnswer: ...

    async def allocate(self, request_id: str, seller_tax_id: str, count: int, timeout_s: float) -> LqAnswer: ...

    async def upload(self, body: bytes, timeout_s: float) -> LqAnswer:
        """POST ``{"invoices": [...]}`` given as the JSON bytes to send."""
        ...

    async def results(self, upload_id: str, timeout_s: float) -> LqAnswer: ...

    async def lookup(self, invoice_number: str, timeout_s: float) -> LqAnswer: ...


def classify(status: int, raw: bytes, retry_after_header: str | None) -> LqAnswer:
    """Sort one answer (pure, so tests feed it literal answers)."""
    retry_after = _retry_after(retry_after_header)
    data = _loads(raw)
    if 200 <= status < 300:
        if isinstance(data, dict):
            return LqAnswer("ok", status, body=data)
        return LqAnswer("unknown", status, reason="unreadable success body")
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return LqAnswer("unknown", status, retry_after=retry_after, reason="unreadable error body")
    code = error.get("code") if isinstance(error.get("code"), str) else None
    if status == 429 or code in ACCOUNT_LEVEL:
        return LqAnswer("account", status, body=data, code=code,
                        retry_after=retry_after if retry_after is not None else 1.0)
    if status in (404, 410):
        return LqAnswer("gone", status, body=data, code=code)
    if 400 <= status < 500:
        return LqAnswer("refused", status, body=data, code=code, retry_after=retry_after)
    return LqAnswer("unknown", status, body=data, code=code, retry_after=retry_after, reason=f"HTTP {status}")


class LqClient:
    """aiohttp session bound to one bureau. Create and close inside the event loop."""

    def __init__(self, base_url: str, time_url: str | None = None, *, max_connections: int = 64) -> None:
        self._base = base_url.rstrip("/")
        self._time_url = time_url or f"{self._base}/api/v1/time"
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self.time = BureauTime()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._max_connections,
                                                                             ttl_dns_cache=300))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def bureau_time(self, timeout_s: float) -> LqAnswer:
        answer = await self._call("GET", self._time_url, None, timeout_s)
        if answer.kind == "ok" and answer.body is not None and isinstance(answer.body.get("now"), str):
            self.time.observe(answer.body["now"])
        return answer

    async def allocate(self, request_id: str, seller_tax_id: str, count: int, timeout_s: float) -> LqAnswer:
        body = {"request_id": request_id, "seller_tax_id": seller_tax_id, "count": count}
        return await self._call("POST", f"{self._base}/api/v1/lq/ranges", json.dumps(body).encode(), timeout_s)

    async def upload(self, body: bytes, timeout_s: float) -> LqAnswer:
        return await self._call("POST", f"{self._base}/api/v1/lq/uploads", body, timeout_s)

    async def results(self, upload_id: str, timeout_s: float) -> LqAnswer:
        return await self._call("GET", f"{self._base}/api/v1/lq/uploads/{upload_id}", None, timeout_s)

    async def lookup(self, invoice_number: str, timeout_s: float) -> LqAnswer:
        return await self._call("GET", f"{self._base}/api/v1/lq/invoices/{invoice_number}", None, timeout_s)

    async def _call(self, method: str, url: str, data: bytes | None, timeout_s: float) -> LqAnswer:
        if self._session is None:
            raise RuntimeError("LqClient.start() was not called")
        try:
            async with self._session.request(method, url, data=data, headers=_JSON if data is not None else None,
                                             timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                raw = await resp.read()
                self.time.observe(resp.headers.get("X-Bureau-Time"))
                return classify(resp.status, raw, resp.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            return LqAnswer("unknown", reason="timeout")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return LqAnswer("unknown", reason=type(exc).__name__)

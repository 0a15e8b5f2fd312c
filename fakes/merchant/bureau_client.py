"""The merchant's HTTP client for the bureau's public API (CONTRACT §1), on aiohttp.

Every call returns an ``Outcome``; no exception escapes for anything the network or the bureau
can do. The classification is the heart of the resilient profile:

- ``issued``      — a readable invoice record (201, or a 200 replay).
- ``rejected``    — 422 ``VALIDATION_FAILED``: the bureau judged the order itself and refused
                    it (committed nothing, as far as a well-behaved bureau goes; the resilient
                    profile still looks up before it gives up, in case a ghost commit wore a 4xx).
                    The only answer that lets a merchant record an order ``failed``: any other
                    refusal says nothing about the order (CONTRACT §5.7, ``dropped``).
- ``duplicate``   — 409 ``DUPLICATE_REQUEST`` / ``ALREADY_REVERSED``: something is already there.
- ``throttled``   — an account-level refusal (CONTRACT §5.2): 429 ``RATE_LIMITED``, 503
                    ``MAINTENANCE``, 401 ``AUTH_EXPIRED``, 403 ``QUOTA_EXCEEDED``, ``MONTH_CLOSED``,
                    ``DEADLINE_PASSED``: refused before handling; keep the order, retry after
                    ``retry_after``.
- ``unknown``     — timeout, reset, 5xx, any other 4xx, unreadable body: the call may or may not
                    have committed (indeterminate). Resolve by lookup before resubmitting.

aiohttp rather than httpx: measured here, httpx's async client is several times slower on a hot
path (ARCHITECTURE.md, HTTP clients).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import aiohttp

_JSON = {"Content-Type": "application/json"}
# Refusals of the account, not of the order (CONTRACT §5.2): wait and try again.
ACCOUNT_LEVEL = frozenset({"RATE_LIMITED", "MAINTENANCE", "AUTH_EXPIRED", "QUOTA_EXCEEDED", "MONTH_CLOSED",
                           "DEADLINE_PASSED"})
Kind = Literal["issued", "rejected", "duplicate", "throttled", "unknown"]


@dataclass(frozen=True)
class Outcome:
    kind: Kind
    status: int | None = None
    record: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    retry_after: float | None = None
    reason: str = ""

    @property
    def invoice_number(self) -> str | None:
        if self.record is not None:
            return _str_or_none(self.record.get("invoice_number"))
        if self.error is not None:
            return _str_or_none(self.error.get("invoice_number"))
        return None


@dataclass(frozen=True)
class Lookup:
    """The answer of a lookup by ``external_id``: ``invoices`` is None when it was unreadable."""

    invoices: list[dict[str, Any]] | None
    retry_after: float | None = None


class Bureau(Protocol):
    """What the profiles need from a bureau; ``BureauClient`` over HTTP, fakes in unit tests."""

    async def issue(self, payload: dict[str, Any] | bytes, timeout_s: float) -> Outcome:
        """POST an invoice; ``payload`` as a dict or as the JSON bytes to send verbatim."""
        ...

    async def find(self, external_id: str, timeout_s: float) -> Lookup: ...

    async def red_letter(self, invoice_number: str, request_id: str, reason: str, timeout_s: float) -> Outcome: ...


class BureauClient:
    """aiohttp session bound to one bureau base URL. Create and close inside the event loop."""

    def __init__(self, base_url: str, *, max_connections: int = 64) -> None:
        self._base = base_url.rstrip("/")
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("BureauClient.start() was not called")
        return self._session

    async def issue(self, payload: dict[str, Any] | bytes, timeout_s: float) -> Outcome:
        return await self._post(f"{self._base}/api/v1/invoices", payload, timeout_s)

    async def red_letter(self, invoice_number: str, request_id: str, reason: str, timeout_s: float) -> Outcome:
        url = f"{self._base}/api/v1/invoices/{invoice_number}/red-letter"
        return await self._post(url, {"request_id": request_id, "reason": reason}, timeout_s)

    async def find(self, external_id: str, timeout_s: float) -> Lookup:
        try:
            async with self.session.get(
                f"{self._base}/api/v1/invoices",
                params={"external_id": external_id},
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    return Lookup(None, _retry_after(resp.headers.get("Retry-After")))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
            return Lookup(None)
        data = _loads(raw)
        invoices = data.get("invoices") if isinstance(data, dict) else None
        if not isinstance(invoices, list) or not all(isinstance(i, dict) for i in invoices):
            return Lookup(None)
        return Lookup(invoices)

    async def _post(self, url: str, body: dict[str, Any] | bytes, timeout_s: float) -> Outcome:
        data = body if isinstance(body, bytes) else _dumps(body).encode()
        try:
            async with self.session.post(url, data=data, headers=_JSON,
                                         timeout=aiohttp.ClientTimeout(total=timeout_s)) as resp:
                raw = await resp.read()
                return classify(resp.status, raw, resp.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            return Outcome("unknown", reason="timeout")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Outcome("unknown", reason=type(exc).__name__)


def classify(status: int, raw: bytes, retry_after_header: str | None) -> Outcome:
    """Sort one bureau answer into an ``Outcome`` (pure, so tests feed it literal answers)."""
    retry_after = _retry_after(retry_after_header)
    data = _loads(raw)
    if status in (200, 201):
        if isinstance(data, dict) and isinstance(data.get("invoice_number"), str) and data["invoice_number"]:
            return Outcome("issued", status, record=data)
        return Outcome("unknown", status, reason="unreadable success body")
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return Outcome("unknown", status, retry_after=retry_after, reason="unreadable error body")
    code = error.get("code")
    if status == 429 or code in ACCOUNT_LEVEL:
        return Outcome("throttled", status, error=error, retry_after=retry_after if retry_after is not None else 1.0)
    if status == 409 and code in ("DUPLICATE_REQUEST", "ALREADY_REVERSED"):
        return Outcome("duplicate", status, error=error)
    if status == 422 and code == "VALIDATION_FAILED":
        return Outcome("rejected", status, error=error)
    return Outcome("unknown", status, error=error, retry_after=retry_after, reason=f"HTTP {status} {code or ''}".strip())


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP-date: rare here; fall back to our own backoff
    return min(max(seconds, 0.0), 300.0)


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

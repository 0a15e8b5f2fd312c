"""The bureau's core: issuing, replaying, reversing and reading invoices (CONTRACT §1).

Framework-free: handlers parse HTTP, this module decides. Invariants it keeps:

- a number is assigned from one in-memory sequence (seeded from the ledger's high-water mark),
  so two invoices never share a number, even across restarts;
- a ``(seller, request_id)`` counts as known only once its invoice is durably committed;
  a concurrent repeat waits for the first attempt and then replays it (or gets 409);
- at most one reversal of a blue invoice is in flight at a time;
- ``issued_at`` and the number's year come from the bureau clock (§5.1), and a blue invoice
  over the monthly quota is refused 403 ``QUOTA_EXCEEDED`` (§5.2).

Reads and reversals here see the synchronous channel's invoices only; the asynchronous
channel (``fakes.bureau.lq``) shares the ledger and the sequence counter.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fakes.bureau import records
from fakes.bureau.clock import BureauClock
from fakes.bureau.errors import ApiError, dumps
from fakes.bureau.ledger import InvoiceRow, Ledger, LoadedState, record_with_status
from fakes.bureau.numbering import CstClock, number_from_parts
from fakes.bureau.quota import QuotaBook, cents_of
from fakes.bureau.rules import REQUEST_ID_RE, Problem, validate_invoice
from fakes.bureau.settings import Settings

REPLAYED = {"Idempotent-Replayed": "true"}
_COLUMNS = "record, status, committed_at"
SYNC = "channel = 'sync'"


@dataclass
class Outcome:
    """A successful answer: status (201 issued, 200 replayed), the record, extra headers.

    ``raw`` is the record already serialised (a fresh invoice reuses its stored JSON, which
    saves one encoding per issue on the hot path).
    """

    status: int
    record: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def body(self) -> bytes:
        return self.raw if self.raw is not None else dumps(self.record)


def _issued_body(record_json: str) -> bytes:
    # The stored JSON is an object without "status": append it rather than encode again.
    return (record_json[:-1] + ',"status":"issued"}').encode("utf-8")


@dataclass(frozen=True)
class Policy:
    """The validation policy in force for one request (a policy_change fault swaps it)."""

    rates: frozenset[Decimal]
    required_fields: tuple[str, ...] = ()


class Bureau:
    def __init__(self, settings: Settings, ledger: Ledger, state: LoadedState, clock: BureauClock,
                 quota: QuotaBook) -> None:
        self.settings = settings
        self.ledger = ledger
        self.next_seq = state.next_seq
        self.invoices = state.invoices
        self._dedup = state.dedup
        self._reversed_by = state.reversed_by
        self._pending: dict[tuple[str, str], asyncio.Future[float]] = {}
        self._reversing: dict[str, asyncio.Future[float]] = {}
        self.default_policy = Policy(settings.rate_set)
        self.clock = clock
        self._stamps = CstClock(clock.now)
        self.quota = quota

    # --- issue ------------------------------------------------------------------------------

    async def issue(self, body: Mapping[str, Any], policy: Policy, payload: str | None = None,
                    quota_exhausted: bool = False) -> Outcome:
        """Issue a blue invoice; ``payload`` is the request's JSON text (re-encoded when absent)."""
        problems = validate_invoice(body, policy.rates, policy.required_fields)
        if problems:
            raise validation_failed(problems)
        seller: str = body["seller"]["tax_id"]
        request_id: str | None = body.get("request_id")
        key = (seller, request_id) if request_id is not None and self.settings.dedup == "request_id" else None
        if key is not None:
            replay = await self._known(key, body)
            if replay is not None:
                return replay
        issued_at, yy = self._stamps.now()
        taken = self._take_quota(seller, issued_at, body["total_amount"], quota_exhausted)
        seq, number = self._next_number(yy)
        record = records.blue_record(body, number, issued_at)
        row = InvoiceRow(seq, number, seller, request_id, body["external_id"], None,
                         payload if payload is not None else records.payload_json(body), records.to_json(record))
        try:
            await self._commit(row, key)
        except ApiError:
            if taken:
                self.quota.give_back(seller, issued_at[:7], taken)
            raise
        record["status"] = "issued"
        return Outcome(201, record, raw=_issued_body(row.record))

    def _take_quota(self, seller: str, issued_at: str, total_amount: str, exhausted: bool) -> int:
        """Cents taken from the month's quota (0 when unlimited); 403 QUOTA_EXCEEDED when over it."""
        if exhausted:
            raise quota_exceeded(f"the quota of {seller} is suspended (暂停赋额)")
        if self.quota.limit is None:
            return 0
        cents = cents_of(total_amount)
        if not self.quota.take(seller, issued_at[:7], cents):
            raise quota_exceeded(f"{total_amount} would take {seller} over its quota of {self.settings.quota_monthly}"
                                 f" for {issued_at[:7]}")
        return cents

    # --- red-letter -------------------------------------------------------------------------

    async def reverse(self, blue_number: str, body: Mapping[str, Any]) -> Outcome:
        request_id, reason = _red_letter_fields(body)
        found = self._fetch(blue_number)
        if found is None:
            raise ApiError(404, "NOT_FOUND", f"no invoice numbered {blue_number!r}")
        blue, _status, _ = found
        if blue.get("red_for"):
            raise validation_failed([Problem("invoice_number", "RED_INVOICE",
                                              f"{blue_number} is itself a red-letter invoice and cannot be reversed")])
        seller = blue["seller"]["tax_id"]
        request = {"red_for": blue_number, **body}
        key = (seller, request_id) if request_id is not None and self.settings.dedup == "request_id" else None
        if key is not None:
            replay = await self._known(key, request)
            if replay is not None:
                return replay
        while (inflight := self._reversing.get(blue_number)) is not None:
            await asyncio.wait([inflight])
        red_number = self._reversed_by.get(blue_number)
        if red_number is not None:
            raise ApiError(409, "ALREADY_REVERSED", f"{blue_number} was already reversed by {red_number}",
                           extra={"invoice_number": red_number})
        issued_at, yy = self._stamps.now()
        seq, number = self._next_number(yy)
        record = records.red_record(blue, number, issued_at, request_id, reason)
        row = InvoiceRow(seq, number, seller, request_id, blue["external_id"], blue_number,
                         records.payload_json(request), records.to_json(record), reverses=blue_number)
        fut = self.ledger.submit_invoice(row)
        self._reversing[blue_number] = fut
        fut.add_done_callback(lambda f: self._reversal_done(f, blue_number, number))
        await self._commit_future(fut, row, key)
        record["status"] = "issued"
        return Outcome(201, record, raw=_issued_body(row.record))

    def _reversal_done(self, fut: asyncio.Future[float], blue_number: str, red_number: str) -> None:
        self._reversing.pop(blue_number, None)
        if not fut.cancelled() and fut.exception() is None:
            self._reversed_by[blue_number] = red_number

    # --- reads ------------------------------------------------------------------------------

    def get(self, number: str, lag_s: float = 0.0) -> dict[str, Any]:
        found = self._fetch(number)
        if found is None or hidden(found[2], lag_s):
            raise ApiError(404, "NOT_FOUND", f"no invoice numbered {number!r}")
        record, status, _ = found
        record["status"] = status
        return record

    def find(self, external_id: str | None, request_id: str | None, lag_s: float = 0.0) -> list[dict[str, Any]]:
        where, params = [], []
        for column, value in (("external_id", external_id), ("request_id", request_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        where.append(SYNC)
        rows = self.ledger.read_all(f"SELECT {_COLUMNS} FROM invoices WHERE {' AND '.join(where)} ORDER BY seq",
                                    tuple(params))
        return [record_with_status(r, s) for r, s, at in rows if not hidden(at, lag_s)]

    def _fetch(self, number: str) -> tuple[dict[str, Any], str, float] | None:
        row = self.ledger.read_one(f"SELECT {_COLUMNS} FROM invoices WHERE number = ? AND {SYNC}", (number,))
        if row is None:
            return None
        return record_with_status(row[0], row[1]), row[1], row[2]

    # --- admin ------------------------------------------------------------------------------

    async def reset(self) -> None:
        """Empty the ledger; the sequence keeps counting so numbers are never reused."""
        await self.ledger.submit_reset(self.next_seq - 1)
        self._dedup.clear()
        self._reversed_by.clear()
        self.quota.clear()
        self.invoices = 0

    # --- internals --------------------------------------------------------------------------

    def _next_number(self, yy: int) -> tuple[int, str]:
        """(sequence, invoice number) of the next invoice dated in year ``yy``; the sequence is consumed."""
        seq = self.take_seq()
        return seq, number_from_parts(seq, yy, self.settings.region, self.settings.channel)

    def take_seq(self) -> int:
        """Consume a ledger sequence (the asynchronous channel's rows take theirs here too)."""
        seq = self.next_seq
        self.next_seq += 1
        return seq

    async def _known(self, key: tuple[str, str], request: Mapping[str, Any]) -> Outcome | None:
        """Replay (200) or refuse (409) a known request_id; None when it is fresh.

        The comparison (as parsed JSON) happens only here, on a repeat, so a fresh issue pays
        nothing for it.
        """
        while (inflight := self._pending.get(key)) is not None:
            await asyncio.wait([inflight])
        number = self._dedup.get(key)
        if number is None:
            return None
        row = self.ledger.read_one(f"SELECT {_COLUMNS}, payload FROM invoices WHERE number = ?", (number,))
        if row is None:  # reset between commit and replay: treat as fresh
            return None
        if records.digest(json.loads(row[3])) != records.digest(request):
            raise ApiError(409, "DUPLICATE_REQUEST",
                           f"request_id {key[1]!r} was already used for invoice {number} with a different payload",
                           extra={"invoice_number": number})
        return Outcome(200, record_with_status(row[0], row[1]), dict(REPLAYED))

    async def _commit(self, row: InvoiceRow, key: tuple[str, str] | None) -> None:
        await self._commit_future(self.ledger.submit_invoice(row), row, key)

    async def _commit_future(self, fut: asyncio.Future[float], row: InvoiceRow, key: tuple[str, str] | None) -> None:
        if key is not None:
            self._pending[key] = fut
        fut.add_done_callback(lambda f: self._committed(f, row, key))
        try:
            # Shielded: a client that goes away does not undo or orphan a commit in flight.
            await asyncio.shield(fut)
        except Exception as exc:
            raise ApiError(500, "INTERNAL_ERROR", f"the ledger could not commit the invoice: {type(exc).__name__}") from exc

    def _committed(self, fut: asyncio.Future[float], row: InvoiceRow, key: tuple[str, str] | None) -> None:
        if key is not None and self._pending.get(key) is fut:
            del self._pending[key]
        if fut.cancelled() or fut.exception() is not None:
            return
        self.invoices += 1
        if key is not None:
            self._dedup.setdefault(key, row.number)


def hidden(committed_at: float, lag_s: float) -> bool:
    """Whether visibility_lag hides a record committed at ``committed_at`` (real time)."""
    return lag_s > 0 and time.time() - committed_at < lag_s


def quota_exceeded(message: str) -> ApiError:
    return ApiError(403, "QUOTA_EXCEEDED", f"超出授信额度: {message}; a new month (bureau time) restores it")


def validation_failed(problems: Iterable[Problem], what: str = "the invoice") -> ApiError:
    problems = list(problems)
    fields = ", ".join(dict.fromkeys(p.field for p in problems))
    return ApiError(422, "VALIDATION_FAILED", f"{what} breaks {len(problems)} rule(s); fix: {fields}",
                    details=problems)


def _red_letter_fields(body: Mapping[str, Any]) -> tuple[str | None, str]:
    problems = []
    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_RE.fullmatch(request_id)):
        problems.append(Problem("request_id", "FORMAT", f"request_id {request_id!r} must be 1-64 of A-Z a-z 0-9 _ -"))
    reason = body.get("reason")
    if reason is None:
        problems.append(Problem("reason", "REQUIRED", "reason is required: 01, 02, 03 or 04"))
    elif not isinstance(reason, str) or reason not in records.RED_REASONS:
        problems.append(Problem("reason", "ENUM", f"reason {reason!r} must be one of 01 (开票有误), 02 (销货退回), "
                                                  "03 (服务中止), 04 (销售折让)"))
    if problems:
        raise validation_failed(problems)
    return request_id, reason  # type: ignore[return-value]

"""Root-cause hints: what an anomaly's evidence says the SUT probably did, and what to change.

Pure: it reads the per-order evidence of ``summary.json`` (operations, the bureau's invoices
and request log lines for the order, the SUT's row). Each anomalous order is matched to the
first pattern of its kind that fits; orders of one pattern are grouped into one hint with a
count and an example, most common first. A hint is a reading of the evidence, not a proof:
the evidence itself stays beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Evidence = Mapping[str, Any]
Pattern = tuple[str, Callable[[Evidence, str], bool], str]


def _request_ids(ev: Evidence) -> list[str | None]:
    return [inv.get("request_id") for inv in ev.get("bureau_invoices") or [] if not inv.get("red_for")]


def _issue_requests(ev: Evidence) -> list[Mapping[str, Any]]:
    return [r for r in ev.get("requests") or [] if r.get("method") == "POST"]


def _faults_seen(ev: Evidence) -> set[str]:
    return {f for r in ev.get("requests") or [] for f in r.get("faults") or []}


def _statuses(ev: Evidence) -> list[Any]:
    return [r.get("status") for r in _issue_requests(ev)]


def _status_row(ev: Evidence) -> str | None:
    row = ev.get("merchant_record")
    return row.get("status") if isinstance(row, Mapping) else None


DUPLICATE: list[Pattern] = [
    ("new-request-id",
     lambda ev, dedup: len({i for i in _request_ids(ev) if i}) > 1,
     "the SUT resubmitted the order under a new request id, so the bureau could not tell the retry from "
     "a new sale: keep one request id per order (the order id will do) and look the order up before "
     "resubmitting"),
    ("no-dedup",
     lambda ev, dedup: dedup == "none",
     "the bureau does not deduplicate on this channel (dedup: none, like the e-tax web channel): every "
     "resubmission is a second invoice, whatever its request id; look the order up by external_id before "
     "resubmitting"),
    ("no-request-id",
     lambda ev, dedup: not any(_request_ids(ev)),
     "the SUT sent no request id, so nothing let the bureau recognise the retry: send one and keep it "
     "across retries, and look the order up before resubmitting"),
    ("same-request-id",
     lambda ev, dedup: True,
     "the bureau issued twice under one request id: a bureau that deduplicates should not; check the "
     "bureau's dedup setting and the request log"),
]

PHANTOM: list[Pattern] = [
    ("no-record",
     lambda ev, dedup: ev.get("merchant_record") is None,
     "the SUT has no record of an order the bureau issued: it lost its own state (a restart without a "
     "durable record of the order before calling the bureau?)"),
    ("error-taken-for-refusal",
     lambda ev, dedup: any(s is None or (isinstance(s, int) and s >= 500) for s in _statuses(ev))
     or "ghost_commit" in _faults_seen(ev),
     "the SUT took an error or a timeout for a refusal, but the bureau had committed the invoice: after "
     "an indeterminate answer, look the order up before marking it failed"),
    ("refusal-believed",
     lambda ev, dedup: "false_duplicate" in _faults_seen(ev),
     "the SUT believed a duplicate answer that named no invoice: look the order up instead of trusting a "
     "409 without an invoice number"),
    ("other",
     lambda ev, dedup: True,
     "the SUT marked failed an order the bureau issued: reconcile failed orders against the bureau "
     "(look them up by external_id) before giving up on them"),
]

LOST: list[Pattern] = [
    ("garbled-success",
     lambda ev, dedup: "malformed_response" in _faults_seen(ev),
     "the SUT reported an invoice the bureau never issued after an unreadable answer: treat a garbled "
     "body as indeterminate and look the order up"),
    ("confirmed-early",
     lambda ev, dedup: True,
     "the SUT said issued before the bureau accepted the invoice (or for a number the bureau never "
     "accepted): answer 202 until the bureau has confirmed, then 201"),
]

STUCK: list[Pattern] = [
    ("retrying-a-refusal",
     lambda ev, dedup: 422 in _statuses(ev),
     "the bureau refused the order (422) and the SUT kept it pending: a validation refusal is final; "
     "record the order failed"),
    ("never-sent",
     lambda ev, dedup: not _issue_requests(ev),
     "the SUT never sent the order to the bureau: pending orders must be resumed after a restart"),
    ("still-retrying",
     lambda ev, dedup: True,
     "the SUT was still retrying when the drain ended: check its backoff (it may wait far longer than "
     "Retry-After) and that it resumes pending work"),
]

DROPPED: list[Pattern] = [
    ("forgotten",
     lambda ev, dedup: ev.get("merchant_record") is None,
     "the SUT answered 202 and then forgot the order: keep every accepted order durably until the "
     "bureau has issued it"),
    ("gave-up-on-account-refusal",
     lambda ev, dedup: any(s in (401, 403, 429, 503) for s in _statuses(ev)),
     "the SUT gave up after an outage or an account-level refusal (503, 429, 401 AUTH_EXPIRED, 403 "
     "QUOTA_EXCEEDED): none says the order is wrong; keep it and retry later"),
    ("gave-up-on-error",
     lambda ev, dedup: bool(_issue_requests(ev)),
     "the SUT gave up after an error answer that did not refuse the order itself: only a 422 "
     "VALIDATION_FAILED makes an order failed; keep it and retry (looking it up first)"),
    ("gave-up-without-trying",
     lambda ev, dedup: True,
     "the SUT recorded the order failed without the bureau ever refusing it (a circuit breaker or a "
     "restart?): keep it pending and retry when the bureau is back"),
]

UNEXPECTED: list[Pattern] = [
    ("not-placed",
     lambda ev, dedup: True,
     "an invoice for an order the harness never placed as valid: the SUT passed a malformed order on, "
     "or invented one; refuse invalid orders with 4xx before calling the bureau"),
]

MISMATCH: list[Pattern] = [
    ("reused-number",
     lambda ev, dedup: any("accepted" in r and "for order" in r for r in (ev.get("reasons") or {}).get("mismatch", [])),
     "an invoice number the SUT reported belongs to another order: numbers must never be reused (keep "
     "the number counter durable, and advance it before using a number)"),
    ("differs",
     lambda ev, dedup: True,
     "the invoice differs from the order or from what the SUT reported: see the reasons per order"),
]

PATTERNS: dict[str, list[Pattern]] = {
    "duplicate": DUPLICATE, "phantom": PHANTOM, "lost": LOST, "stuck": STUCK, "dropped": DROPPED,
    "unexpected": UNEXPECTED, "mismatch": MISMATCH,
}


def hints(anomalies: Mapping[str, Sequence[str]], evidence: Mapping[str, Evidence],
          dedup: str = "request_id") -> list[dict[str, Any]]:
    """``[{"kind", "pattern", "orders", "example", "hint"}]``, most orders first."""
    out: list[dict[str, Any]] = []
    for kind, order_ids in anomalies.items():
        groups: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for oid in order_ids:
            ev = evidence.get(oid) or {}
            for name, match, text in PATTERNS.get(kind, []):
                if match(ev, dedup):
                    groups.setdefault(name, []).append(oid)
                    texts[name] = text
                    break
        for name, oids in groups.items():
            out.append({"kind": kind, "pattern": name, "orders": len(oids), "example": oids[0], "hint": texts[name]})
    out.sort(key=lambda h: -h["orders"])
    return out

"""Invoice records: what is stored and answered, built from a validated payload.

Only known fields are kept (unknown fields are ignored and not stored). A red invoice mirrors
its blue invoice with negated quantities and money (数量为负, 单价为正).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

LINE_FIELDS = ("name", "tax_code", "unit", "quantity", "unit_price", "amount", "tax_rate", "tax_amount")
TOTALS = ("total_amount", "total_tax", "total_with_tax")
RED_REASONS = {"01": "开票有误", "02": "销货退回", "03": "服务中止", "04": "销售折让"}


def digest(payload: Any) -> str:
    """Payloads compare as parsed JSON: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _party(obj: Mapping[str, Any]) -> dict[str, Any]:
    party = {"tax_id": obj.get("tax_id"), "name": obj["name"]}
    return party


def blue_record(body: Mapping[str, Any], number: str, issued_at: str) -> dict[str, Any]:
    """The stored record of a valid blue invoice payload (without ``status``)."""
    lines = [{k: line[k] for k in LINE_FIELDS if line.get(k) is not None} for line in body["lines"]]
    return {
        "invoice_number": number,
        "issued_at": issued_at,
        "request_id": body.get("request_id"),
        "external_id": body["external_id"],
        "kind": body.get("kind") or "normal",
        "seller": {"tax_id": body["seller"]["tax_id"], "name": body["seller"]["name"]},
        "buyer": _party(body["buyer"]),
        "lines": lines,
        **{k: body[k] for k in TOTALS},
        "red_for": None,
    }


def _negate(value: str) -> str:
    negated = -Decimal(value)
    return str(negated) if negated != 0 else value.lstrip("-")


def red_record(
    blue: Mapping[str, Any], number: str, issued_at: str, request_id: str | None, reason: str
) -> dict[str, Any]:
    """The red-letter invoice (红字发票) reversing ``blue`` in full."""
    lines = []
    for line in blue["lines"]:
        red = dict(line)
        for key in ("quantity", "amount", "tax_amount"):
            if key in red:
                red[key] = _negate(red[key])
        lines.append(red)
    return {
        "invoice_number": number,
        "issued_at": issued_at,
        "request_id": request_id,
        "external_id": blue["external_id"],
        "kind": blue["kind"],
        "seller": dict(blue["seller"]),
        "buyer": dict(blue["buyer"]),
        "lines": lines,
        **{k: _negate(blue[k]) for k in TOTALS},
        "red_for": blue["invoice_number"],
        "reason": reason,
    }


# One encoder for every record (json.dumps with arguments builds a new one per call); records
# are trees built here, so the cycle check is skipped.
_RECORD_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)


def to_json(record: Mapping[str, Any]) -> str:
    return _RECORD_ENCODER.encode(record)


def payload_json(payload: Any) -> str:
    """A request as JSON text for the dedup comparison: ASCII, so any string can be stored."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":"))

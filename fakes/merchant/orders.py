"""From an order (CONTRACT §3) to the bureau payload (CONTRACT §1), refusing bad orders early.

``build_invoice`` computes each line's amount and tax (ROUND_HALF_UP to cents), the three
totals, and then runs the bureau's own rules (``fakes.bureau.rules.validate_invoice``) over the
payload it would send: an order that breaks a rule is answered 4xx and never reaches the bureau.
Problems carry the order's field paths (``lines[2].quantity``), which the payload shares.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from fakes.bureau.rules import (
    DECIMAL_RE,
    DEFAULT_RATES,
    RATE_RE,
    Problem,
    compute_line,
    money_str,
    rate_table,
    validate_invoice,
)

ORDER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
REVERSAL_REASONS = frozenset({"01", "02", "03", "04"})
_RATES = rate_table(DEFAULT_RATES)


@dataclass(frozen=True)
class Seller:
    tax_id: str
    name: str


@dataclass(frozen=True)
class Invoice:
    """A valid order turned into the bureau payload (without ``request_id``)."""

    order_id: str
    payload: dict[str, Any]

    @property
    def total_with_tax(self) -> str:
        return str(self.payload["total_with_tax"])


class OrderRejected(Exception):
    """The order is invalid; ``problems`` say which field and why."""

    def __init__(self, problems: list[Problem], status: int = 422) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(p.message for p in problems))


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The one error shape of CONTRACT (top of the file)."""
    return {"error": {"code": code, "message": message, "details": details or []}}


def issue_request_id(order_id: str) -> str:
    """The bureau ``request_id`` of an order: the order id itself (same charset, 1-64 chars).

    Deriving it from the order makes every resubmission of one order a replay at the bureau.
    """
    return order_id


def reversal_request_id(order_id: str) -> str:
    """The ``request_id`` of an order's red-letter call, stable and within 64 characters."""
    if len(order_id) <= 62:
        return f"R-{order_id}"
    return "R-" + hashlib.sha256(order_id.encode()).hexdigest()[:40]


def build_invoice(body: Any, seller: Seller) -> Invoice:
    """The bureau payload for an order, or ``OrderRejected`` naming every broken rule."""
    if not isinstance(body, dict):
        raise OrderRejected([Problem("", "MALFORMED_REQUEST", "the body must be a JSON object")], status=400)
    problems: list[Problem] = []
    order_id = body.get("order_id")
    if not isinstance(order_id, str) or not ORDER_ID_RE.fullmatch(order_id):
        problems.append(Problem("order_id", "FORMAT", f"order_id {order_id!r} must be 1-64 of A-Z a-z 0-9 _ -"))
    lines_in = body.get("lines")
    payload: dict[str, Any] = {
        "external_id": order_id,
        "kind": body.get("kind", "normal"),
        "seller": {"tax_id": seller.tax_id, "name": seller.name},
        "buyer": body.get("buyer"),
        "lines": lines_in,
    }
    if isinstance(lines_in, list) and lines_in:
        lines, totals = _price_lines(lines_in, problems)
        if lines is not None and totals is not None:
            payload["lines"] = lines
            payload.update(totals)
    if not problems:
        problems.extend(p for p in validate_invoice(payload, _RATES) if not p.field.startswith("seller"))
    if problems:
        raise OrderRejected(problems)
    assert isinstance(order_id, str)
    return Invoice(order_id, payload)


def _price_lines(lines_in: list[Any], problems: list[Problem]) -> tuple[list[dict[str, Any]] | None, dict[str, str] | None]:
    """Each line with amount and tax computed, and the three totals; problems on bad inputs."""
    out: list[dict[str, Any]] = []
    sum_amount = sum_tax = Decimal(0)
    ok = True
    for i, line in enumerate(lines_in):
        p = f"lines[{i}]"
        if not isinstance(line, dict):
            problems.append(Problem(p, "TYPE", f"{p} must be an object"))
            ok = False
            continue
        qty = _decimal(line, "quantity", p, DECIMAL_RE, problems)
        price = _decimal(line, "unit_price", p, DECIMAL_RE, problems)
        rate = _decimal(line, "tax_rate", p, RATE_RE, problems)
        if qty is None or price is None or rate is None:
            ok = False
            continue
        try:
            amount, tax = compute_line(qty, price, rate)
        except InvalidOperation:
            problems.append(Problem(f"{p}.amount", "RANGE", f"{p}: quantity x unit_price is too large"))
            ok = False
            continue
        sum_amount += amount
        sum_tax += tax
        out.append(_line_payload(line, amount, tax))
    if not ok:
        return None, None
    try:
        totals = {
            "total_amount": money_str(sum_amount),
            "total_tax": money_str(sum_tax),
            "total_with_tax": money_str(sum_amount + sum_tax),
        }
    except InvalidOperation:
        problems.append(Problem("lines", "RANGE", "the order's total is too large"))
        return None, None
    return out, totals


def _line_payload(line: Mapping[str, Any], amount: Decimal, tax: Decimal) -> dict[str, Any]:
    out = {k: line.get(k) for k in ("name", "tax_code", "quantity", "unit_price", "tax_rate")}
    if line.get("unit") is not None:
        out["unit"] = line["unit"]
    out["amount"] = money_str(amount)
    out["tax_amount"] = money_str(tax)
    return out


def _decimal(line: Mapping[str, Any], key: str, p: str, pattern: re.Pattern[str], problems: list[Problem]) -> Decimal | None:
    value = line.get(key)
    path = f"{p}.{key}"
    if value is None:
        problems.append(Problem(path, "REQUIRED", f"{path} is required"))
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.append(Problem(path, "FORMAT", f"{path} {value!r} must be a decimal string such as \"2\" or \"0.06\""))
        return None
    return Decimal(value)

"""Red invoices on the asynchronous channel (CONTRACT §5.6): what a red upload must be.

A red invoice is uploaded like a blue one (§5.4), with its own number, negated amounts,
``red_for`` (an accepted blue invoice of the same seller, buyer and kind) and
``confirmation_id`` (a confirmation of that blue invoice at ``01`` or ``04``, not used yet). Its
lines are matched to the blue invoice's lines by (name, tax code, rate). By the
confirmation's reason:

- ``01`` 开票有误: it must reverse what remains of the blue invoice in full;
- ``02`` 销货退回: quantities only: each line keeps the blue line's unit price and returns no
  more than remains;
- ``03`` 服务中止 and ``04`` 销售折让: amounts: no more than remains of each line.

The blue invoice becomes ``reversed`` once nothing of it remains. Everything wrong here is a
``VALIDATION_FAILED`` detail naming its field (the first of the §5.4 checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fakes.bureau.ledger import Ledger, record_with_status
from fakes.bureau.lq import store
from fakes.bureau.lq.confirmations import Confirmation, ConfirmationBook
from fakes.bureau.rules import LINE_TAX_TOLERANCE, Problem

Delta = list[Decimal]  # [quantity, amount, tax] taken off one blue line (negative numbers)
ZERO = Decimal(0)


@dataclass
class RedPlan:
    """What an acceptable red invoice does to its blue invoice."""

    blue_number: str
    confirmation: Confirmation
    deltas: dict[int, Delta]  # blue line index -> what this red takes off it
    full: bool  # nothing of the blue invoice remains afterwards


class RedDesk:
    def __init__(self, ledger: Ledger, confirmations: ConfirmationBook, loaded: store.LqLoaded) -> None:
        self.ledger = ledger
        self.confirmations = confirmations
        self._applied: dict[str, dict[int, Delta]] = {}  # blue number -> what its reds took off so far
        self.reversed_by: dict[str, str] = {}  # blue number -> the red that reversed what remained
        for blue_number, red_json in loaded.reds:
            blue = self._blue(blue_number)
            red = record_with_status(red_json, "issued")
            if blue is not None:
                deltas, _ = _match(blue, red["lines"], red.get("reason", "01"), self._applied.get(blue_number, {}))
                self.apply(RedPlan(blue_number, Confirmation(0, "", blue_number, "", "", 0.0, None), deltas,
                                   _remains_nothing(blue, self._applied.get(blue_number, {}), deltas)),
                           red["invoice_number"], replaying=True)

    def check(self, item: Mapping[str, Any], now: float) -> tuple[list[Problem], RedPlan | None]:
        """Problems of a red upload that passed the §1 rules, or the plan of what it does."""
        blue_number, conf_id = item.get("red_for"), item.get("confirmation_id")
        if not isinstance(blue_number, str) or len(blue_number) != 20 or not blue_number.isdigit():
            return [Problem("red_for", "FORMAT", f"red_for {blue_number!r} must be the blue invoice's 20-digit number")], None
        blue = self._blue(blue_number)
        problems: list[Problem] = []
        if blue is None:
            return [Problem("red_for", "NOT_FOUND", f"蓝字发票不存在: no accepted invoice numbered {blue_number}")], None
        if blue.get("red_for"):
            problems.append(Problem("red_for", "RED_INVOICE", f"{blue_number} is itself a red invoice"))
        elif blue["status"] == "reversed":
            problems.append(Problem("red_for", "ALREADY_REVERSED", f"{blue_number} was already reversed in full"
                                    f" by {self.reversed_by.get(blue_number)}"))
        for path, mine, theirs in (("seller.tax_id", item["seller"]["tax_id"], blue["seller"]["tax_id"]),
                                   ("buyer.tax_id", item["buyer"].get("tax_id"), blue["buyer"].get("tax_id")),
                                   ("buyer.name", item["buyer"]["name"], blue["buyer"]["name"]),
                                   ("kind", item.get("kind") or "normal", blue["kind"])):
            if mine != theirs:
                problems.append(Problem(path, "RED_MISMATCH", f"{path} {mine!r} differs from the blue invoice's {theirs!r}"))
        conf = self.confirmations.by_id.get(conf_id) if isinstance(conf_id, str) else None
        if conf is None:
            problems.append(Problem("confirmation_id", "REQUIRED" if conf_id is None else "NOT_FOUND",
                                    f"confirmation_id {conf_id!r} must name a red-letter confirmation of {blue_number}"))
        elif conf.blue_number != blue_number:
            problems.append(Problem("confirmation_id", "OTHER_INVOICE", f"{conf_id} confirms {conf.blue_number}, not {blue_number}"))
        elif not conf.usable(now):
            why = f"was already used by {conf.used_by}" if conf.used_by else f"has status {conf.status(now)}, not 01 or 04"
            problems.append(Problem("confirmation_id", "NOT_CONFIRMED", f"{conf_id} {why}"))
        if problems or conf is None:
            return problems, None
        applied = self._applied.get(blue_number, {})
        deltas, problems = _match(blue, item["lines"], conf.reason, applied)
        if problems:
            return problems, None
        return [], RedPlan(blue_number, conf, deltas, _remains_nothing(blue, applied, deltas))

    def apply(self, plan: RedPlan, red_number: str, replaying: bool = False) -> None:
        """Count an accepted red invoice (before its commit; ``undo`` if that fails)."""
        applied = self._applied.setdefault(plan.blue_number, {})
        for j, delta in plan.deltas.items():
            applied[j] = [a + d for a, d in zip(applied.get(j, [ZERO, ZERO, ZERO]), delta)]
        if plan.full:
            self.reversed_by[plan.blue_number] = red_number
        if not replaying:
            plan.confirmation.used_by = red_number

    def undo(self, plan: RedPlan) -> None:
        applied = self._applied[plan.blue_number]
        for j, delta in plan.deltas.items():
            applied[j] = [a - d for a, d in zip(applied[j], delta)]
        if plan.full:
            self.reversed_by.pop(plan.blue_number, None)
        plan.confirmation.used_by = None

    def reset(self) -> None:
        self._applied, self.reversed_by = {}, {}

    def _blue(self, number: str) -> dict[str, Any] | None:
        row = self.ledger.read_one("SELECT record, status FROM invoices WHERE number = ? AND channel = 'lq'", (number,))
        return None if row is None else record_with_status(row[0], row[1])


def _key(line: Mapping[str, Any]) -> tuple[str, str, Decimal]:
    return (line["name"], line["tax_code"], Decimal(line["tax_rate"]))


def _standing(blue: Mapping[str, Any], applied: Mapping[int, Delta]) -> list[Delta]:
    """What remains of each blue line: [quantity (0 when it has none), amount, tax]."""
    out = []
    for j, line in enumerate(blue["lines"]):
        base = [Decimal(line.get("quantity") or 0), Decimal(line["amount"]), Decimal(line["tax_amount"])]
        out.append([b + a for b, a in zip(base, applied.get(j, [ZERO, ZERO, ZERO]))])
    return out


def _match(blue: Mapping[str, Any], lines: list[Any], reason: str,
           applied: Mapping[int, Delta]) -> tuple[dict[int, Delta], list[Problem]]:
    standing = _standing(blue, applied)
    keys = [_key(line) for line in blue["lines"]]
    deltas: dict[int, Delta] = {}
    problems: list[Problem] = []
    for i, line in enumerate(lines):
        key = _key(line)
        j = next((j for j, k in enumerate(keys) if k == key and standing[j][1] != 0), None)
        if j is None:
            problems.append(Problem(f"lines[{i}]", "NO_BLUE_LINE", f"lines[{i}] matches no line of {blue['invoice_number']}"
                                    " with something left to reverse (same name, tax_code and tax_rate)"))
            continue
        quantity = Decimal(line["quantity"]) if line.get("quantity") is not None else ZERO
        if reason == "02":
            blue_line = blue["lines"][j]
            if line.get("quantity") is None or blue_line.get("quantity") is None:
                problems.append(Problem(f"lines[{i}].quantity", "QUANTITY_ONLY", "reason 02 (销货退回) returns quantities:"
                                        " the line and the blue line need quantity and unit_price"))
            elif Decimal(line["unit_price"]) != Decimal(blue_line["unit_price"]):
                problems.append(Problem(f"lines[{i}].unit_price", "QUANTITY_ONLY", f"reason 02 keeps the blue unit price"
                                        f" {blue_line['unit_price']}, got {line['unit_price']}"))
        delta = deltas.setdefault(j, [ZERO, ZERO, ZERO])
        for k, value in enumerate((quantity, Decimal(line["amount"]), Decimal(line["tax_amount"]))):
            delta[k] += value
    for j, delta in deltas.items():
        left = standing[j]
        if -delta[1] > left[1] or -delta[0] > left[0] or -delta[2] > left[2] + LINE_TAX_TOLERANCE:
            problems.append(Problem("lines", "MORE_THAN_REMAINS", f"the red lines take more off blue line {j} than"
                                    f" remains of it (quantity {left[0]}, amount {left[1]}, tax {left[2]})"))
    if reason == "01" and not problems:
        for j, left in enumerate(standing):
            if left != [-d for d in deltas.get(j, [ZERO, ZERO, ZERO])] and left[1] != 0:
                problems.append(Problem("lines", "NOT_IN_FULL", f"reason 01 (开票有误) reverses the blue invoice in full:"
                                        f" blue line {j} has quantity {left[0]}, amount {left[1]}, tax {left[2]} left"))
                break
    return deltas, problems


def _remains_nothing(blue: Mapping[str, Any], applied: Mapping[int, Delta], deltas: Mapping[int, Delta]) -> bool:
    standing = _standing(blue, applied)
    return all(left[1] + deltas.get(j, [ZERO, ZERO, ZERO])[1] == 0 for j, left in enumerate(standing))

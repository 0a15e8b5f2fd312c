"""Invoice invariants over the recorded history (CONTRACT §4 anomaly definitions).

Pure functions: they read the operations the load recorded, the bureau's ledger (the ground
truth) and the SUT's final ledger, and never touch a live system. Each anomaly list holds
``order_id`` s; ``evidence`` collects, per anomalous order, the records that prove it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from typing import Any

from fakes.bureau.rules import compute_line

ANOMALY_KINDS = ("lost", "duplicate", "phantom", "mismatch", "stuck", "unexpected", "dropped")

# Bureau faults that answer in the bureau's place: a refusal they produce says nothing about
# the order (CONTRACT §5.7 ``dropped``). ``policy_change`` is absent on purpose: under it the
# bureau really judges the order by a new policy.
INJECTED_ANSWERS = frozenset({
    "error", "ghost_commit", "rate_limit", "maintenance", "malformed_response", "false_duplicate",
    "auth_expired", "quota_exhausted", "upload_reject", "upload_stuck",
})

Record = Mapping[str, Any]


@dataclass
class InvoiceAudit:
    """The anomaly lists of CONTRACT §4 and the evidence behind each order in them."""

    anomalies: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in ANOMALY_KINDS})
    reasons: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # order -> kind -> why

    def flag(self, kind: str, order_id: str, why: str) -> None:
        if order_id not in self.anomalies[kind]:
            self.anomalies[kind].append(order_id)
        self.reasons.setdefault(order_id, {}).setdefault(kind, []).append(why)

    def sorted(self) -> InvoiceAudit:
        for kind in ANOMALY_KINDS:
            self.anomalies[kind].sort()
        return self


_NONE: frozenset[str] = frozenset()


def is_blue(invoice: Record) -> bool:
    return not invoice.get("red_for")


def refused_orders(bureau_requests: Iterable[Record]) -> set[str]:
    """Orders the bureau itself refused as invalid (CONTRACT §5.7), from its request log: a 422
    ``VALIDATION_FAILED`` on the synchronous channel with no fault answering in its place, or an
    upload result ``02`` whose detail is ``VALIDATION_FAILED`` on the asynchronous one that no
    ``upload_reject`` chose (a held or ghost-committed upload is still judged by the bureau)."""
    refused: set[str] = set()
    for req in bureau_requests:
        ext = req.get("external_id")
        faults = req.get("faults") or ()
        if not ext:
            continue
        if req.get("result_code") is not None:
            # A stored invoice's result is the bureau's own judgement, whatever held it
            # (upload_stuck) or lost the upload's answer (ghost_commit): only upload_reject
            # chooses a result code in the bureau's place.
            if (req.get("result_code") == "02" and req.get("detail_code") == "VALIDATION_FAILED"
                    and "upload_reject" not in faults):
                refused.add(str(ext))
        elif (req.get("status") == 422 and req.get("error_code") in (None, "VALIDATION_FAILED")
              and not INJECTED_ANSWERS.intersection(faults)):
            refused.add(str(ext))
    return refused


def audit_invoices(
    operations: Iterable[Record],
    bureau_ledger: Iterable[Record],
    sut_ledger: Iterable[Record],
    seller_tax_id: str,
    bureau_requests: Iterable[Record] = (),
) -> InvoiceAudit:
    """Compute every anomaly list of CONTRACT §4 and §5.7.

    ``operations``: the load's operation records (``harness.history.Operation`` as dicts) of
    kind ``issue``; the orders they carry are the orders placed as valid. ``bureau_ledger``: every
    invoice the bureau committed. ``sut_ledger``: the SUT's final ``/ledger`` rows, read after the
    drain period ended. ``bureau_requests``: the bureau's request log, which tells a refusal of
    the order itself (a legitimate ``failed``) from an outage the SUT gave up on (``dropped``).
    """
    audit = InvoiceAudit()
    placed: dict[str, Record] = {}           # order_id -> the order as first placed
    confirmed: dict[str, set[str]] = defaultdict(set)  # order_id -> numbers answered in a 201
    answered_201: set[str] = set()
    answered_202: set[str] = set()
    for op in operations:
        if op.get("kind", "issue") != "issue":
            continue
        oid = op["order_id"]
        placed.setdefault(oid, op.get("order") or {})
        status = op.get("http_status")
        if status == 201:
            answered_201.add(oid)
            if op.get("invoice_number"):
                confirmed[oid].add(str(op["invoice_number"]))
        elif status == 202:
            answered_202.add(oid)

    blue_by_order: dict[str, list[Record]] = defaultdict(list)
    owner: dict[str, str] = {}               # invoice number -> the external_id it was issued for
    for inv in bureau_ledger:
        if inv.get("red_for") or (inv.get("seller") or {}).get("tax_id") != seller_tax_id:  # blue only
            continue
        ext = inv.get("external_id")
        owner[str(inv.get("invoice_number"))] = str(ext)
        if ext in placed:
            blue_by_order[ext].append(inv)
        else:
            audit.flag("unexpected", str(ext), f"bureau invoice {inv.get('invoice_number')} has external_id {ext!r}, not an order the harness placed as valid")
    refused = refused_orders(bureau_requests)

    sut_rows: dict[str, Record] = {}
    for row in sut_ledger:
        sut_rows.setdefault(str(row.get("order_id")), row)

    for oid in placed:
        blues = blue_by_order.get(oid, [])
        row = sut_rows.get(oid)
        sut_status = row.get("status") if row else None
        if not blues and (oid in answered_201 or sut_status == "issued"):
            why = "answered 201" if oid in answered_201 else "final ledger says issued"
            audit.flag("lost", oid, f"the SUT {why} but the bureau has no blue invoice for it")
        if len(blues) > 1:
            numbers = ", ".join(str(b.get("invoice_number")) for b in blues)
            audit.flag("duplicate", oid, f"the bureau has {len(blues)} blue invoices: {numbers}")
        if blues and (row is None or sut_status == "failed"):
            why = "has no record of it" if row is None else "says failed"
            audit.flag("phantom", oid, f"the bureau issued {blues[0].get('invoice_number')} but the SUT's ledger {why}")
        if blues:
            _check_mismatch(audit, oid, placed[oid], blues, confirmed.get(oid, _NONE), row, owner)
        else:
            _check_reused_numbers(audit, oid, confirmed.get(oid, _NONE), row, owner)
            if row is None and oid in answered_202:
                audit.flag("dropped", oid, "the SUT answered 202 (it owned the order), but its final ledger has no "
                                           "record of it and the bureau has no invoice for it")
            elif sut_status == "failed" and oid not in refused:
                audit.flag("dropped", oid, "the SUT's ledger says failed and the bureau has no invoice for it, yet the "
                                           "bureau never refused the order itself (no VALIDATION_FAILED in its "
                                           "request log): the SUT gave up on a sale it owed an invoice for")
        if sut_status == "pending":
            audit.flag("stuck", oid, "still pending in the SUT's ledger when the drain period ended")
    return audit.sorted()


def _reported(confirmed: Set[str], row: Record | None) -> set[str]:
    """Every number the SUT reported for an order: in a 201, or in its final ledger row."""
    reported = set(confirmed)
    if row and row.get("invoice_number"):
        reported.add(str(row["invoice_number"]))
    return reported


def _check_reused_numbers(audit: InvoiceAudit, oid: str, confirmed: Set[str], row: Record | None,
                          owner: Mapping[str, str]) -> None:
    """An order with no invoice of its own whose number the bureau accepted for another order."""
    for number in sorted(_reported(confirmed, row)):
        other = owner.get(number)
        if other is not None and other != oid:
            audit.flag("mismatch", oid, f"the SUT reported invoice {number} for this order, but the bureau "
                                        f"accepted {number} for order {other}")


def _check_mismatch(
    audit: InvoiceAudit,
    oid: str,
    order: Record,
    blues: list[Record],
    confirmed: Set[str],
    row: Record | None,
    owner: Mapping[str, str],
) -> None:
    numbers = {str(b.get("invoice_number")) for b in blues}
    for number in sorted(_reported(confirmed, row) - numbers):
        other = owner.get(number)
        whose = f"; the bureau accepted it for order {other}" if other is not None else ""
        audit.flag("mismatch", oid, f"the SUT reported invoice {number}, which is none of the order's blue invoices at the bureau ({', '.join(sorted(numbers))}){whose}")

    if row and row.get("total_with_tax") is not None:
        sut_number = str(row.get("invoice_number") or "")
        ref = next((b for b in blues if str(b.get("invoice_number")) == sut_number), blues[0])
        sut_total, inv_total = row.get("total_with_tax"), ref.get("total_with_tax")
        if sut_total != inv_total and _dec(sut_total) != _dec(inv_total):
            audit.flag("mismatch", oid, f"the SUT's total_with_tax {sut_total} differs from invoice {ref.get('invoice_number')}'s {inv_total}")

    for inv in blues:
        for diff in invoice_differences(order, inv):
            audit.flag("mismatch", oid, f"invoice {inv.get('invoice_number')}: {diff}")


def invoice_differences(order: Record, invoice: Record) -> list[str]:
    """How a bureau invoice differs from the order placed (CONTRACT §4 ``mismatch``).

    Compares buyer, kind and, per line, name, tax code, quantity, unit price, rate, and the
    amount and tax the rules of CONTRACT §3 compute (ROUND_HALF_UP to cents per line).
    """
    diffs: list[str] = []
    if not order or _same_as_placed(order, invoice):
        return diffs
    if (order.get("kind") or "normal") != (invoice.get("kind") or "normal"):
        diffs.append(f"kind {invoice.get('kind')!r} but the order asked for {order.get('kind') or 'normal'!r}")
    ob, ib = order.get("buyer") or {}, invoice.get("buyer") or {}
    for key in ("name", "tax_id"):
        if (ob.get(key) or None) != (ib.get(key) or None):
            diffs.append(f"buyer.{key} {ib.get(key)!r} but the order has {ob.get(key)!r}")
    olines, ilines = order.get("lines") or [], invoice.get("lines") or []
    if len(olines) != len(ilines):
        diffs.append(f"{len(ilines)} lines but the order has {len(olines)}")
        return diffs
    for i, (ol, il) in enumerate(zip(olines, ilines, strict=True)):
        for key in ("name", "tax_code"):
            if ol.get(key) != il.get(key):
                diffs.append(f"lines[{i}].{key} {il.get(key)!r} but the order has {ol.get(key)!r}")
        for key in ("quantity", "unit_price", "tax_rate"):
            if _dec(ol.get(key)) != _dec(il.get(key)):
                diffs.append(f"lines[{i}].{key} {il.get(key)!r} but the order has {ol.get(key)!r}")
        qty, price, rate = _dec(ol.get("quantity")), _dec(ol.get("unit_price")), _dec(ol.get("tax_rate"))
        if qty is None or price is None or rate is None:
            continue
        amount, tax = _expected_line(qty, price, rate)
        if _dec(il.get("amount")) != amount:
            diffs.append(f"lines[{i}].amount {il.get('amount')!r} but the order computes to {amount}")
        if _dec(il.get("tax_amount")) != tax:
            diffs.append(f"lines[{i}].tax_amount {il.get('tax_amount')!r} but the order computes to {tax}")
    return diffs


def _same_as_placed(order: Record, invoice: Record) -> bool:
    """Fast path for the common case: every compared field is the very string the order had,
    and the amounts are what the order computes to. Anything else takes the by-value route."""
    if (order.get("kind") or "normal") != (invoice.get("kind") or "normal"):
        return False
    ob, ib = order.get("buyer") or {}, invoice.get("buyer") or {}
    if (ob.get("name") or None) != (ib.get("name") or None) or (ob.get("tax_id") or None) != (ib.get("tax_id") or None):
        return False
    olines, ilines = order.get("lines") or [], invoice.get("lines") or []
    if len(olines) != len(ilines):
        return False
    for ol, il in zip(olines, ilines):
        if not isinstance(ol, dict) or not isinstance(il, dict):
            return False
        key = (ol.get("quantity"), ol.get("unit_price"), ol.get("tax_rate"))
        if (ol.get("name") != il.get("name") or ol.get("tax_code") != il.get("tax_code")
                or key != (il.get("quantity"), il.get("unit_price"), il.get("tax_rate"))):
            return False
        if not all(isinstance(x, (str, int, float)) for x in key):
            return False
        expected = _expected_strings(*key)
        if expected is None or expected != (il.get("amount"), il.get("tax_amount")):
            return False
    return True


@lru_cache(maxsize=1 << 16)
def _expected_strings(qty: Any, price: Any, rate: Any) -> tuple[str, str] | None:
    q, p, r = _dec(qty), _dec(price), _dec(rate)
    if q is None or p is None or r is None:
        return None
    amount, tax = compute_line(q, p, r)
    return str(amount), str(tax)


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (str, int, float)):
        return _dec_cached(value)
    return None


@lru_cache(maxsize=1 << 16)
def _dec_cached(value: str | int | float) -> Decimal | None:
    # Quantities, prices and rates repeat across a run: parse each distinct string once.
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@lru_cache(maxsize=1 << 16)
def _expected_line(qty: Decimal, price: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    return compute_line(qty, price, rate)

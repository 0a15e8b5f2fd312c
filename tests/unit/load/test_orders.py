"""The order factory yields valid, deterministic, unique, varied orders."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from fakes.bureau.rules import DEFAULT_RATES, compute_line, is_valid_uscc, money_str, validate_invoice
from harness.data.orders import ORDER_ID_RE, OrderFactory

SELLER = {"tax_id": "91110108551385082Q", "name": "北京示例科技有限公司"}


def as_invoice(order: dict[str, Any]) -> dict[str, Any]:
    """What the SUT sends to the bureau (CONTRACT §3: amounts computed half up per line)."""
    lines, total, tax = [], Decimal(0), Decimal(0)
    for line in order["lines"]:
        amount, line_tax = compute_line(Decimal(line["quantity"]), Decimal(line["unit_price"]), Decimal(line["tax_rate"]))
        lines.append({**line, "amount": money_str(amount), "tax_amount": money_str(line_tax)})
        total += amount
        tax += line_tax
    return {
        "external_id": order["order_id"], "kind": order["kind"], "seller": SELLER, "buyer": order["buyer"],
        "lines": lines, "total_amount": money_str(total), "total_tax": money_str(tax),
        "total_with_tax": money_str(total + tax),
    }


@pytest.mark.parametrize("seed", [0, 1, 7, 12345])
def test_every_order_passes_bureau_validation(seed: int) -> None:
    factory = OrderFactory(seed, "run", "w0")
    for _ in range(500):
        order = factory.next()
        problems = validate_invoice(as_invoice(order))
        assert problems == [], (order, problems)


def test_orders_are_deterministic_and_ids_unique() -> None:
    a = [OrderFactory(3, "p", "w1").next() for _ in range(1)]
    f1, f2 = OrderFactory(3, "p", "w1"), OrderFactory(3, "p", "w1")
    first = [f1.next() for _ in range(200)]
    assert first == [f2.next() for _ in range(200)]
    assert a[0] == first[0]
    other_worker = OrderFactory(3, "p", "w2")
    ids = {o["order_id"] for o in first} | {other_worker.next()["order_id"] for _ in range(200)}
    assert len(ids) == 400
    assert all(ORDER_ID_RE.fullmatch(i) for i in ids)
    assert first[0]["order_id"] == "p-w1-000001"


def test_orders_are_varied_like_real_merchants() -> None:
    factory = OrderFactory(11, "mix", "w0")
    orders = [factory.next() for _ in range(2000)]
    kinds = Counter(o["kind"] for o in orders)
    assert kinds["normal"] > 0 and kinds["special"] > 0
    assert all("tax_id" in o["buyer"] for o in orders if o["kind"] == "special")
    ids = [o["buyer"].get("tax_id") for o in orders]
    uscc = [i for i in ids if i and len(i) == 18]
    other = [i for i in ids if i and len(i) != 18]
    assert uscc and other and None in ids
    assert all(is_valid_uscc(i) for i in uscc)
    assert all(15 <= len(i) <= 20 for i in other)
    counts = [len(o["lines"]) for o in orders]
    assert min(counts) == 1 and 10 < max(counts) <= 20
    rates = {line["tax_rate"] for o in orders for line in o["lines"]}
    assert rates == set(DEFAULT_RATES)
    names = {line["name"] for o in orders for line in o["lines"]}
    assert all(n.startswith("*") and n.count("*") == 2 for n in names)


def test_shrunk_rate_table_is_respected() -> None:
    factory = OrderFactory(5, "r", rates=("0.06", "0.13"))
    rates = {line["tax_rate"] for _ in range(300) for line in factory.next()["lines"]}
    assert rates <= {"0.06", "0.13"}


def test_bad_prefix_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="order ids"):
        OrderFactory(1, "bad prefix")


def test_orders_can_never_break_the_corrected_total_tax_rule() -> None:
    # CONTRACT §5.2: |Σ(amount x rate) - total_tax| <= 1.27. Half-up rounding is off by at most
    # 0.005 a line and the factory caps orders at 20 lines, whatever it is asked: 0.10 at worst.
    factory = OrderFactory(2, "big", max_lines=5000)
    worst = Decimal(0)
    for _ in range(2000):
        invoice = as_invoice(factory.next())
        assert len(invoice["lines"]) <= 20
        exact = sum(Decimal(line["amount"]) * Decimal(line["tax_rate"]) for line in invoice["lines"])
        worst = max(worst, abs(exact - Decimal(invoice["total_tax"])))
    assert worst <= Decimal("0.10")

from __future__ import annotations

from typing import Any

import pytest

from fakes.merchant.orders import OrderRejected, Seller, build_invoice, reversal_request_id
from harness.data.orders import OrderFactory

SELLER = Seller("91110108551385082Q", "北京示例科技有限公司")


def order(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": "ORDER-000123",
        "kind": "normal",
        "buyer": {"name": "福建示例贸易有限公司", "tax_id": "91350100M000100Y43"},
        "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
                   "quantity": "2", "unit_price": "50.00", "tax_rate": "0.06"}],
    }
    body.update(over)
    return body


def fields(body: Any) -> set[str]:
    with pytest.raises(OrderRejected) as info:
        build_invoice(body, SELLER)
    return {p.field for p in info.value.problems}


def test_computes_lines_and_totals_as_the_contract_example() -> None:
    inv = build_invoice(order(), SELLER)
    p = inv.payload
    assert p["external_id"] == "ORDER-000123"
    assert p["seller"] == {"tax_id": SELLER.tax_id, "name": SELLER.name}
    assert p["lines"][0]["amount"] == "100.00" and p["lines"][0]["tax_amount"] == "6.00"
    assert (p["total_amount"], p["total_tax"], p["total_with_tax"]) == ("100.00", "6.00", "106.00")
    assert inv.total_with_tax == "106.00"


def test_rounds_half_up_per_line() -> None:
    lines = [{"name": "x", "tax_code": "3040201000000000000", "quantity": "1", "unit_price": "0.25", "tax_rate": "0.06"}] * 3
    p = build_invoice(order(lines=lines), SELLER).payload
    assert [ln["tax_amount"] for ln in p["lines"]] == ["0.02"] * 3  # 0.015 -> 0.02
    assert p["total_tax"] == "0.06" and p["total_with_tax"] == "0.81"


def test_generated_load_orders_are_all_accepted() -> None:
    factory = OrderFactory(7, "unit")
    for _ in range(300):
        build_invoice(factory.next(), SELLER)


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"order_id": "has space"}, "order_id"),
        ({"order_id": "x" * 65}, "order_id"),
        ({"order_id": None}, "order_id"),
        ({"kind": "gold"}, "kind"),
        ({"buyer": {"name": "a", "tax_id": "91350100M000100Y44"}}, "buyer.tax_id"),
        ({"kind": "special", "buyer": {"name": "a"}}, "buyer.tax_id"),
        ({"buyer": {"name": "bad\x00name"}}, "buyer.name"),
        ({"lines": []}, "lines"),
        ({"lines": "x"}, "lines"),
    ],
)
def test_order_level_problems_name_the_field(over: dict[str, Any], field: str) -> None:
    assert field in fields(order(**over))


@pytest.mark.parametrize(
    ("line_over", "field"),
    [
        ({"quantity": "0"}, "lines[0].quantity"),
        ({"quantity": "-1"}, "lines[0].quantity"),
        ({"quantity": 2}, "lines[0].quantity"),
        ({"quantity": "1e3"}, "lines[0].quantity"),
        ({"unit_price": None}, "lines[0].unit_price"),
        ({"tax_rate": "0.07"}, "lines[0].tax_rate"),
        ({"tax_rate": "abc"}, "lines[0].tax_rate"),
        ({"tax_code": "123"}, "lines[0].tax_code"),
        ({"name": ""}, "lines[0].name"),
        ({"quantity": "999999999999999", "unit_price": "999999999999999"}, "lines[0].amount"),
    ],
)
def test_line_problems_name_the_field(line_over: dict[str, Any], field: str) -> None:
    body = order()
    body["lines"][0].update(line_over)
    assert field in fields(body)


def test_non_object_is_a_400() -> None:
    with pytest.raises(OrderRejected) as info:
        build_invoice([1, 2], SELLER)
    assert info.value.status == 400


def test_reversal_request_id_fits_64_characters() -> None:
    assert reversal_request_id("A-1") == "R-A-1"
    long = reversal_request_id("x" * 64)
    assert len(long) <= 64 and long == reversal_request_id("x" * 64)

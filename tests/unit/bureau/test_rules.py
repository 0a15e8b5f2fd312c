"""CONTRACT §1 validation rules, each at its exact bounds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fakes.bureau.rules import (
    buyer_tax_id_problem,
    compute_line,
    is_valid_uscc,
    rate_table,
    uscc_check_char,
    validate_invoice,
)
from fakes.bureau.samples import sample_invoice


def fields(body: dict[str, Any], **kw: Any) -> list[str]:
    return [p.field for p in validate_invoice(body, **kw)]


def codes(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in validate_invoice(body)]


def with_line(**changes: Any) -> dict[str, Any]:
    body = sample_invoice()
    body["lines"][0].update(changes)
    return body


def test_the_example_is_valid() -> None:
    assert validate_invoice(sample_invoice()) == []


@pytest.mark.parametrize("code", ["91110108551385082Q", "91350100M000100Y43", "91230900MA1BDT4L60"])
def test_known_credit_codes_pass(code: str) -> None:
    assert is_valid_uscc(code)


def test_weighted_sum_multiple_of_31_maps_to_zero() -> None:
    assert uscc_check_char("91230900MA1BDT4L6") == "0"


@pytest.mark.parametrize("code", ["91350100M000100Y4A", "91110108551385082", "9111010855138508IQ", "91110108551385082q"])
def test_bad_credit_codes_fail(code: str) -> None:
    assert not is_valid_uscc(code)


def test_seller_check_character_is_enforced() -> None:
    body = sample_invoice(seller={"tax_id": "91350100M000100Y4A", "name": "x"})
    assert ("seller.tax_id", "CHECK_CHARACTER") in codes(body)


@pytest.mark.parametrize("value,ok", [("123456789012345", True), ("12345678901234567890", True),
                                      ("12345678901234", False), ("123456789012345678901", False),
                                      ("abcdefghijklmnop", False), ("91350100M000100Y43", True),
                                      ("91350100M000100Y4A", False)])
def test_buyer_id_forms(value: str, ok: bool) -> None:
    assert (buyer_tax_id_problem(value) is None) is ok


def test_buyer_tax_id_required_only_for_special() -> None:
    assert validate_invoice(sample_invoice(buyer={"name": "个人"})) == []
    assert ("buyer.tax_id", "REQUIRED") in codes(sample_invoice(kind="special", buyer={"name": "个人"}))


@pytest.mark.parametrize("code,ok", [("3040201000000000000", True), ("304020100000000000", False),
                                     ("30402010000000000000", False), ("304020100000000000X", False)])
def test_tax_code_is_19_digits(code: str, ok: bool) -> None:
    assert ("lines[0].tax_code" in fields(with_line(tax_code=code))) is not ok


@pytest.mark.parametrize("rate,ok", [("0.06", True), ("0.060", True), ("0.07", False), ("6%", False)])
def test_rate_table(rate: str, ok: bool) -> None:
    assert ("lines[0].tax_rate" in fields(with_line(tax_rate=rate))) is not ok


def test_zero_rate_compares_by_value() -> None:
    body = with_line(tax_rate="0.00", tax_amount="0.00")
    body.update(total_tax="0.00", total_with_tax="100.00")
    assert validate_invoice(body) == []
    assert validate_invoice(body, rates=rate_table(["0"])) == []


@pytest.mark.parametrize("amount,ok", [("100.01", True), ("99.99", True), ("100.02", False), ("99.98", False)])
def test_quantity_times_price_tolerance_is_one_cent(amount: str, ok: bool) -> None:
    body = with_line(amount=amount)
    body.update(total_amount=amount, total_with_tax=str(Decimal(amount) + Decimal("6.00")))
    assert ("lines[0].amount" in fields(body)) is not ok


@pytest.mark.parametrize("tax,ok", [("6.06", True), ("5.94", True), ("6.07", False), ("5.93", False)])
def test_line_tax_tolerance_is_six_cents(tax: str, ok: bool) -> None:
    body = with_line(tax_amount=tax)
    body.update(total_tax=tax, total_with_tax=str(Decimal("100.00") + Decimal(tax)))
    assert ("lines[0].tax_amount" in fields(body)) is not ok


@pytest.mark.parametrize("total,ok", [("100.01", True), ("99.99", True), ("100.02", False)])
def test_total_amount_tolerance_is_one_cent(total: str, ok: bool) -> None:
    body = sample_invoice(total_amount=total, total_with_tax=str(Decimal(total) + Decimal("6.00")))
    assert ("total_amount" in fields(body)) is not ok


@pytest.mark.parametrize("total,ok", [("7.27", True), ("4.73", True), ("7.28", False), ("4.72", False)])
def test_total_tax_tolerance_is_1_27(total: str, ok: bool) -> None:
    body = sample_invoice(total_tax=total, total_with_tax=str(Decimal("100.00") + Decimal(total)))
    assert ("total_tax" in fields(body)) is not ok


def lines_of(count: int, amount: str, rate: str, tax: str) -> dict[str, Any]:
    line = {"name": "*餐饮服务*餐费", "tax_code": "3070401000000000000", "amount": amount, "tax_rate": rate,
            "tax_amount": tax}
    total, total_tax = Decimal(amount) * count, Decimal(tax) * count
    return sample_invoice(lines=[line] * count, total_amount=str(total), total_tax=str(total_tax),
                          total_with_tax=str(total + total_tax))


def test_total_tax_against_amount_times_rate_is_1_27() -> None:
    # CONTRACT §5.2's example: each line within 0.06, Σ tax_amount = total_tax, but Σ(amount x rate) = 1.80.
    body = lines_of(30, "1.00", "0.06", "0.12")
    assert codes(body) == [("total_tax", "TOTAL_TAX_RATE_TOLERANCE")]
    assert codes(lines_of(21, "1.00", "0.06", "0.12")) == []  # 21 x 0.06 = 1.26 of slack
    assert codes(lines_of(22, "1.00", "0.06", "0.12")) == [("total_tax", "TOTAL_TAX_RATE_TOLERANCE")]  # 1.32


def test_half_up_rounding_alone_needs_255_lines_to_break_it() -> None:
    # Amounts and taxes computed as the SUT contract says (ROUND_HALF_UP per line) are off by at
    # most 0.005 a line: 0.25 x 6% = 0.015 -> 0.02 is that worst case.
    assert compute_line(Decimal(1), Decimal("0.25"), Decimal("0.06")) == (Decimal("0.25"), Decimal("0.02"))
    assert codes(lines_of(254, "0.25", "0.06", "0.02")) == []
    assert codes(lines_of(255, "0.25", "0.06", "0.02")) == [("total_tax", "TOTAL_TAX_RATE_TOLERANCE")]


def test_red_mode_wants_negated_amounts_and_quantities() -> None:
    red = sample_invoice(total_amount="-100.00", total_tax="-6.00", total_with_tax="-106.00")
    red["lines"][0].update(quantity="-2", amount="-100.00", tax_amount="-6.00")
    assert validate_invoice(red, red=True) == []
    assert {p.field for p in validate_invoice(sample_invoice(), red=True)} == {
        "lines[0].quantity", "lines[0].amount", "lines[0].tax_amount", "total_amount", "total_tax", "total_with_tax"}
    assert {p.field for p in validate_invoice(red)} >= {"lines[0].quantity", "total_amount"}


def test_total_with_tax_must_be_exact() -> None:
    assert ("total_with_tax", "TOTAL_MISMATCH") in codes(sample_invoice(total_with_tax="106.01"))


@pytest.mark.parametrize("qty,ok", [("0", False), ("-1", False), ("0.00000000", False), ("2.00000000", True)])
def test_quantity_must_be_positive(qty: str, ok: bool) -> None:
    assert ("lines[0].quantity" in fields(with_line(quantity=qty))) is not ok


def test_quantity_and_price_come_together() -> None:
    body = sample_invoice()
    del body["lines"][0]["unit_price"]
    assert ("lines[0].unit_price", "REQUIRED_TOGETHER") in codes(body)
    del body["lines"][0]["quantity"]
    assert validate_invoice(body) == []


@pytest.mark.parametrize("name,ok", [("a" * 200, True), ("a" * 201, False), ("", False), ("a\x07b", False),
                                     ("a\u200bb", True), ("\ud800", False)])
def test_names(name: str, ok: bool) -> None:
    body = sample_invoice(seller={"tax_id": "91110108551385082Q", "name": name})
    assert ("seller.name" in fields(body)) is not ok


@pytest.mark.parametrize("value", ["106", "106.0", "106.000", "1e2", 106, None])
def test_money_needs_two_fraction_digits(value: Any) -> None:
    assert "total_with_tax" in fields(sample_invoice(total_with_tax=value))


def test_blue_amounts_must_not_be_negative() -> None:
    assert ("total_tax", "RANGE") in codes(sample_invoice(total_tax="-6.00", total_with_tax="94.00"))


def test_line_count_bounds() -> None:
    assert ("lines", "LENGTH") in codes(sample_invoice(lines=[]))
    line = sample_invoice()["lines"][0]
    body = sample_invoice(lines=[line] * 5001)
    assert ("lines", "LENGTH") in codes(body)


def test_wrong_types_name_the_field() -> None:
    body = sample_invoice(seller="x", lines=[1], external_id=5, request_id="bad id")
    assert {"seller", "lines[0]", "external_id", "request_id"} <= set(fields(body))


def test_policy_required_field() -> None:
    body = sample_invoice()
    del body["lines"][0]["unit"]
    assert fields(body, required_fields=["lines[].unit"]) == ["lines[].unit"]
    assert fields(sample_invoice(), required_fields=["lines[].unit", "buyer.tax_id"]) == []


def test_compute_line_rounds_half_up() -> None:
    assert compute_line(Decimal("3"), Decimal("0.335"), Decimal("0.13")) == (Decimal("1.01"), Decimal("0.13"))

"""Hypothesis strategies for VALID input: SUT orders (CONTRACT §3) and bureau invoices (§1).

Everything drawn here respects every rule of ``fakes.bureau.rules``: credit codes carry the
right GB 32100-2015 check character, tax codes are 19 ASCII digits, rates come from the table,
quantities are positive, names are 1-200 code points without control characters (odd but legal
Unicode such as RTL marks and zero-width characters included), and a bureau invoice's amounts,
taxes and totals are computed the way the SUT must compute them (ROUND_HALF_UP to cents).

The malformed families (``harness.data.malformed``) start from these and break one rule each.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fakes.bureau.rules import DEFAULT_RATES, USCC_ALPHABET, compute_line, money_str, uscc_check_char
from fakes.bureau.samples import SELLER_TAX_ID

__all__ = ["credit_codes", "invoices", "names", "order_lines", "orders", "other_tax_ids", "tax_codes"]

SELLER_NAME = "北京示例科技有限公司"
_DIGITS = "0123456789"
_OTHER_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Legal but unusual characters in names: RTL mark, zero-width space / joiner, full-width letters.
_ODD_LEGAL = "\u200f\u200b\u200d\u202eＡＢＣ１２３ー・（）"


def credit_codes() -> st.SearchStrategy[str]:
    """18-character 统一社会信用代码 with a correct check character."""
    return st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17).map(lambda s: s + uscc_check_char(s))


def other_tax_ids() -> st.SearchStrategy[str]:
    """Other taxpayer ids: 15-20 of 0-9 A-Z, never 18 (18 characters must be a credit code)."""
    return st.sampled_from((15, 16, 17, 19, 20)).flatmap(
        lambda n: st.text(alphabet=_OTHER_ID_ALPHABET, min_size=n, max_size=n))


def tax_codes() -> st.SearchStrategy[str]:
    """税收分类编码: 19 ASCII digits."""
    return st.text(alphabet=_DIGITS, min_size=19, max_size=19)


def names(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """1..max_size code points with no control character (category Cc); odd Unicode included."""
    chars = st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
        st.sampled_from(_ODD_LEGAL),
        st.sampled_from("北京示例科技有限公司福建贸易服务*"),
    )
    return st.text(alphabet=chars, min_size=1, max_size=max_size)


def _decimals(*, max_int: int, max_frac: int, positive: bool) -> st.SearchStrategy[str]:
    """Decimal strings the rules accept (up to 8 fractional digits)."""
    def render(parts: tuple[int, int, int]) -> str:
        whole, frac, digits = parts
        text = str(whole) if digits == 0 else f"{whole}.{frac % 10 ** digits:0{digits}d}"
        return text
    drawn = st.tuples(st.integers(0, max_int), st.integers(0, 10 ** 8 - 1), st.integers(0, max_frac)).map(render)
    return drawn.filter(lambda s: Decimal(s) > 0) if positive else drawn


def order_lines(*, rates: tuple[str, ...] = DEFAULT_RATES) -> st.SearchStrategy[dict[str, Any]]:
    """One order line (SUT contract): the SUT computes amount and tax from these."""
    return st.fixed_dictionaries(
        {
            "name": names(),
            "tax_code": tax_codes(),
            "quantity": _decimals(max_int=10_000, max_frac=4, positive=True),
            "unit_price": _decimals(max_int=100_000, max_frac=8, positive=False),
            "tax_rate": st.sampled_from(rates),
        },
        optional={"unit": names(max_size=4)},
    )


def _buyers(kind: str) -> st.SearchStrategy[dict[str, str]]:
    ids = st.one_of(credit_codes(), other_tax_ids())
    if kind == "special":
        return st.fixed_dictionaries({"name": names(), "tax_id": ids})
    return st.fixed_dictionaries({"name": names()}, optional={"tax_id": ids})


def _extras() -> st.SearchStrategy[dict[str, Any]]:
    """Unknown fields, which both receivers must ignore."""
    keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map(lambda k: f"x_{k}")
    values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3))
    return st.dictionaries(keys, values, max_size=3)


@st.composite
def orders(draw: st.DrawFn, *, rates: tuple[str, ...] = DEFAULT_RATES, max_lines: int = 5,
           order_id: str | None = None, extra_fields: bool = False) -> dict[str, Any]:
    """A valid SUT order (CONTRACT §3); with ``extra_fields``, unknown keys are sprinkled in."""
    kind = draw(st.sampled_from(("normal", "special")))
    order: dict[str, Any] = {
        "order_id": order_id or draw(st.text(alphabet=_DIGITS + "ABCDEFabcdef-_", min_size=1, max_size=40)),
        "kind": kind,
        "buyer": draw(_buyers(kind)),
        "lines": draw(st.lists(order_lines(rates=rates), min_size=1, max_size=max_lines)),
    }
    if draw(st.booleans()) and kind == "normal":
        del order["kind"]  # optional, defaults to normal
    if extra_fields:
        order.update(draw(_extras()))
        order["buyer"] = {**order["buyer"], **draw(_extras())}
    return order


def invoice_from_order(order: dict[str, Any], *, seller_tax_id: str = SELLER_TAX_ID,
                       seller_name: str = SELLER_NAME) -> dict[str, Any]:
    """The bureau payload the SUT contract says a SUT sends for ``order`` (amounts computed)."""
    lines = []
    sum_amount = sum_tax = Decimal(0)
    for line in order["lines"]:
        amount, tax = compute_line(Decimal(line["quantity"]), Decimal(line["unit_price"]), Decimal(line["tax_rate"]))
        sum_amount += amount
        sum_tax += tax
        out = {k: line[k] for k in ("name", "tax_code", "quantity", "unit_price", "tax_rate")}
        if "unit" in line:
            out["unit"] = line["unit"]
        out["amount"], out["tax_amount"] = money_str(amount), money_str(tax)
        lines.append(out)
    return {
        "external_id": order["order_id"],
        "kind": order.get("kind", "normal"),
        "seller": {"tax_id": seller_tax_id, "name": seller_name},
        "buyer": dict(order["buyer"]),
        "lines": lines,
        "total_amount": money_str(sum_amount),
        "total_tax": money_str(sum_tax),
        "total_with_tax": money_str(sum_amount + sum_tax),
    }


def invoices(*, rates: tuple[str, ...] = DEFAULT_RATES, max_lines: int = 5, seller_tax_id: str = SELLER_TAX_ID,
             seller_name: str = SELLER_NAME) -> st.SearchStrategy[dict[str, Any]]:
    """A valid blue-invoice payload for ``POST /api/v1/invoices`` (no ``request_id``)."""
    return orders(rates=rates, max_lines=max_lines).map(
        lambda o: invoice_from_order(o, seller_tax_id=seller_tax_id, seller_name=seller_name))

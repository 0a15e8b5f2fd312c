"""The bureau's validation rules (CONTRACT §1), shared by the bureau and the merchant client.

Pure functions over parsed JSON: no I/O, no framework. ``validate_invoice`` returns one
``Problem`` per broken rule, each naming the field by path (``lines[3].tax_amount``), so the
bureau can answer a 422 that tells the caller exactly what to fix, and the merchant client can
refuse a bad order before it ever reaches the bureau.

Domain facts (GB 32100-2015 check character, tolerances, rate table) are in
``shared/reference/einvoice-domain.md``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))


_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_RE = re.compile(f"[{USCC_ALPHABET}]{{18}}")


def uscc_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a credit code.

    ``(31 - s % 31) % 31``: the outer modulo maps a weighted sum that is a multiple of 31 to '0'
    (e.g. ``91230900MA1BDT4L60``), where ``alphabet[31 - 0]`` would be out of range.
    """
    if len(first17) != 17:
        raise ValueError(f"a credit code has 17 characters before its check character, got {len(first17)}")
    try:
        total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a credit-code character ({USCC_ALPHABET})") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


@functools.lru_cache(maxsize=4096)  # the same sellers and buyers come back on every invoice
def is_valid_uscc(code: str) -> bool:
    if not _USCC_RE.fullmatch(code):
        return False
    return uscc_check_char(code[:17]) == code[17]


_OTHER_TAXPAYER_ID = re.compile(r"[0-9A-Z]{15,20}")


def buyer_tax_id_problem(value: str) -> tuple[str, str] | None:
    """(code, message) when a buyer tax id is wrong; 18 characters must be a valid USCC."""
    if len(value) == 18:
        if not is_valid_uscc(value):
            return ("CHECK_CHARACTER", f"{value!r} is not a valid 统一社会信用代码 (GB 32100-2015 check character)")
        return None
    if not _OTHER_TAXPAYER_ID.fullmatch(value):
        return ("FORMAT", f"{value!r} must be an 18-character credit code or 15-20 of 0-9 A-Z")
    return None


# --- money and decimals --------------------------------------------------------------------

DEFAULT_RATES: tuple[str, ...] = ("0.13", "0.09", "0.06", "0.05", "0.03", "0.01", "0")
CENT = Decimal("0.01")
MONEY_RE = re.compile(r"-?[0-9]{1,15}\.[0-9]{2}")
DECIMAL_RE = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,8})?")
RATE_RE = re.compile(r"[0-9]{1,3}(\.[0-9]{1,8})?")
TAX_CODE_RE = re.compile(r"[0-9]{19}")
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f]")  # exactly Unicode category Cc
# A name is fine unless it holds a control character or a lone surrogate (not UTF-8): checked
# in one search on the common path, the slow path then says which rule it broke.
_NOT_A_PLAIN_NAME_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

QTY_PRICE_TOLERANCE = Decimal("0.01")
LINE_TAX_TOLERANCE = Decimal("0.06")
TOTAL_AMOUNT_TOLERANCE = Decimal("0.01")
TOTAL_TAX_TOLERANCE = Decimal("1.27")
MAX_LINES = 5000
MAX_NAME_LEN = 200


def cents(value: Decimal) -> Decimal:
    """Round to cents, half up, as the SUT contract (§3) requires."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    return str(cents(value))


def compute_line(quantity: Decimal, unit_price: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Amount and tax of a line, each rounded half up to cents (CONTRACT §3)."""
    amount = cents(quantity * unit_price)
    return amount, cents(amount * rate)


def rate_table(rates: Iterable[str]) -> frozenset[Decimal]:
    return frozenset(Decimal(r) for r in rates)


# --- validation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


class _Checker:
    """Collects problems while walking a payload; every accessor tolerates wrong types."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, code: str, message: str) -> None:
        self.problems.append(Problem(field, code, message))

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.add(path, "REQUIRED", f"{path} is required")
            return None
        if not isinstance(value, str):
            self.add(path, "TYPE", f"{path} must be a string, got {_json_type(value)}")
            return None
        if not value.isascii() and not _encodable(value):
            # A lone surrogate (JSON "\ud800") cannot be stored or echoed as UTF-8.
            self.add(path, "ENCODING", f"{path} {value!r} contains a lone surrogate; send valid Unicode text")
            return None
        return value

    # The common path of each check below accepts a valid value at once; anything else takes
    # the general path, which finds and words every problem (these checks run ~16 times per
    # invoice line on the bureau's hot path).

    def name(self, obj: Mapping[str, Any], key: str, path: str) -> None:
        value = obj.get(key)
        if value.__class__ is str and 1 <= len(value) <= MAX_NAME_LEN and not _NOT_A_PLAIN_NAME_RE.search(value):
            return
        value = self.string(obj, key, path, required=True)
        if value is None:
            return
        if not 1 <= len(value) <= MAX_NAME_LEN:
            self.add(path, "LENGTH", f"{path} must be 1-{MAX_NAME_LEN} characters, got {len(value)}")
        elif _CONTROL_RE.search(value):
            self.add(path, "CONTROL_CHARACTER", f"{path} must not contain control characters")

    def money(self, obj: Mapping[str, Any], key: str, path: str, *, red: bool = False) -> Decimal | None:
        value = obj.get(key)
        if value.__class__ is not str or not MONEY_RE.fullmatch(value):
            value = self.string(obj, key, path, required=True)
            if value is None:
                return None
            if not MONEY_RE.fullmatch(value):
                self.add(path, "FORMAT", f"{path} {value!r} must be a decimal string with exactly two fractional digits, like \"106.00\"")
                return None
        amount = Decimal(value)
        if not red and amount < 0:
            self.add(path, "RANGE", f"{path} {value} must not be negative on a blue invoice")
        elif red and amount > 0:
            self.add(path, "RANGE", f"{path} {value} must not be positive on a red invoice (negated amounts)")
        return amount

    def decimal(self, obj: Mapping[str, Any], key: str, path: str) -> Decimal | None:
        value = obj.get(key)
        if value.__class__ is str and DECIMAL_RE.fullmatch(value):
            return Decimal(value)
        value = self.string(obj, key, path, required=True)
        if value is None:
            return None
        if not DECIMAL_RE.fullmatch(value):
            self.add(path, "FORMAT", f"{path} {value!r} must be a decimal string with at most 8 fractional digits")
            return None
        return Decimal(value)


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def _object(c: _Checker, value: Any, path: str) -> Mapping[str, Any] | None:
    if value is None:
        c.add(path, "REQUIRED", f"{path} is required")
        return None
    if not isinstance(value, dict):
        c.add(path, "TYPE", f"{path} must be an object, got {_json_type(value)}")
        return None
    return value


def validate_invoice(
    body: Mapping[str, Any],
    rates: frozenset[Decimal] = rate_table(DEFAULT_RATES),
    required_fields: Iterable[str] = (),
    *,
    red: bool = False,
) -> list[Problem]:
    """Every broken rule of CONTRACT §1 (with §5.2's correction) for an invoice payload; empty
    when it is valid.

    ``required_fields`` are extra field paths a policy change made mandatory
    (``buyer.tax_id``, ``lines[].unit``). ``red`` checks a red invoice uploaded on the
    asynchronous channel (§5.6): amounts, taxes and quantities negated (数量为负, 单价为正), the
    same tolerances.
    """
    c = _Checker()

    request_id = body.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_RE.fullmatch(request_id)):
        c.add("request_id", "FORMAT", f"request_id {request_id!r} must be 1-64 of A-Z a-z 0-9 _ -")

    external_id = c.string(body, "external_id", "external_id", required=True)
    if external_id is not None and not 1 <= len(external_id) <= 64:
        c.add("external_id", "LENGTH", f"external_id must be 1-64 characters, got {len(external_id)}")

    kind = body.get("kind", "normal")
    if kind is None:
        kind = "normal"
    if kind not in ("normal", "special"):
        c.add("kind", "ENUM", f"kind {kind!r} must be \"normal\" or \"special\"")

    seller = _object(c, body.get("seller"), "seller")
    if seller is not None:
        tax_id = c.string(seller, "tax_id", "seller.tax_id", required=True)
        if tax_id is not None and not is_valid_uscc(tax_id):
            c.add("seller.tax_id", "CHECK_CHARACTER", f"seller.tax_id {tax_id!r} is not a valid 18-character 统一社会信用代码")
        c.name(seller, "name", "seller.name")

    buyer = _object(c, body.get("buyer"), "buyer")
    if buyer is not None:
        c.name(buyer, "name", "buyer.name")
        tax_id = c.string(buyer, "tax_id", "buyer.tax_id", required=kind == "special")
        if tax_id is not None:
            problem = buyer_tax_id_problem(tax_id)
            if problem:
                c.add("buyer.tax_id", *problem)

    sum_amount, sum_tax, sum_expected = _validate_lines(c, body.get("lines"), rates, red)

    total_amount = c.money(body, "total_amount", "total_amount", red=red)
    total_tax = c.money(body, "total_tax", "total_tax", red=red)
    total_with_tax = c.money(body, "total_with_tax", "total_with_tax", red=red)
    if sum_amount is not None and total_amount is not None and abs(sum_amount - total_amount) > TOTAL_AMOUNT_TOLERANCE:
        c.add("total_amount", "TOTAL_AMOUNT_TOLERANCE", f"total_amount {total_amount} differs from the sum of line amounts {sum_amount} by more than {TOTAL_AMOUNT_TOLERANCE}")
    if sum_tax is not None and total_tax is not None and abs(sum_tax - total_tax) > TOTAL_TAX_TOLERANCE:
        c.add("total_tax", "TOTAL_TAX_TOLERANCE", f"total_tax {total_tax} differs from the sum of line taxes {sum_tax} by more than {TOTAL_TAX_TOLERANCE}")
    elif sum_expected is not None and total_tax is not None and abs(sum_expected - total_tax) > TOTAL_TAX_TOLERANCE:
        # CONTRACT §5.2 (LQ §2.2.4.2): also against the exact Σ(amount × tax_rate), so per-line
        # slack of up to 0.06 cannot add up past 1.27.
        c.add("total_tax", "TOTAL_TAX_RATE_TOLERANCE", f"total_tax {total_tax} differs from the sum of amount x tax_rate {sum_expected.normalize():f} by more than {TOTAL_TAX_TOLERANCE}")
    if None not in (total_amount, total_tax, total_with_tax) and total_with_tax != total_amount + total_tax:  # type: ignore[operator]
        c.add("total_with_tax", "TOTAL_MISMATCH", f"total_with_tax {total_with_tax} must equal total_amount + total_tax = {total_amount + total_tax}")  # type: ignore[operator]

    for path in required_fields:
        if not _has_field(body, path):
            c.add(path, "REQUIRED_BY_POLICY", f"{path} is required by the current policy")
    return c.problems


Sums = tuple[Decimal | None, Decimal | None, Decimal | None]


def _validate_lines(c: _Checker, lines: Any, rates: frozenset[Decimal], red: bool) -> Sums:
    """Checks every line; (Σ amount, Σ tax_amount, Σ amount × tax_rate), None where unknown."""
    if lines is None:
        c.add("lines", "REQUIRED", "lines is required")
        return None, None, None
    if not isinstance(lines, list):
        c.add("lines", "TYPE", f"lines must be an array, got {_json_type(lines)}")
        return None, None, None
    if not 1 <= len(lines) <= MAX_LINES:
        c.add("lines", "LENGTH", f"an invoice has 1-{MAX_LINES} lines, got {len(lines)}")
        return None, None, None
    sum_amount: Decimal | None = Decimal(0)
    sum_tax: Decimal | None = Decimal(0)
    sum_expected: Decimal | None = Decimal(0)
    for i, line in enumerate(lines):
        p = f"lines[{i}]"
        line = _object(c, line, p)
        if line is None:
            sum_amount = sum_tax = sum_expected = None
            continue
        c.name(line, "name", f"{p}.name")
        code = c.string(line, "tax_code", f"{p}.tax_code", required=True)
        if code is not None and not TAX_CODE_RE.fullmatch(code):
            c.add(f"{p}.tax_code", "FORMAT", f"{p}.tax_code {code!r} must be 19 digits")
        c.string(line, "unit", f"{p}.unit", required=False)
        amount = c.money(line, "amount", f"{p}.amount", red=red)
        tax_amount = c.money(line, "tax_amount", f"{p}.tax_amount", red=red)
        rate = _rate(c, line, f"{p}.tax_rate", rates)

        has_qty, has_price = line.get("quantity") is not None, line.get("unit_price") is not None
        if has_qty != has_price:
            missing = "unit_price" if has_qty else "quantity"
            c.add(f"{p}.{missing}", "REQUIRED_TOGETHER", f"{p}: quantity and unit_price come together or not at all")
        elif has_qty:
            qty = c.decimal(line, "quantity", f"{p}.quantity")
            price = c.decimal(line, "unit_price", f"{p}.unit_price")
            if qty is not None and not red and qty <= 0:
                c.add(f"{p}.quantity", "RANGE", f"{p}.quantity {qty} must be greater than 0")
            elif qty is not None and red and qty >= 0:
                c.add(f"{p}.quantity", "RANGE", f"{p}.quantity {qty} must be less than 0 on a red invoice (数量为负)")
            if price is not None and price < 0:
                c.add(f"{p}.unit_price", "RANGE", f"{p}.unit_price {price} must not be negative")
            if qty is not None and price is not None and amount is not None:
                diff = abs(qty * price - amount)
                if diff > QTY_PRICE_TOLERANCE:
                    c.add(f"{p}.amount", "AMOUNT_TOLERANCE", f"{amount} differs from {line['quantity']} x {line['unit_price']} by more than {QTY_PRICE_TOLERANCE}")
        expected = None if amount is None or rate is None else amount * rate
        if expected is not None and tax_amount is not None and abs(expected - tax_amount) > LINE_TAX_TOLERANCE:
            c.add(f"{p}.tax_amount", "TAX_TOLERANCE", f"{tax_amount} differs from {amount} x {line['tax_rate']} by more than {LINE_TAX_TOLERANCE}")
        sum_amount = None if amount is None or sum_amount is None else sum_amount + amount
        sum_tax = None if tax_amount is None or sum_tax is None else sum_tax + tax_amount
        sum_expected = None if expected is None or sum_expected is None else sum_expected + expected
    return sum_amount, sum_tax, sum_expected


def _rate(c: _Checker, line: Mapping[str, Any], path: str, rates: frozenset[Decimal]) -> Decimal | None:
    value = line.get("tax_rate")
    if value.__class__ is str and RATE_RE.fullmatch(value) and (rate := Decimal(value)) in rates:
        return rate
    value = c.string(line, "tax_rate", path, required=True)
    if value is None:
        return None
    if not RATE_RE.fullmatch(value):
        c.add(path, "FORMAT", f"{path} {value!r} must be a decimal string such as \"0.06\"")
        return None
    try:
        rate = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        c.add(path, "FORMAT", f"{path} {value!r} is not a decimal")
        return None
    if rate not in rates:
        allowed = ", ".join(sorted((str(r) for r in rates), key=Decimal, reverse=True))
        c.add(path, "RATE_NOT_ALLOWED", f"{path} {value} is not in the current rate table ({allowed})")
        return None
    return rate


def _has_field(body: Mapping[str, Any], path: str) -> bool:
    """Whether a dotted path is present and non-null; ``lines[].x`` means on every line."""
    head, _, rest = path.partition(".")
    if head.endswith("[]"):
        items = body.get(head[:-2])
        return isinstance(items, list) and all(isinstance(i, dict) and _has_field(i, rest) for i in items)
    value = body.get(head)
    if not rest:
        return value is not None
    return isinstance(value, dict) and _has_field(value, rest)

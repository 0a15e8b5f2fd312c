"""Rule families: each breaks exactly one input rule of a valid document, at a known field.

A family is ``build(draw, target, base) -> Malformed``: ``base`` is a valid SUT order or bureau
invoice (``harness.data.invoices``); the result names the field a conforming receiver must name.
Body-level families (encodings, nesting, non-JSON) live in ``harness.data.bodies``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from fakes.bureau.rules import USCC_ALPHABET, uscc_check_char
from harness.data.invoices import credit_codes
from harness.data.jsonbody import Pairs
from harness.data.paths import Path, delete_at, get_at, path_str, set_at
from harness.data.record import ID_KEYS, Malformed, Target

UNKNOWN_RATES = ("0.17", "0.16", "0.11", "0.10", "0.04", "0.02", "0.065", "1", "0.6", "6%", "-0.06", "0.06 ", "")
BAD_QUANTITIES = ("0", "0.0", "0.00000000", "-1", "-0.5", "1e3", "Infinity", "NaN", "1.123456789",
                  "1234567890123456", "99999999999999999999", " 1", "1,000", "½")
CONTROL_CHARS = "\x00\x01\x07\x08\t\n\r\x1b\x7f\x85\x9f"
ZERO_WIDTH_AND_RTL = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f\u202a\u202b\u202e\u2067"


def _line(draw: st.DrawFn, base: dict[str, Any]) -> int:
    return draw(st.integers(0, len(base["lines"]) - 1))


def _make(target: Target, family: str, doc: Any, path: Path, note: str) -> Malformed:
    return Malformed(family=family, target=target, field=path_str(path), note=note, doc=doc)


def _wrong_check(draw: st.DrawFn) -> str:
    code = draw(credit_codes())
    wrong = draw(st.sampled_from([c for c in USCC_ALPHABET if c != code[17]]))
    return code[:17] + wrong


def check_characters(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """An 18-character credit code whose GB 32100-2015 check character is wrong."""
    paths: list[Path] = [("buyer", "tax_id")]
    if target == "bureau":
        paths.append(("seller", "tax_id"))
    path = draw(st.sampled_from(paths))
    value = _wrong_check(draw)
    return _make(target, "check_character", set_at(base, path, value), path, f"{path_str(path)} {value} has a wrong check character")


def wrong_lengths(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Tax ids, tax codes, ids and names one step (or many) outside their allowed length."""
    i = _line(draw, base)
    choice = draw(st.sampled_from(("tax_id", "tax_code", "id", "name")))
    if choice == "tax_id":
        n = draw(st.one_of(st.integers(1, 14), st.integers(21, 30)))
        path: Path = ("buyer", "tax_id")
        value: str = draw(st.text(alphabet="0123456789ABCDEFGH", min_size=n, max_size=n))
    elif choice == "tax_code":
        n = draw(st.one_of(st.integers(1, 18), st.integers(20, 30)))
        path, value = ("lines", i, "tax_code"), draw(st.text(alphabet="0123456789", min_size=n, max_size=n))
    elif choice == "id":
        n = draw(st.one_of(st.just(0), st.integers(65, 100)))
        path, value = (ID_KEYS[target],), "A" * n
    else:
        n = draw(st.one_of(st.just(0), st.integers(201, 400)))
        path, value = draw(st.sampled_from((("buyer", "name"), ("lines", i, "name")))), "名" * n
    return _make(target, "wrong_length", set_at(base, path, value), path, f"{path_str(path)} has {len(value)} characters")


def illegal_characters(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Letters in a tax code, characters outside the credit-code alphabet, control characters in names."""
    i = _line(draw, base)
    choice = draw(st.sampled_from(("tax_code", "tax_id", "name", "id")))
    if choice == "tax_code":
        code: str = get_at(base, ("lines", i, "tax_code"))
        at = draw(st.integers(0, 18))
        path: Path = ("lines", i, "tax_code")
        value = code[:at] + draw(st.sampled_from("AOx -.+")) + code[at + 1:]
    elif choice == "tax_id":
        code = draw(credit_codes())
        at = draw(st.integers(0, 16))
        path, value = ("buyer", "tax_id"), code[:at] + draw(st.sampled_from("IOSVZaq-")) + code[at + 1:]
    elif choice == "name":
        name: str = get_at(base, ("buyer", "name"))
        path, value = ("buyer", "name"), name[:10] + draw(st.sampled_from(CONTROL_CHARS)) + name[10:]
    else:
        path = (ID_KEYS[target],) if target == "sut" else ("request_id",)
        value = draw(st.sampled_from(("ORDER 1", "ORDER/1", "订单1", "order.1", "a\tb", "<script>", "1;DROP TABLE")))
    return _make(target, "illegal_characters", set_at(base, path, value), path, f"{path_str(path)} = {value!r}")


def beyond_tolerances(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """(bureau) An amount, tax or total just beyond its tolerance (0.01, 0.06, 0.01, 1.27, exact)."""
    i = _line(draw, base)
    what = draw(st.sampled_from(("amount", "tax_amount", "total_amount", "total_tax", "total_with_tax")))
    sign = draw(st.sampled_from((1, -1)))
    doc = base
    if what in ("amount", "tax_amount"):
        path: Path = ("lines", i, what)
        step = Decimal("0.02") if what == "amount" else Decimal("0.07")
        old = Decimal(get_at(base, path))
        new = old + step if sign > 0 or old < step else old - step
        doc = set_at(base, path, str(new))
    else:
        path = (what,)
        step = {"total_amount": Decimal("0.02"), "total_tax": Decimal("1.28"), "total_with_tax": Decimal("0.01")}[what]
        old = Decimal(base[what])
        new = old + step if sign > 0 or old < step else old - step
        doc = set_at(base, path, str(new))
        if what != "total_with_tax":  # keep total_with_tax = total_amount + total_tax exact
            doc["total_with_tax"] = str(Decimal(doc["total_amount"]) + Decimal(doc["total_tax"]))
    return _make(target, "beyond_tolerance", doc, path, f"{path_str(path)} moved by {step} from {old}")


def unknown_rates(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A tax rate outside the rate table (old 17%/16%/11%/10%, invented, or not a decimal)."""
    path: Path = ("lines", _line(draw, base), "tax_rate")
    value = draw(st.sampled_from(UNKNOWN_RATES))
    return _make(target, "unknown_rate", set_at(base, path, value), path, f"tax_rate {value!r}")


def bad_quantities(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Zero, negative, huge or unreadable quantities, and negative unit prices."""
    i = _line(draw, base)
    if draw(st.integers(0, 4)) == 0:
        path: Path = ("lines", i, "unit_price")
        value = draw(st.sampled_from(("-0.01", "-1", "-100.00")))
    else:
        path, value = ("lines", i, "quantity"), draw(st.sampled_from(BAD_QUANTITIES))
    return _make(target, "bad_quantity", set_at(base, path, value), path, f"{path_str(path)} = {value!r}")


def too_many_lines(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """No line at all, or one more than the 5000 an invoice may carry."""
    count = draw(st.sampled_from((0, 5001)))
    doc = {**base, "lines": [base["lines"][0]] * count}
    return _make(target, "too_many_lines", doc, ("lines",), f"{count} lines")


def _required(target: Target, base: dict[str, Any], i: int) -> list[Path]:
    line = ["name", "tax_code", "tax_rate", "quantity", "unit_price"]
    paths: list[Path] = [(ID_KEYS[target],), ("buyer",), ("buyer", "name"), ("lines",)]
    if target == "bureau":
        line += ["amount", "tax_amount"]
        paths += [("seller",), ("seller", "tax_id"), ("seller", "name"), ("total_amount",), ("total_tax",),
                  ("total_with_tax",)]
    if base.get("kind") == "special":
        paths.append(("buyer", "tax_id"))
    return paths + [("lines", i, k) for k in line]


def missing_fields(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A required field left out."""
    path = draw(st.sampled_from(_required(target, base, _line(draw, base))))
    return _make(target, "missing_field", delete_at(base, path), path, f"{path_str(path)} left out")


def null_fields(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A required field sent as JSON null."""
    path = draw(st.sampled_from(_required(target, base, _line(draw, base))))
    return _make(target, "null_field", set_at(base, path, None), path, f"{path_str(path)} is null")


def extra_fields(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """(bureau) A field that must not come alone (quantity without unit_price, or the reverse),
    among unknown fields, which alone are ignored."""
    i = _line(draw, base)
    present, absent = draw(st.sampled_from((("quantity", "unit_price"), ("unit_price", "quantity"))))
    doc = delete_at(base, ("lines", i, absent))
    doc["x_note"] = draw(st.text(max_size=8))
    doc["lines"][i]["x_discount"] = "0.00"
    return _make(target, "extra_fields", doc, ("lines", i, absent), f"lines[{i}].{present} without {absent}")


def wrong_types(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A field of the wrong JSON type: numbers for money strings, a string for lines, ..."""
    i = _line(draw, base)
    strings: list[Path] = [(ID_KEYS[target],), ("buyer", "name"), ("lines", i, "name"), ("lines", i, "tax_code"),
                           ("lines", i, "quantity"), ("lines", i, "unit_price"), ("lines", i, "tax_rate"), ("kind",)]
    if target == "bureau":
        strings += [("lines", i, "amount"), ("lines", i, "tax_amount"), ("total_amount",), ("total_with_tax",)]
    objects: list[Path] = [("buyer",), ("lines",), ("lines", i)]
    path = draw(st.sampled_from(strings + objects))
    current = get_at(base, path) if path != ("kind",) else base.get("kind", "normal")
    wrong: list[Any] = [0, 1.5, True, False, [], {}, ["x"], {"value": current}]
    if isinstance(current, str):
        wrong += [_as_number(current)]
    else:
        wrong += ["x", 7]
    value = draw(st.sampled_from([w for w in wrong if type(w) is not type(current)]))
    return _make(target, "wrong_type", set_at(base, path, value) if path[0] != "kind" else {**base, "kind": value},
                 path, f"{path_str(path)} = {value!r}")


def _as_number(text: str) -> Any:
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return 0


def huge_strings(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Names and ids far beyond their limits (up to 100,000 characters)."""
    i = _line(draw, base)
    path = draw(st.sampled_from((("buyer", "name"), ("lines", i, "name"), (ID_KEYS[target],))))
    size = draw(st.sampled_from((1_000, 10_000, 100_000)))
    value = draw(st.sampled_from(("A", "名", "𠀀"))) * size
    return _make(target, "huge_string", set_at(base, path, value), path, f"{path_str(path)} of {size} characters")


def odd_unicode(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Zero-width and RTL characters in codes and numbers, full-width letters in ids, lone surrogates."""
    i = _line(draw, base)
    choice = draw(st.sampled_from(("tax_code", "tax_id", "number", "id", "surrogate")))
    mark = draw(st.sampled_from(ZERO_WIDTH_AND_RTL))
    if choice == "tax_code":
        code: str = get_at(base, ("lines", i, "tax_code"))
        at = draw(st.integers(0, 19))
        path: Path = ("lines", i, "tax_code")
        value = code[:at] + mark + code[at:]
    elif choice == "tax_id":
        code = draw(credit_codes())
        at = draw(st.integers(0, 17))
        path, value = ("buyer", "tax_id"), code[:at] + chr(ord(code[at]) + 0xFEE0) + code[at + 1:]
    elif choice == "number":
        key = "quantity" if target == "sut" else draw(st.sampled_from(("quantity", "amount", "tax_rate")))
        path = ("lines", i, key)
        value = mark + str(get_at(base, path))
    elif choice == "id":
        path = (ID_KEYS[target],) if target == "sut" else ("request_id",)
        value = draw(st.sampled_from(("ORDER\u200b1", "ＯＲＤＥＲ１", "\u202eORDER1", "ORDER1\ufeff")))
    else:
        path, value = ("buyer", "name"), "示例" + draw(st.sampled_from(("\ud800", "\udfff", "\udc80")))
    return _make(target, "odd_unicode", set_at(base, path, value), path, f"{path_str(path)} = {value!r}")


def fullwidth_digits(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Full-width digits (０-９) where ASCII digits are meant: a tax code, a quantity, a rate.

    Not a default family: Python's ``\\d`` matches them, and the reference bureau and SUT
    currently accept them (see docs/malformed.md)."""
    i = _line(draw, base)
    key = draw(st.sampled_from(("tax_code", "quantity", "tax_rate")))
    path: Path = ("lines", i, key)
    value = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in str(get_at(base, path)))
    return _make(target, "fullwidth_digits", set_at(base, path, value), path, f"{path_str(path)} = {value!r}")


def duplicate_keys(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A key written twice, the first value valid, the last (the one that counts) broken."""
    i = _line(draw, base)
    options: list[tuple[Path, str, Any]] = [
        (("lines", i), "tax_rate", "0.17"),
        (("lines", i), "tax_code", "12345"),
        (("lines", i), "quantity", "0"),
        (("buyer",), "name", ""),
        ((), "lines", []),
    ]
    parent, key, bad = draw(st.sampled_from(options))
    node = get_at(base, parent)
    pairs = Pairs(tuple(node.items()) + ((key, bad),))
    doc: Any = pairs if parent == () else set_at(base, parent, pairs)
    return _make(target, "duplicate_keys", doc, (*parent, key), f"{path_str((*parent, key))} repeated, last = {bad!r}")

"""Malformed input, one family per input rule, as Hypothesis strategies.

``malformed_examples(target="sut")`` draws a valid order (or, for ``"bureau"``, a valid invoice)
and breaks one rule of one family; every example says which field a conforming receiver names.
``FAMILIES`` lists every family, the targets it applies to and whether it runs by default.

Families that are not run by default find behaviour the reference services currently show and
that CONTRACT §1 does not settle beyond doubt (full-width digits, UTF-16 bodies, nesting bombs);
``invoice-chaos fuzz --families all`` runs them. See docs/malformed.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from fakes.bureau.rules import DEFAULT_RATES
from fakes.bureau.samples import SELLER_TAX_ID
from harness.data import bodies, families
from harness.data.invoices import SELLER_NAME, invoice_from_order, orders
from harness.data.record import TARGETS, Malformed, Target

__all__ = ["DEFAULT_FAMILIES", "FAMILIES", "Family", "Malformed", "family_names", "malformed_examples"]

Build = Callable[[st.DrawFn, Target, dict[str, Any]], Malformed]


@dataclass(frozen=True)
class Family:
    name: str
    build: Build
    targets: tuple[Target, ...] = TARGETS
    default: bool = True

    @property
    def doc(self) -> str:
        return (self.build.__doc__ or "").strip().splitlines()[0]


_BUREAU: tuple[Target, ...] = ("bureau",)
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("check_character", families.check_characters),
    Family("wrong_length", families.wrong_lengths),
    Family("illegal_characters", families.illegal_characters),
    Family("beyond_tolerance", families.beyond_tolerances, _BUREAU),
    Family("unknown_rate", families.unknown_rates),
    Family("bad_quantity", families.bad_quantities),
    Family("too_many_lines", families.too_many_lines),
    Family("missing_field", families.missing_fields),
    Family("null_field", families.null_fields),
    Family("extra_fields", families.extra_fields, _BUREAU),
    Family("wrong_type", families.wrong_types),
    Family("deep_nesting", bodies.deep_nesting),
    Family("huge_string", families.huge_strings),
    Family("odd_unicode", families.odd_unicode),
    Family("duplicate_keys", families.duplicate_keys),
    Family("not_json", bodies.not_json),
    Family("not_utf8", bodies.not_utf8),
    Family("oversized_body", bodies.oversized_bodies, _BUREAU),
    Family("fullwidth_digits", families.fullwidth_digits),
    Family("utf16_body", bodies.utf16_bodies),
    Family("nesting_bomb", bodies.nesting_bombs),
)}
DEFAULT_FAMILIES: tuple[str, ...] = tuple(n for n, f in FAMILIES.items() if f.default)


def family_names(target: Target, names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The families to run against ``target``: ``names`` (or the defaults; ``["all"]`` for every
    family), keeping those that apply to the target. Unknown names raise ``ValueError``."""
    if names is None:
        wanted: Sequence[str] = DEFAULT_FAMILIES
    elif list(names) == ["all"]:
        wanted = tuple(FAMILIES)
    else:
        wanted = names
    unknown = [n for n in wanted if n not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown malformed famil{'y' if len(unknown) == 1 else 'ies'} {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(FAMILIES)} (or 'all')")
    return tuple(n for n in wanted if target in FAMILIES[n].targets)


@st.composite
def malformed_examples(draw: st.DrawFn, *, target: Target = "sut", families: Sequence[str] | None = None,
                       rates: tuple[str, ...] = DEFAULT_RATES, seller_tax_id: str = SELLER_TAX_ID,
                       seller_name: str = SELLER_NAME) -> Malformed:
    """One malformed request body for ``target`` from one of ``families`` (default: all defaults)."""
    names = family_names(target, families)
    if not names:
        raise ValueError(f"none of the families {list(families or [])} applies to target {target!r}")
    name = draw(st.sampled_from(names))
    order = draw(orders(rates=rates, max_lines=3))
    base = order if target == "sut" else invoice_from_order(order, seller_tax_id=seller_tax_id, seller_name=seller_name)
    return FAMILIES[name].build(draw, target, base)

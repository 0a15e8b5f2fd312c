"""Drawing a fixed, seeded batch of malformed examples outside a test.

Hypothesis draws only inside a ``@given`` test, so ``draw_examples`` wraps one: generation
phase only (no database, no shrinking), ``@seed`` fixed, so the same arguments always give the
same batch. Families are drawn one at a time and interleaved, so every family is represented
even in a small batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, Phase, given, seed, settings

from fakes.bureau.rules import DEFAULT_RATES
from fakes.bureau.samples import SELLER_TAX_ID
from harness.data.invoices import SELLER_NAME
from harness.data.malformed import family_names, malformed_examples
from harness.data.record import Malformed, Target


def _draw(target: Target, family: str, count: int, seed_value: int, rates: tuple[str, ...],
          seller: tuple[str, str]) -> list[Malformed]:
    out: list[Malformed] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(malformed_examples(target=target, families=[family], rates=rates, seller_tax_id=seller[0],
                              seller_name=seller[1]))
    def collect(example: Malformed) -> None:
        out.append(example)

    collect()
    return out[:count]


def draw_examples(target: Target, *, count: int, seed_value: int, families: Sequence[str] | None = None,
                  rates: tuple[str, ...] = DEFAULT_RATES,
                  seller: tuple[str, str] = (SELLER_TAX_ID, SELLER_NAME)) -> list[Malformed]:
    """``count`` examples for ``target``, interleaved over ``families`` (default: the defaults)."""
    names = family_names(target, families)
    if not names or count <= 0:
        return []
    per_family = -(-count // len(names))
    batches = [_draw(target, name, per_family, seed_value + i, rates, seller) for i, name in enumerate(names)]
    mixed: list[Malformed] = []
    for i in range(per_family):
        mixed.extend(batch[i] for batch in batches if i < len(batch))
    return mixed[:count]

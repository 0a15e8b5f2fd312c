"""When faults fire: the scenario's explicit list, plus an optional seeded random schedule.

The random schedule draws fault windows one after another between ``start_s`` and ``end_s``:
a gap drawn from an exponential distribution (mean ``mean_interval_s``), then a fault picked
from the weighted ``mix`` with a duration drawn uniformly from ``duration_s``. Windows never
overlap, so each fault's recovery is measured on its own. The same seed gives the same schedule.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.faults.base import FaultSpec


@dataclass(frozen=True)
class MixEntry:
    family: str
    kind: str
    target: str
    params: Mapping[str, Any]
    weight: float


def random_schedule(
    mix: Sequence[MixEntry],
    *,
    seed: int,
    start_s: float,
    end_s: float,
    mean_interval_s: float,
    duration_s: tuple[float, float],
    scale: float = 1.0,
) -> list[FaultSpec]:
    """Seeded, non-overlapping fault windows (times already multiplied by ``scale``)."""
    rng = random.Random(f"invoice-chaos-faults-{seed}")
    weights = [m.weight for m in mix]
    specs: list[FaultSpec] = []
    t = start_s
    while True:
        t += rng.expovariate(1.0 / mean_interval_s)
        length = rng.uniform(*duration_s)
        if t + length > end_s:
            break
        entry = rng.choices(mix, weights=weights)[0]
        specs.append(FaultSpec(
            id=f"r{len(specs) + 1}", family=entry.family, kind=entry.kind, target=entry.target,
            start_s=round(t * scale, 3), duration_s=round(length * scale, 3), params=dict(entry.params),
        ))
        t += length
    return specs

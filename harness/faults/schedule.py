"""When faults fire: the scenario's explicit list, plus an optional seeded random schedule.

The random schedule draws fault windows one after another between ``start_s`` and ``end_s``:
a gap drawn from an exponential distribution (mean ``mean_interval_s``), then a fault picked
from the weighted ``mix`` with a duration drawn uniformly from ``duration_s``, and each
parameter given as a range drawn too (``{range: [lo, hi]}``: an integer when both bounds are,
else a number; ``{choice: [a, b, ...]}``: one of them). Windows of one lane never overlap, so
each fault's recovery is measured on its own; ``lanes: N`` draws N such lanes, independently,
for faults at the same time. The same seed gives the same schedule.
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


def is_range(value: Any) -> bool:
    return isinstance(value, dict) and set(value) in ({"range"}, {"choice"})


def draw_params(params: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """Concrete parameters: each range or choice drawn, everything else as given."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, dict) and "range" in value:
            lo, hi = value["range"]
            out[name] = rng.randint(lo, hi) if isinstance(lo, int) and isinstance(hi, int) else round(rng.uniform(lo, hi), 3)
        elif isinstance(value, dict) and "choice" in value:
            out[name] = rng.choice(list(value["choice"]))
        else:
            out[name] = value
    return out


def bounds(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The concrete parameter sets at the edges of every range (for checking a mix offline)."""
    lows, highs = {}, {}
    choices: list[dict[str, Any]] = []
    for name, value in params.items():
        if isinstance(value, dict) and "range" in value:
            lows[name], highs[name] = value["range"][0], value["range"][1]
        elif isinstance(value, dict) and "choice" in value:
            lows[name] = highs[name] = value["choice"][0]
            choices += [{name: c} for c in value["choice"][1:]]
        else:
            lows[name] = highs[name] = value
    return [lows, highs, *({**lows, **c} for c in choices)]


def random_schedule(
    mix: Sequence[MixEntry],
    *,
    seed: int,
    start_s: float,
    end_s: float,
    mean_interval_s: float,
    duration_s: tuple[float, float],
    scale: float = 1.0,
    lanes: int = 1,
) -> list[FaultSpec]:
    """Seeded fault windows (times already multiplied by ``scale``); non-overlapping per lane."""
    specs: list[FaultSpec] = []
    weights = [m.weight for m in mix]
    for lane in range(lanes):
        # Lane 0 keeps the stream it always had, so a one-lane schedule is unchanged.
        rng = random.Random(f"invoice-chaos-faults-{seed}" + (f"-lane{lane}" if lane else ""))
        t = start_s
        while True:
            t += rng.expovariate(1.0 / mean_interval_s)
            length = rng.uniform(*duration_s)
            if t + length > end_s:
                break
            entry = rng.choices(mix, weights=weights)[0]
            params = draw_params(entry.params, rng) if any(is_range(v) for v in entry.params.values()) \
                else dict(entry.params)
            specs.append(FaultSpec(
                id=f"r{len(specs) + 1}", family=entry.family, kind=entry.kind, target=entry.target,
                start_s=round(t * scale, 3), duration_s=round(length * scale, 3), params=params,
            ))
            t += length
    specs.sort(key=lambda s: s.start_s)
    return [FaultSpec(f"r{i}", s.family, s.kind, s.target, s.start_s, s.duration_s, s.params)
            for i, s in enumerate(specs, 1)]

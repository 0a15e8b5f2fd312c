"""The slicer's cutting rule (§8.6), without sockets."""

from __future__ import annotations

import random

from harness.proxy.toxics.slicer import split_points


def test_480kb_at_1024_pm_512() -> None:
    rng = random.Random(1)
    total = 0
    for _ in range(15):                          # 15 reads of 32 KiB ≈ 480 KB
        ends = split_points(32768, 1024, 512, rng)
        sizes = [b - a for a, b in zip([0, *ends], ends)]
        assert sum(sizes) == 32768 and all(0 < s <= 1536 for s in sizes)
        total += len(ends)
    assert 240 <= total <= 720


def test_single_bytes_and_safe_large_variation() -> None:
    assert split_points(24, 1, 0, random.Random(0)) == list(range(1, 25))
    ends = split_points(1000, 4, 50, random.Random(3))     # variation > average: clamped
    assert ends[-1] == 1000 and all(b > a for a, b in zip([0, *ends], ends))

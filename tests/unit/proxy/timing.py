"""Timing assertions that stay honest on a loaded machine.

A toxic must never deliver early, so the lower bound is checked on every attempt. The upper
bound only suffers from scheduling noise, so a late measurement is retried (up to five
attempts) and the test passes if one attempt lands inside the tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

TOL = 0.015


def assert_timed(measure: Callable[[], float], low: float, high: float, attempts: int = 5) -> float:
    """Run ``measure`` (returns seconds) until it lands in [low, high]; fail at once if early."""
    seen = []
    for _ in range(attempts):
        value = measure()
        seen.append(round(value, 4))
        assert value >= low, f"delivered early: {value:.4f} s < {low:.4f} s"
        if value <= high:
            return value
    raise AssertionError(f"late on every attempt: {seen} > {high:.4f} s")

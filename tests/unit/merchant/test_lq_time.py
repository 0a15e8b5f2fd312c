"""Bureau time as the merchant estimates it, and the 开票日期 format (fakes.merchant.lq_time)."""

from __future__ import annotations

import pytest

from fakes.bureau.clock import parse_rfc3339
from fakes.merchant.lq_time import BureauTime, cst_year, kprq


class Mono:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_unknown_until_observed_then_extrapolated_at_rate_one() -> None:
    mono = Mono()
    clock = BureauTime(mono)
    assert clock.now() is None and clock.age() == float("inf")
    clock.observe("2026-12-31T23:59:58+08:00")
    mono.t += 3.5
    assert clock.now() == parse_rfc3339("2026-12-31T23:59:58+08:00") + 3.5
    assert clock.age() == 3.5
    assert kprq(clock.now() or 0) == "2027-01-01 00:00:01"


def test_a_later_observation_replaces_the_estimate_also_after_a_jump() -> None:
    mono = Mono()
    clock = BureauTime(mono)
    clock.observe("2026-06-01T10:00:00+08:00")
    mono.t += 1
    clock.observe("2026-06-03T11:00:00+08:00")  # a 49 h clock jump at the bureau
    assert kprq(clock.now() or 0) == "2026-06-03 11:00:00"


@pytest.mark.parametrize("junk", [None, "", "yesterday", "2026-06-01 10:00:00", "2026-06-01T10:00:00"])
def test_unreadable_stamps_are_ignored(junk: str | None) -> None:
    clock = BureauTime(Mono())
    clock.observe("2026-06-01T10:00:00+08:00")
    clock.observe(junk)
    assert kprq(clock.now() or 0) == "2026-06-01 10:00:00"


def test_stale_forces_a_refresh_but_keeps_the_value() -> None:
    clock = BureauTime(Mono())
    clock.observe("2026-06-01T10:00:00+08:00")
    clock.stale()
    assert clock.age() == float("inf") and kprq(clock.now() or 0) == "2026-06-01 10:00:00"
    clock.observe("2026-06-01T10:00:05+08:00")
    assert clock.age() == 0


@pytest.mark.parametrize(("stamp", "text", "year"), [
    ("2026-12-31T15:59:59Z", "2026-12-31 23:59:59", 2026),
    ("2026-12-31T16:00:00Z", "2027-01-01 00:00:00", 2027),
    ("2026-03-01T00:00:00.900+08:00", "2026-03-01 00:00:00", 2026),
])
def test_kprq_is_china_standard_time_to_the_second(stamp: str, text: str, year: int) -> None:
    at = parse_rfc3339(stamp)
    assert (kprq(at), cst_year(at)) == (text, year)

"""Recovery figures on synthetic timelines with known answers."""

from __future__ import annotations

from harness.checks.recovery import drain_time, time_to_detect, time_to_recover

T0 = 1_000_000.0


def commits(rate_by_second: dict[int, int], start: float = T0) -> list[float]:
    out = []
    for s, n in rate_by_second.items():
        out += [start + s + (i + 0.5) / n for i in range(n)] if n else []
    return sorted(out)


def test_recover_after_outage():
    # 10/s for 10 s, outage 10..15 (0/s), back at 10/s from 17
    rates = {s: 10 for s in range(10)} | {s: 0 for s in range(10, 17)} | {s: 10 for s in range(17, 30)}
    t = time_to_recover(T0 + 10, T0 + 15, commits(rates), T0, T0 + 30)
    assert t == 2.0


def test_recover_requires_three_seconds():
    rates = {s: 10 for s in range(10)} | {10: 0, 11: 10, 12: 0, 13: 10, 14: 10, 15: 10} | {s: 10 for s in range(16, 20)}
    assert time_to_recover(T0 + 10, T0 + 10, commits(rates), T0, T0 + 20) == 3.0


def test_never_recovers_is_none():
    rates = {s: 10 for s in range(10)} | {s: 5 for s in range(10, 30)}
    assert time_to_recover(T0 + 10, T0 + 12, commits(rates), T0, T0 + 30) is None


def test_zero_prefault_rate_recovers_at_once():
    rates = {s: 0 for s in range(5)} | {s: 3 for s in range(5, 20)}
    assert time_to_recover(T0 + 5, T0 + 8, commits(rates), T0, T0 + 20) == 0.0


def test_fault_at_start_uses_post_window_median():
    rates = {0: 0, 1: 0, 2: 10, 3: 10, 4: 10, 5: 10, 6: 10, 7: 10, 8: 10, 9: 10}
    assert time_to_recover(T0, T0 + 0.0, commits(rates), T0, T0 + 10) == 2.0


def test_unreverted_fault_has_no_recovery():
    assert time_to_recover(T0 + 1, None, commits({0: 5}), T0, T0 + 10) is None


def test_detect_first_non_201_after_apply():
    ops = [
        {"invoke_at": T0 + 1, "complete_at": T0 + 1.1, "http_status": 503},   # before the fault
        {"invoke_at": T0 + 5.2, "complete_at": T0 + 5.3, "http_status": 201},
        {"invoke_at": T0 + 5.5, "complete_at": T0 + 8.0, "http_status": None},  # timeout: known at 8.0
        {"invoke_at": T0 + 6.0, "complete_at": T0 + 6.1, "http_status": 202},
    ]
    assert time_to_detect(T0 + 5, ops) == 3.0


def test_detect_none_when_every_answer_is_201():
    assert time_to_detect(T0, [{"invoke_at": T0 + 1, "complete_at": T0 + 2, "http_status": 201}]) is None


def test_drain_first_probe_with_nothing_pending():
    probes = [{"at": T0 + 4, "sut_pending": 0}, {"at": T0 + 6, "sut_pending": 9}, {"at": T0 + 7, "sut_pending": None},
              {"at": T0 + 9, "sut_pending": 0}]
    assert drain_time(T0 + 5, probes) == 4.0
    assert drain_time(T0 + 10, probes) is None

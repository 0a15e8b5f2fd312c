from __future__ import annotations

import random

from fakes.merchant.bureau_client import classify
from fakes.merchant.resilience import AttemptTimeout, Backoff, CircuitBreaker


def test_backoff_full_jitter_is_capped() -> None:
    rng = random.Random(1)
    b = Backoff(base_s=0.1, cap_s=2.0)
    for attempt in range(40):
        d = b.delay(attempt, rng)
        assert 0.0 <= d <= min(2.0, 0.1 * 2**attempt)


def test_backoff_honours_retry_after() -> None:
    rng = random.Random(1)
    assert all(Backoff().delay(0, rng, retry_after_s=3.0) >= 3.0 for _ in range(50))


def test_attempt_timeout_grows_to_its_cap() -> None:
    t = AttemptTimeout(first_s=2.0, factor=2.0, cap_s=10.0)
    assert [t(n) for n in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_probes_and_closes() -> None:
    clock = Clock()
    cb = CircuitBreaker(threshold=3, cooldown_s=1.0, max_cooldown_s=4.0, clock=clock)
    for _ in range(2):
        cb.failure()
    assert cb.before_attempt() == 0.0 and not cb.is_open
    cb.failure()
    assert cb.is_open and cb.before_attempt() == 1.0
    clock.now = 1.0
    assert cb.before_attempt() == 0.0          # the probe
    assert cb.before_attempt() > 0.0           # others wait while it is out
    cb.failure()                                # probe failed: reopen, doubled cooldown
    assert cb.before_attempt() == 2.0
    clock.now = 3.0
    assert cb.before_attempt() == 0.0
    cb.success()
    assert not cb.is_open and cb.before_attempt() == 0.0


def test_breaker_probe_slot_expires() -> None:
    clock = Clock()
    cb = CircuitBreaker(threshold=1, cooldown_s=1.0, clock=clock)
    cb.failure()
    clock.now = 1.0
    assert cb.before_attempt() == 0.0
    clock.now = 10.0                            # the probe never reported back
    assert cb.before_attempt() == 0.0


def test_classify_answers() -> None:
    ok = classify(201, b'{"invoice_number": "26110000000000000001"}', None)
    assert ok.kind == "issued" and ok.invoice_number == "26110000000000000001"
    assert classify(201, b'{"invoice_nu', None).kind == "unknown"          # truncated after commit
    assert classify(200, b"<html>", None).kind == "unknown"
    assert classify(504, b'{"error": {"code": "X"}}', None).kind == "unknown"
    assert classify(502, b"", None).kind == "unknown"
    limited = classify(429, b'{"error": {"code": "RATE_LIMITED"}}', "2")
    assert limited.kind == "throttled" and limited.retry_after == 2.0
    assert classify(503, b'{"error": {"code": "MAINTENANCE"}}', "60").kind == "throttled"
    dup = classify(409, b'{"error": {"code": "DUPLICATE_REQUEST", "invoice_number": null}}', None)
    assert dup.kind == "duplicate" and dup.invoice_number is None
    assert classify(422, b'{"error": {"code": "VALIDATION_FAILED"}}', None).kind == "rejected"
    assert classify(422, b"garbage", None).kind == "unknown"


def test_only_a_validation_refusal_lets_an_order_fail() -> None:
    """CONTRACT §5.7: any other refusal says nothing about the order (else it is dropped)."""
    for code, status in (("AUTH_EXPIRED", 401), ("QUOTA_EXCEEDED", 403), ("MONTH_CLOSED", 422)):
        assert classify(status, f'{{"error": {{"code": "{code}"}}}}'.encode(), None).kind == "throttled", code
    assert classify(400, b'{"error": {"code": "MALFORMED_REQUEST"}}', None).kind == "unknown"
    assert classify(404, b'{"error": {"code": "NOT_FOUND"}}', None).kind == "unknown"

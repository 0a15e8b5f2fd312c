"""When figures cannot be trusted: literal load records and probes."""

from __future__ import annotations

from harness.checks.honesty import compromised_reasons, load_did_not_run, load_lag, load_shortfall, saturation
from harness.load.shapes import LoadConfig

OPEN = LoadConfig.model_validate({"model": "open", "shape": {"type": "steady", "target": 10, "duration_s": 20}})
CLOSED = LoadConfig.model_validate({"model": "closed", "shape": {"type": "steady", "target": 10, "duration_s": 20}})


def ops(n: int, kind: str = "issue") -> list[dict]:
    return [{"kind": kind}] * n


def test_shortfall_beyond_ten_percent_only():
    assert load_shortfall(OPEN, ops(181)) == []
    (reason,) = load_shortfall(OPEN, ops(179))
    assert "179 orders sent of 200 declared" in reason
    assert load_shortfall(OPEN, ops(150) + ops(100, "malformed"))  # malformed orders do not count
    assert load_shortfall(CLOSED, ops(1)) == []  # a closed model declares users, not orders


def test_lag_share():
    assert load_lag(OPEN, {"open_model_lag_s": 2}) == []
    assert "lagged behind its schedule for 3 of 20 s" in load_lag(OPEN, {"open_model_lag_s": 3, "max_lag_s": 1.5})[0]
    assert load_lag(OPEN, {}) == []


def test_saturation_uses_the_median():
    assert saturation([{"machine_cpu": 100.0}, {"machine_cpu": 10.0}, {"machine_cpu": 20.0}]) == []
    assert saturation([{"machine_cpu": 99.0}, {"machine_cpu": 96.0}, {"machine_cpu": 5.0}])
    assert saturation([{"machine_cpu": None}, {}]) == []


def test_all_reasons_together():
    reasons = compromised_reasons(OPEN, ops(150), [{"machine_cpu": 100.0}], {"open_model_lag_s": 10})
    assert len(reasons) == 3


def test_a_load_that_did_not_run_is_not_a_soft_doubt():
    """Far behind its shape (under half) or no orders at all: a reason for unknown, not a pass."""
    assert load_shortfall(OPEN, ops(99)) == []
    (reason,) = load_did_not_run(OPEN, ops(99))
    assert "99 orders sent of 200 declared" in reason
    assert load_did_not_run(OPEN, ops(100)) == []
    assert "no orders" in load_did_not_run(CLOSED, [])[0]
    assert load_did_not_run(CLOSED, ops(1)) == []

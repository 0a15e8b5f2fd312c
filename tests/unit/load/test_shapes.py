"""Load shapes: validation, time scaling, values over time, and the open-model arrival clock."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.load.shapes import (
    ArrivalClock,
    LoadConfig,
    cumulative,
    locust_tick,
    peak_target,
    target_at,
    total_duration,
)


def cfg(**shape: object) -> LoadConfig:
    return LoadConfig.model_validate({"shape": shape})


def test_defaults_match_the_contract() -> None:
    c = cfg(type="steady", target=20, duration_s=20)
    assert (c.model, c.timeout_s, c.workers) == ("open", 10.0, 0)


@pytest.mark.parametrize(
    ("shape", "t", "expected"),
    [
        ({"type": "steady", "target": 20, "duration_s": 20}, 0.0, 20.0),
        ({"type": "steady", "target": 20, "duration_s": 20}, 19.99, 20.0),
        ({"type": "steady", "target": 20, "duration_s": 20}, 20.0, None),
        ({"type": "ramp", "start": 10, "end": 30, "duration_s": 10}, 5.0, 20.0),
        ({"type": "step", "levels": [5, 10, 15], "step_s": 4}, 4.0, 10.0),
        ({"type": "step", "levels": [5, 10, 15], "step_s": 4}, 11.9, 15.0),
        ({"type": "spike", "base": 10, "factor": 5, "at_s": 10, "spike_s": 5, "duration_s": 30}, 9.9, 10.0),
        ({"type": "spike", "base": 10, "factor": 5, "at_s": 10, "spike_s": 5, "duration_s": 30}, 12.0, 50.0),
        ({"type": "spike", "base": 10, "factor": 5, "at_s": 10, "spike_s": 5, "duration_s": 30}, 15.0, 10.0),
        ({"type": "soak", "target": 40, "ramp_up_s": 10, "duration_s": 600}, 5.0, 20.0),
        ({"type": "soak", "target": 40, "ramp_up_s": 10, "duration_s": 600}, 300.0, 40.0),
    ],
)
def test_target_at(shape: dict[str, object], t: float, expected: float | None) -> None:
    value = target_at(cfg(**shape).shape, t)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


def test_durations_and_integral() -> None:
    spike = cfg(type="spike", base=10, factor=5, at_s=10, spike_s=5, duration_s=30).shape
    assert total_duration(spike) == 30
    assert peak_target(spike) == 50
    assert cumulative(spike, 30) == pytest.approx(10 * 25 + 50 * 5)
    ramp = cfg(type="ramp", start=0, end=20, duration_s=10).shape
    assert cumulative(ramp, 10) == pytest.approx(100)
    assert cumulative(ramp, 5) == pytest.approx(25)


def test_scaled_stretches_durations_not_rates_or_timeouts() -> None:
    c = LoadConfig.model_validate(
        {"shape": {"type": "spike", "base": 10, "factor": 3, "at_s": 10, "spike_s": 4, "duration_s": 20}, "timeout_s": 5}
    )
    s = c.scaled(0.5)
    assert (s.shape.at_s, s.shape.spike_s, s.shape.duration_s, s.shape.base) == (5, 2, 10, 10)  # type: ignore[union-attr]
    assert s.timeout_s == 5 and c.shape.duration_s == 20  # type: ignore[union-attr]
    assert cfg(type="step", levels=[1, 2], step_s=10).scaled(2).shape.step_s == 20  # type: ignore[union-attr]
    assert cfg(type="soak", target=1, ramp_up_s=10, duration_s=100).scaled(0.1).shape.ramp_up_s == pytest.approx(1)  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="positive"):
        c.scaled(0)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"shape": {"type": "zigzag", "target": 1, "duration_s": 1}}, "zigzag"),
        ({"shape": {"type": "steady", "target": -1, "duration_s": 1}}, "shape.steady.target"),
        ({"shape": {"type": "spike", "base": 1, "factor": 2, "at_s": 8, "spike_s": 5, "duration_s": 10}}, "must end within"),
        ({"shape": {"type": "steady", "target": 1, "duration_s": 1}, "model": "half-open"}, "model"),
        ({"shape": {"type": "steady", "target": 1, "duration_s": 1}, "wrokers": 2}, "wrokers"),
    ],
)
def test_validation_errors_name_the_field(data: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        LoadConfig.model_validate(data)
    assert needle in str(err.value)


def test_config_is_frozen() -> None:
    c = cfg(type="steady", target=1, duration_s=1)
    with pytest.raises(ValidationError):
        c.timeout_s = 3  # type: ignore[misc]


def test_locust_tick_closed_and_open() -> None:
    closed = LoadConfig.model_validate({"model": "closed", "shape": {"type": "ramp", "start": 0, "end": 10, "duration_s": 10}})
    assert locust_tick(closed, 5.04)[0] == 5  # type: ignore[index]
    assert locust_tick(closed, 10.0) is None
    opened = LoadConfig.model_validate({"shape": {"type": "ramp", "start": 0, "end": 10, "duration_s": 10}, "workers": 3})
    assert locust_tick(opened, 0.0)[0] == 3  # type: ignore[index]  # one arrival user per worker


def per_second(times: list[float], seconds: int) -> list[int]:
    counts = [0] * seconds
    for t in times:
        counts[int(t)] += 1
    return counts


def test_uniform_clock_matches_spike_exactly_per_second() -> None:
    shape = cfg(type="spike", base=10, factor=4, at_s=3, spike_s=2, duration_s=8).shape
    clock = ArrivalClock(shape)
    times = []
    for _ in range(10_000):
        due = clock.next_due()
        if due is None:
            break
        times.append(due)
    assert times == sorted(times)
    assert per_second(times, 8) == [10, 10, 10, 40, 40, 10, 10, 10]


def test_uniform_clock_follows_a_ramp() -> None:
    shape = cfg(type="ramp", start=0, end=20, duration_s=10).shape
    clock = ArrivalClock(shape)
    times = [t for t in iter(clock.next_due, None)]
    assert len(times) == 100
    counts = per_second(times, 10)
    for second, n in enumerate(counts):
        assert abs(n - (2 * second + 1)) <= 1  # the integral over the second, ±1 for rounding


def test_workers_split_one_schedule() -> None:
    shape = cfg(type="ramp", start=5, end=30, duration_s=6).shape
    whole = list(iter(ArrivalClock(shape).next_due, None))
    parts = [list(iter(ArrivalClock(shape, offset=w, every=3).next_due, None)) for w in range(3)]
    assert sorted(t for p in parts for t in p) == pytest.approx(whole)


def test_poisson_clock_is_seeded_and_has_the_declared_mean() -> None:
    shape = cfg(type="steady", target=200, duration_s=20).shape
    a = list(iter(ArrivalClock(shape, poisson=True, seed=3).next_due, None))
    b = list(iter(ArrivalClock(shape, poisson=True, seed=3).next_due, None))
    assert a == b
    assert abs(len(a) - 4000) < 4 * 4000**0.5  # four standard deviations


def test_driver_refuses_a_prefix_that_breaks_order_ids(tmp_path: object) -> None:
    from pathlib import Path

    from harness.errors import InputError
    from harness.load.driver import LoadDriver

    config = cfg(type="steady", target=1, duration_s=1)
    with pytest.raises(InputError, match="order_prefix"):
        LoadDriver(config, "http://127.0.0.1:1", Path(str(tmp_path)), 1, "has space", Path(str(tmp_path)) / "l.log")
    LoadDriver(config, "http://127.0.0.1:1", Path(str(tmp_path)), 1, "run-2026_01", Path(str(tmp_path)) / "l.log")
    with pytest.raises(InputError, match="target_url"):
        LoadDriver(config, "127.0.0.1:8080", Path(str(tmp_path)), 1, "r1", Path(str(tmp_path)) / "l.log")

"""Real Locust runs, compressed to seconds, whose recorded rate per second matches the shape.

Tolerance, stated once: in the open model each whole second holds the shape's integral over
that second within ±2 arrivals or ±10%, whichever is larger (the schedule is exact; the margin
absorbs send jitter at second boundaries on a busy, shared 2-core machine), and the run as a
whole sends exactly the arrivals the shape declares. Closed-model seconds right after a change of users are not checked
(Locust applies the shape once a second); the others are within 25% of users / think time.
"""

from __future__ import annotations

import os
import signal
import time
import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.history import read_operations
from harness.load.driver import LoadDriver
from harness.load.shapes import LoadConfig, cumulative
from tests.integration.load.conftest import run_load

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SHAPES = {
    "spike": {"type": "spike", "base": 10, "factor": 4, "at_s": 2, "spike_s": 2, "duration_s": 6},
    "ramp": {"type": "ramp", "start": 5, "end": 45, "duration_s": 5},
    "soak": {"type": "soak", "target": 30, "ramp_up_s": 2, "duration_s": 6},
    "step": {"type": "step", "levels": [10, 30, 20], "step_s": 1.5},
}


def matches(got: list[int], want: list[float]) -> bool:
    """Per second within ±2 or ±10%, and the same total."""
    per_second = all(abs(g - w) <= max(2.0, 0.1 * w) for g, w in zip(got, want, strict=True))
    return per_second and abs(sum(got) - sum(want)) < 1


def expected_per_second(load: dict[str, object], seconds: int) -> list[float]:
    shape = LoadConfig.model_validate(load).shape
    return [cumulative(shape, s + 1) - cumulative(shape, s) for s in range(seconds)]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_open_model_rate_follows_the_shape(name: str, fake_sut: Callable[..., str], tmp_path: Path) -> None:
    load = {"model": "open", "shape": SHAPES[name]}
    run = run_load(load, fake_sut(delay_ms=20), tmp_path)
    got = run.per_second()
    want = expected_per_second(load, len(got))
    assert matches(got, want), (got, want)
    assert run.driver.lag_events() == []


def test_open_model_ignores_response_time(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    # 600 ms answers at 25/s: a closed loop of a few users would fall far short.
    run = run_load({"shape": {"type": "steady", "target": 25, "duration_s": 4}}, fake_sut(delay_ms=600), tmp_path)
    assert matches(run.per_second(), [25.0] * 4), run.per_second()
    assert {o["outcome"] for o in run.ops} == {"ok"}  # the tail was awaited, not cut off


def test_open_model_records_when_it_stops_being_open(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    # 4 requests in flight, 1 s answers: at most 4/s go out of the 20/s declared.
    load = {"shape": {"type": "steady", "target": 20, "duration_s": 4}, "max_in_flight": 4, "timeout_s": 3}
    run = run_load(load, fake_sut(delay_ms=1000), tmp_path)
    lag = run.driver.lag_events()
    assert lag, "the lag must be recorded"
    assert all(e["cap"] == 4 and e["late"] > 0 for e in lag)
    assert sum(run.per_second()) < 40
    assert "open model fell behind" in run.driver.log_path.read_text()
    facts = run.driver.summary()
    assert facts["unsent"] > 0 and facts["sent"] + facts["unsent"] == 80 and facts["max_lag_s"] > 0.5


def test_closed_model_spike_follows_users(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    shape = {"type": "spike", "base": 4, "factor": 3, "at_s": 2, "spike_s": 3, "duration_s": 7}
    run = run_load({"model": "closed", "think_time_s": 0.5, "shape": shape}, fake_sut(), tmp_path)
    got = run.per_second()
    steady_seconds = {1: 8, 3: 24, 4: 24, 6: 8}  # users / 0.5 s; seconds 0, 2 and 5 change users
    for second, rate in steady_seconds.items():
        assert abs(got[second] - rate) <= 0.25 * rate + 1, (second, got)


def test_distributed_two_local_workers(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    load = {"model": "open", "workers": 2, "shape": SHAPES["spike"]}
    run = run_load(load, fake_sut(), tmp_path)
    assert run.exit_code == 0
    files = sorted(p.name for p in tmp_path.glob("operations*.jsonl"))
    assert files == ["operations-w0.jsonl", "operations-w1.jsonl"]
    got = run.per_second()
    want = expected_per_second(load, len(got))
    assert matches(got, want), (got, want)
    assert {o["worker"] for o in run.ops} == {"w0", "w1"}
    assert len({o["order_id"] for o in run.ops}) == len(run.ops) == round(sum(want))


def test_a_killed_locust_leaves_every_request_it_sent(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    url = fake_sut(delay_ms=200)  # about 10 requests in flight at any moment: some are cut by the kill
    config = LoadConfig.model_validate({"shape": {"type": "steady", "target": 50, "duration_s": 20}})

    async def go() -> float:
        driver = LoadDriver(config, url, tmp_path, 1, "k", tmp_path / "load.log")
        try:
            await driver.start()
            await asyncio.sleep(3.3)
            killed_at = time.time()
            assert driver.pgid is not None
            os.killpg(driver.pgid, signal.SIGKILL)
            return killed_at
        finally:
            await driver.stop()

    killed_at = asyncio.run(go())
    ops = read_operations(tmp_path)  # tolerates a torn last line
    assert ops, "nothing was recorded"
    last = max(o["invoke_at"] for o in ops)
    # Invoke records reach the kernel before each request: a SIGKILL loses none of them.
    assert last >= killed_at - 0.2, f"lost {killed_at - last:.2f} s of history"
    unfinished = [o for o in ops if o["error"] == "unfinished"]
    assert unfinished and all(o["outcome"] == "info" and o["order"] for o in unfinished)

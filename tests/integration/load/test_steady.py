"""Steady load, closed and open: the smoke path the run engine depends on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import asyncio
import time

from harness.load.driver import LoadDriver
from harness.load.shapes import LoadConfig
from tests.integration.load.conftest import read_ops, run_load

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.mark.parametrize("model", ["open", "closed"])
def test_steady_rate_and_records(model: str, fake_sut: Callable[..., str], tmp_path: Path) -> None:
    url = fake_sut()
    run = run_load({"model": model, "shape": {"type": "steady", "target": 20, "duration_s": 4}}, url, tmp_path)
    assert run.exit_code == 0
    # Open: the schedule (±2 at second boundaries). Closed: 20 users thinking 1 s, ~1 ms answers.
    assert all(abs(n - 20) <= 2 for n in run.per_second()), run.per_second()
    assert {op["outcome"] for op in run.ops} == {"ok"}
    op = run.ops[0]
    assert op["http_status"] == 201 and op["sut_status"] == "issued" and op["invoice_number"]
    assert op["kind"] == "issue" and op["worker"] == "w0" and op["order"]["order_id"] == op["order_id"]
    assert len({o["order_id"] for o in run.ops}) == len(run.ops)
    assert run.driver.load_start_at is not None and run.driver.load_end_at is not None
    assert 3.5 < run.driver.load_end_at - run.driver.load_start_at < 8


def test_failures_and_indeterminate_outcomes(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    url = fake_sut(status=503)
    run = run_load({"shape": {"type": "steady", "target": 10, "duration_s": 2}}, url, tmp_path / "a")
    assert {(o["outcome"], o["error"], o["http_status"]) for o in run.ops} == {("fail", "http_503", 503)}
    slow = fake_sut(delay_ms=3000)
    run = run_load({"shape": {"type": "steady", "target": 5, "duration_s": 2}, "timeout_s": 0.5}, slow, tmp_path / "b")
    assert {(o["outcome"], o["error"], o["http_status"]) for o in run.ops} == {("info", "timeout", None)}
    dead = "http://127.0.0.1:1"
    run = run_load({"shape": {"type": "steady", "target": 5, "duration_s": 1}}, dead, tmp_path / "c")
    assert {(o["outcome"], o["error"]) for o in run.ops} == {("info", "refused")}


@pytest.mark.parametrize(("model", "workers"), [("open", 0), ("closed", 0), ("open", 2)])
def test_stop_mid_run_records_requests_in_flight(model: str, workers: int, fake_sut: Callable[..., str], tmp_path: Path) -> None:
    url = fake_sut(delay_ms=4000)
    load = {"model": model, "workers": workers, "think_time_s": 0, "shape": {"type": "steady", "target": 10, "duration_s": 30}}
    config = LoadConfig.model_validate(load)

    async def go() -> LoadDriver:
        driver = LoadDriver(config, url, tmp_path, 1, "s", tmp_path / "load.log")
        try:
            await driver.start()
            await asyncio.sleep(2.0)
        finally:
            began = time.monotonic()
            # The run engine may stop from two places at once: both wait for the same stop.
            await asyncio.gather(driver.stop(grace_s=3.0), driver.stop())
            assert time.monotonic() - began < 6.0
            assert driver.load_end_at is not None
        return driver

    driver = asyncio.run(go())
    ops = read_ops(tmp_path)
    cut = [o for o in ops if o["error"] == "interrupted"]
    assert cut and all(o["outcome"] == "info" and o["complete_at"] is None for o in cut)
    facts = driver.summary()
    assert facts["sent"] == len(ops) and facts["interrupted"] == len(cut)
    assert driver.load_end_at is not None and driver.load_end_at - (driver.load_start_at or 0) < 6.0

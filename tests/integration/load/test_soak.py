"""A real soak (on demand: ``pytest -m soak tests/integration/load``): minutes of open load.

The rate must follow the shape second by second for the whole run (±2 or ±10%, as in the
compressed tests), the open model must never lag, and Locust's memory must not keep growing.
Length: ``INVOICE_CHAOS_SOAK_S`` seconds (default 300).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from harness.load.driver import LoadDriver
from harness.load.shapes import LoadConfig, cumulative
from tests.integration.load.conftest import LoadRun, read_ops

SOAK_S = float(os.environ.get("INVOICE_CHAOS_SOAK_S", "300"))
pytestmark = [pytest.mark.integration, pytest.mark.soak, pytest.mark.timeout(SOAK_S + 180)]


def group_rss(pgid: int) -> int:
    total = 0
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                total += proc.memory_info().rss
        except (psutil.Error, ProcessLookupError):
            continue
    return total


def test_soak_holds_its_rate_and_memory(fake_sut: Callable[..., str], tmp_path: Path) -> None:
    config = LoadConfig.model_validate(
        {"model": "open", "shape": {"type": "soak", "target": 50, "ramp_up_s": 10, "duration_s": SOAK_S}}
    )
    url = fake_sut(delay_ms=5)

    async def go() -> tuple[LoadRun, list[int]]:
        driver = LoadDriver(config, url, tmp_path, 3, "soak", tmp_path / "load.log")
        samples: list[int] = []
        try:
            await driver.start()
            assert driver.pgid is not None
            for fraction in (0.25, 0.9):
                await asyncio.sleep(SOAK_S * fraction - (SOAK_S * 0.25 if fraction == 0.9 else 0))
                samples.append(group_rss(driver.pgid))
            code = await driver.wait()
        finally:
            await driver.stop()
        return LoadRun(driver, code, read_ops(tmp_path)), samples

    run, rss = asyncio.run(go())
    got = run.per_second()
    want = [cumulative(config.shape, s + 1) - cumulative(config.shape, s) for s in range(len(got))]
    bad = [(s, g, w) for s, (g, w) in enumerate(zip(got, want, strict=True)) if abs(g - w) > max(2.0, 0.1 * w)]
    assert not bad, bad[:10]
    assert run.driver.lag_events() == []
    assert {o["outcome"] for o in run.ops} == {"ok"}
    assert rss[1] < rss[0] * 1.5, f"Locust memory grew from {rss[0] >> 20} MiB to {rss[1] >> 20} MiB"

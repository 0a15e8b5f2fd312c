"""Fixtures for load tests: a trivial SUT-like endpoint and a helper to run the driver."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.load.driver import LoadDriver
from harness.load.shapes import LoadConfig
from harness.net import free_port, wait_http_ok

FAKE_SUT = Path(__file__).with_name("fake_sut.py")


@dataclass
class LoadRun:
    driver: LoadDriver
    exit_code: int
    ops: list[dict[str, Any]]

    def per_second(self) -> list[int]:
        """Operations invoked in each whole second after the load start."""
        assert self.driver.load_start_at is not None
        seconds = int(self.driver.duration_s + 0.999)
        counts = [0] * seconds
        for op in self.ops:
            s = int(op["invoke_at"] - self.driver.load_start_at)
            if 0 <= s < seconds:
                counts[s] += 1
        return counts


def read_ops(run_dir: Path) -> list[dict[str, Any]]:
    """The operations as the harness reads them: invoke and completion records joined."""
    from harness.history import read_operations

    return read_operations(run_dir)


@pytest.fixture
def fake_sut() -> Iterator[Callable[..., str]]:
    """``fake_sut(delay_ms=0, status=201)`` starts an endpoint and returns its base URL."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(delay_ms: float = 0.0, status: int = 201) -> str:
        port = free_port()
        procs.append(subprocess.Popen([sys.executable, str(FAKE_SUT), str(port), str(delay_ms), str(status)]))
        url = f"http://127.0.0.1:{port}"
        assert wait_http_ok(f"{url}/health", deadline_s=20), "the fake SUT did not start"
        return url

    yield start
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()


def run_load(load: dict[str, Any], url: str, run_dir: Path, seed: int = 1) -> LoadRun:
    config = LoadConfig.model_validate(load)

    async def go() -> LoadRun:
        driver = LoadDriver(config, url, run_dir, seed, "t", run_dir / "logs" / "load.log")
        try:
            await driver.start()
            code = await driver.wait()
        finally:
            await driver.stop()
        return LoadRun(driver, code, read_ops(run_dir))

    return asyncio.run(go())

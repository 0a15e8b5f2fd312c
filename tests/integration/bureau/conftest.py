"""Start the bureau as a real process on loopback (``python -m fakes.bureau``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.net import free_port, wait_http_ok

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Bureau:
    proc: subprocess.Popen[bytes]
    url: str


StartBureau = Callable[..., Bureau]


@pytest.fixture
def start_bureau(tmp_path: Path) -> Iterator[StartBureau]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str, db: Path | None = None, env: dict[str, str] | None = None) -> Bureau:
        port = free_port()
        cmd = [sys.executable, "-m", "fakes.bureau", "--port", str(port), "--db", str(db or tmp_path / "bureau.db"), *args]
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})},
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        if not wait_http_ok(f"{url}/health", 30):
            proc.kill()
            raise AssertionError(f"bureau did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        return Bureau(proc, url)

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)

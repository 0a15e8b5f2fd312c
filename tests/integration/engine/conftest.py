from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, **kw)


def processes_of(run_dir: Path) -> list[psutil.Process]:
    """Live processes whose command line or environment mentions the run directory."""
    needle = str(run_dir.resolve())
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            text = " ".join(proc.info["cmdline"] or [])
            if needle in text or any(needle in v for v in proc.environ().values()):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def wait_no_processes(run_dir: Path, deadline_s: float = 10.0) -> list[psutil.Process]:
    end = time.monotonic() + deadline_s
    left = processes_of(run_dir)
    while left and time.monotonic() < end:
        time.sleep(0.2)
        left = processes_of(run_dir)
    return left


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    return tmp_path / "run"

"""A harness killed with SIGKILL leaves no container behind on Docker either.

The run's watchdog removes its containers within seconds; when the watchdog was killed too,
the next `cleanup` (or `run`) finds the run stale by its harness labels and removes it, while
a run whose harness still lives is kept.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.docker


def start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, str]:
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "scenarios/smoke.yaml", "--backend", "docker",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ops = out / "operations.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (ops.exists() and ops.stat().st_size > 2000):
        time.sleep(0.2)
    assert ops.exists(), "the load never started"
    return proc, out, json.loads((out / "run.json").read_text())["run_id"]


def wait_gone(objects_of_run: Callable[[str], list[str]], run_id: str, deadline_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if not objects_of_run(run_id):
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"left after {deadline_s} s: {objects_of_run(run_id)}")


def test_the_watchdog_removes_a_killed_harness_containers(tmp_path: Path, objects_of_run: Any) -> None:
    proc, out, run_id = start(tmp_path)
    try:
        names = objects_of_run(run_id)
        assert f"ic-{run_id}-watchdog" in names and f"ic-{run_id}-sut" in names
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        took = wait_gone(objects_of_run, run_id, 10.0)
        print(f"every object of run {run_id} gone {took:.1f} s after the SIGKILL")
    finally:
        if proc.poll() is None:
            proc.kill()
    report = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0 and "UNKNOWN" in (out / "report.md").read_text()


def kill_without_watchdog(tmp_path: Path, client: Any, objects_of_run: Any) -> str:
    proc, _, run_id = start(tmp_path)
    client.containers.get(f"ic-{run_id}-watchdog").kill()   # the lifeline is cut first
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(2)
    assert objects_of_run(run_id), "without its watchdog the killed run's containers stay"
    return run_id


def test_stale_runs_are_removed_by_cleanup_and_by_the_next_run(tmp_path: Path, client: Any, cli: Any,
                                                               objects_of_run: Any) -> None:
    first = kill_without_watchdog(tmp_path / "a", client, objects_of_run)
    dry = cli("cleanup", "--dry-run")
    assert dry.returncode == 0 and first in dry.stdout and "its harness (pid" in dry.stdout, dry.stdout
    assert objects_of_run(first)
    assert cli("cleanup").returncode == 0
    assert objects_of_run(first) == []

    second = kill_without_watchdog(tmp_path / "b", client, objects_of_run)
    live, _, live_id = start(tmp_path / "c")       # the next run on the engine removes it
    try:
        wait_gone(objects_of_run, second, 10.0)
        dry = cli("cleanup", "--dry-run")
        assert dry.returncode == 0 and live_id in dry.stdout and "still runs" in dry.stdout, dry.stdout
        assert objects_of_run(live_id)
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=90)

"""Ctrl-C and a crashing SUT leave no process behind, and still write what was collected."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, processes_of, wait_no_processes

pytestmark = pytest.mark.integration


def test_ctrl_c_cleans_up_and_exits_130(run_dir: Path):
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "scenarios/smoke.yaml", "--out", str(run_dir)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        ops = run_dir / "operations.jsonl"
        while time.monotonic() < deadline and not (ops.exists() and ops.stat().st_size > 2000):
            time.sleep(0.2)
        assert ops.exists(), "the load never started"
        assert processes_of(run_dir), "expected live services during the run"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-3000:]
    assert not wait_no_processes(run_dir), "processes left behind after Ctrl-C"
    run = json.loads((run_dir / "run.json").read_text())
    assert run["interrupted"] is True
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["compromised"] is True
    assert summary["requests"]["total"] > 0
    # Case 2 of the false passes: an interrupted run said "pass" (a jq gate let it through).
    assert summary["verdict"] == "unknown"
    assert "interrupted" in summary["verdict_reasons"][0]
    root = __import__("xml.etree.ElementTree", fromlist=["parse"]).parse(run_dir / "junit.xml").getroot()
    assert any(c.find("error") is not None for c in root.iter("testcase"))


def test_crashing_sut_is_reported_and_cleaned_up(run_dir: Path):
    cmd = f"{sys.executable} {ROOT / 'tests' / 'data' / 'crashing_sut.py'}"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", "scenarios/smoke.yaml", "--out", str(run_dir),
                           "--sut-cmd", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "CRASH_AFTER": "40"})
    assert proc.returncode == 1, proc.stderr[-3000:]
    # The death is the headline, not the phantoms it leaves behind: no verdict can be given.
    assert "verdict: unknown" in proc.stderr and "the SUT died at t = " in proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == "unknown" and summary["compromised"] is True
    assert summary["verdict_reasons"][0].startswith("the SUT died at t = ")
    assert (run_dir / "report.html").exists()
    assert not wait_no_processes(run_dir)

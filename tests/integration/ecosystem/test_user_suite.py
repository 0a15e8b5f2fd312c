"""The README's promise: a user's own pytest suite gains a chaos test in under ten lines.

The example file is copied into an empty folder (no conftest, no ini) and run by a fresh
pytest, which finds the plugin through its entry point alone."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "pytest" / "test_resilience.py"


def test_the_example_passes_in_a_bare_user_suite(tmp_path: Path) -> None:
    suite = tmp_path / "user-suite"
    suite.mkdir()
    shutil.copy(EXAMPLE, suite / "test_resilience.py")
    out = tmp_path / "chaos-runs"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "chaos",
                           "--chaos-out", str(out), "--junitxml", str(tmp_path / "junit.xml")],
                          cwd=suite, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
    summaries = list(out.glob("*/run-1/summary.json"))
    assert len(summaries) == 1, list(out.rglob("*"))
    assert json.loads(summaries[0].read_text(encoding="utf-8"))["verdict"] == "pass"
    assert (summaries[0].parent / "metrics.prom").is_file()

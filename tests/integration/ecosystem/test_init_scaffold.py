"""`invoice-chaos init` end to end: the generated adapter passes its own generated tests,
including the chaos run of the generated scenario."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_generated_adapter_passes_its_generated_tests(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    made = subprocess.run([sys.executable, "-m", "harness.cli", "init", str(target)],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    again = subprocess.run([sys.executable, "-m", "harness.cli", "init", str(target)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and str(target / "adapter.py") in again.stderr, again.stderr
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)],
                          cwd=target, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "5 passed" in done.stdout, done.stdout[-1000:]

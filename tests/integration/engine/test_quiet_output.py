"""What a person sees: the demo prints a few lines, live figures included, ending with the
report's path, and not one warning; compare of its run (a Chinese SUT label in the plots) stays
silent too."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT, cli

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOISE = re.compile(r"warn|traceback|findfont|deprecat", re.IGNORECASE)
LABEL = "航天信息 演示"


def test_the_demo_is_short_quiet_and_ends_with_the_report(tmp_path: Path) -> None:
    run_dir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "INVOICE_CHAOS_PROGRESS"}
    proc = subprocess.run([str(ROOT / "scripts" / "demo"), "--out", str(run_dir), "--label", LABEL],
                          capture_output=True, text=True, timeout=240, env=env, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    noisy = [line for line in proc.stderr.splitlines() if NOISE.search(line)]
    assert not noisy, "\n".join(noisy[:20])
    lines = proc.stderr.splitlines() + proc.stdout.splitlines()
    assert len(lines) < 20, "\n".join(lines)
    assert proc.stdout.strip().splitlines()[-1] == str((run_dir / "report.html").resolve())
    live = [line for line in proc.stderr.splitlines() if line.startswith("load ") and " · ok " in line]
    assert live, proc.stderr  # plain live figures: stderr is a pipe here
    assert "fault f1" in proc.stderr  # the smoke scenario's outage showed while it was on
    assert json.loads((run_dir / "run.json").read_text())["sut"] == LABEL

    compared = cli("compare", str(run_dir), "--out", str(tmp_path / "compare"), timeout=120)
    assert compared.returncode == 0, compared.stderr[-3000:]
    assert not [line for line in compared.stderr.splitlines() if NOISE.search(line)], compared.stderr
    assert LABEL in (tmp_path / "compare" / "compare.md").read_text()

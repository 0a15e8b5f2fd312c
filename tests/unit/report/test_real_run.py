"""The reporter on a real run directory written by the engine (tests/data/runs)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report import render

FIXTURE = Path(__file__).parents[2] / "data" / "runs" / "ghost-small-retrying"


@pytest.fixture()
def real_run(tmp_path: Path) -> Path:
    return Path(shutil.copytree(FIXTURE, tmp_path / "run"))


def test_real_run_renders_with_its_story(real_run: Path) -> None:
    summary = json.loads((real_run / "summary.json").read_text())
    text = render(real_run).read_text()
    assert "FAIL" in text and "What went wrong" in text
    dup = len(summary["anomalies"]["duplicate"])
    assert f"{dup} duplicate ({dup} placed during f1 ghost_commit)" in text
    root = ET.parse(real_run / "junit.xml").getroot()
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert {"duplicate", "no-duplicate-invoices"} <= failed


def test_real_run_from_the_json_lines_alone(real_run: Path) -> None:
    """As if the engine died before writing history.parquet and summary.json."""
    (real_run / "history.parquet").unlink()
    (real_run / "summary.json").unlink()
    render(real_run)
    md = (real_run / "report.md").read_text()
    assert "UNKNOWN" in md and "before its audit" in md and "f1 ghost_commit" in md

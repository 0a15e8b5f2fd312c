"""`invoice-chaos suite`: several scenarios, one table; a bad file stops it before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import cli

pytestmark = pytest.mark.integration

TINY = "name: {name}\nseed: 3\nload:\n  shape: {{type: steady, target: 5, duration_s: 3}}\ndrain_s: 5\n{extra}"


def test_suite_runs_each_scenario_and_writes_one_table(tmp_path: Path):
    folder = tmp_path / "scn"
    folder.mkdir()
    (folder / "a.yaml").write_text(TINY.format(name="a", extra=""))
    (folder / "b.yaml").write_text(TINY.format(name="b", extra="faults:\n  - {family: bureau, kind: error, start_s: 1, duration_s: 1, params: {status: 503}}\n"))
    out = tmp_path / "suite"
    proc = cli("suite", str(folder), "--out", str(out), timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads((out / "suite.json").read_text())
    assert [r["scenario"] for r in rows] == ["a", "b"]
    assert all(r["verdict"] == "pass" for r in rows)
    assert "| a | pass" in (out / "suite.md").read_text()
    assert (out / "b" / "report.html").exists()


def test_suite_checks_every_file_first(tmp_path: Path):
    folder = tmp_path / "scn"
    folder.mkdir()
    (folder / "a.yaml").write_text(TINY.format(name="a", extra=""))
    (folder / "z.yaml").write_text("load: {shape: {type: steady, target: 5}}\n")
    proc = cli("suite", str(folder), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "z.yaml" in proc.stderr and "duration_s" in proc.stderr
    assert not (tmp_path / "o" / "a").exists()

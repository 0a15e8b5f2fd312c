"""explore end to end, small: real services, a mix that naive cannot survive, a tiny budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from .conftest import cli

pytestmark = pytest.mark.integration

MIX = """\
name: tiny-mix
seed: 5
load:
  shape: {type: steady, target: 10, duration_s: 4}
random_faults:
  start_s: 0.5
  end_s: 3.5
  mean_interval_s: 0.5
  duration_s: [1.0, 2.5]
  mix:
    # every_n, not a probability: a replay hits the same share of requests (docs/explore.md)
    - {family: bureau, kind: ghost_commit, params: {every_n: {range: [1, 2]},
       match: {method: POST, path: /api/v1/invoices}}}
drain_s: 3
"""


def test_explore_finds_shrinks_and_writes_a_minimal_scenario(tmp_path: Path):
    path = tmp_path / "tiny-mix.yaml"
    path.write_text(MIX, encoding="utf-8")
    out = tmp_path / "explore"
    proc = cli("explore", str(path), "--sut", "reference:naive", "--runs", "10", "--replays", "2",
               "--min-fails", "2", "--confirm", "2", "--out", str(out), timeout=400)
    assert proc.returncode == 1, proc.stderr[-3000:]     # a failure was found
    assert proc.stdout.strip().splitlines()[-1] == str(out / "explore.md")
    body = json.loads((out / "explore.json").read_text())
    assert body["found"] is not None and body["runs"] <= 10
    minimal = yaml.safe_load((out / "minimal.yaml").read_text())
    assert len(minimal["faults"]) == 1 and "random_faults" not in minimal
    assert body["minimal"]["replays"] == 2 and "phantom" in body["minimal"]["anomalies"]
    assert "The smallest failure found" in (out / "explore.md").read_text()
    tries = (out / "explore" / "tries.jsonl").read_text().splitlines()
    assert len(tries) == body["runs"] and (out / "explore" / "001-search" / "run" / "summary.json").exists()
    again = cli("run", str(out / "minimal.yaml"), "--sut", "reference:naive", "--out", str(tmp_path / "again"))
    assert again.returncode == 1, again.stderr[-2000:]     # minimal.yaml fails again when run alone

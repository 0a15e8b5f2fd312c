"""The 乐企 scenarios end to end: resilient on lq passes each, naive on lq shows the anomaly each
provokes (the table in docs/scenarios.md). A fast pair in the default run, every cell behind
the `matrix` marker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import cli

pytestmark = pytest.mark.integration

# scenario -> the anomaly lists naive on lq must show (measured: docs/scenarios.md)
NAIVE = {
    "lq-results-stuck": set(),              # a blockage that clears does no lasting harm to the audit
    "lq-result-expiry": {"stuck"},
    "lq-deadline": {"lost", "dropped"},
    "month-close": {"lost", "dropped"},
    "year-rollover": {"lost", "dropped"},
    "quota-month-end": {"lost", "dropped"},
    "credentials-expire": {"dropped"},
    "number-reuse": {"lost", "mismatch"},
}


def run(tmp_path: Path, scenario: str, profile: str, scale: str = "1") -> dict:
    out = tmp_path / f"{scenario}-{profile}"
    proc = cli("run", f"scenarios/{scenario}.yaml", "--sut", f"reference:{profile}", "--time-scale", scale,
               "--out", str(out), timeout=400)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] != "unknown", summary["verdict_reasons"]
    assert json.loads((out / "run.json").read_text())["sut"] == f"reference:{profile}"
    return summary


def flagged(summary: dict) -> set[str]:
    return {k for k, v in summary["anomalies"].items() if v}


@pytest.mark.parametrize("scenario, profile", [("lq-deadline", "resilient"), ("number-reuse", "naive")])
def test_fast_pair(tmp_path: Path, scenario: str, profile: str):
    summary = run(tmp_path, scenario, profile, "0.7")
    if profile == "resilient":
        assert summary["verdict"] == "pass", summary["verdict_reasons"]
    else:
        assert NAIVE[scenario] <= flagged(summary), summary["anomalies"]


@pytest.mark.matrix
@pytest.mark.parametrize("scenario", sorted(NAIVE))
def test_resilient_passes_every_lq_scenario(tmp_path: Path, scenario: str):
    summary = run(tmp_path, scenario, "resilient")
    assert summary["verdict"] == "pass" and not flagged(summary), summary["verdict_reasons"]


@pytest.mark.matrix
@pytest.mark.parametrize("scenario", sorted(NAIVE))
def test_naive_shows_what_each_lq_scenario_provokes(tmp_path: Path, scenario: str):
    summary = run(tmp_path, scenario, "naive")
    assert NAIVE[scenario] <= flagged(summary), summary["anomalies"]
    assert summary["verdict"] == ("pass" if not NAIVE[scenario] else "fail")

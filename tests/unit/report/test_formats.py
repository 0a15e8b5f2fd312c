"""junit.xml, report.md and the frames, on literal facts and the synthetic run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from harness.report import frames
from harness.report.facts import Facts, FaultFacts, build_facts, detect_s
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.rundir import load_run


def _facts(**over: object) -> Facts:
    base: dict[str, object] = dict(
        scenario="ghost-commit", seed=7, sut="reference:naive", verdict="fail",
        compromised=False, compromised_reasons=[],
        requests={"total": 10, "ok": 7, "fail": 2, "info": 1},
        latency_ms={"p50": 20.0, "p95": 90.0, "p99": 120.0, "max": 300.0},
        anomalies={"lost": ["O-1"], "duplicate": [], "phantom": [], "mismatch": [],
                   "stuck": [], "unexpected": []},
        faults=[FaultFacts("f1", "ghost_commit", "bureau", 5.0, 9.0, 0.2, None, 4.0),
                FaultFacts("f2", "down", "bureau", 12.0, 15.0, 0.1, 1.0, 2.0)],
        gates=[{"name": "no-lost", "metric": "anomalies.lost", "op": "==", "threshold": 0,
                "value": 1, "passed": False},
               {"name": "p99", "metric": "latency_ms.p99", "op": "<", "threshold": 500,
                "value": 120.0, "passed": True}],
        evidence={}, availability=None)
    base.update(over)
    return Facts(**base)  # type: ignore[arg-type]


def test_junit_one_case_per_gate_anomaly_kind_and_fault() -> None:
    root = ET.fromstring(render_junit(_facts()))
    suites = {s.get("name", "").rsplit(".", 1)[-1]: s for s in root.iter("testsuite")}
    assert len(suites["gates"].findall("testcase")) == 2
    assert len(suites["anomalies"].findall("testcase")) == 6
    assert len(suites["recovery"].findall("testcase")) == 2
    failures = {c.get("name"): c.find("failure") for c in root.iter("testcase")}
    assert failures["no-lost"].get("message") == "anomalies.lost = 1, must be == 0"
    assert "O-1" in failures["lost"].get("message", "")
    skipped = {c.get("name"): c.find("skipped") for c in root.iter("testcase")}
    assert failures["f1 ghost_commit"] is None            # no gate judges its recovery: shown, not failed
    assert "never returned" in skipped["f1 ghost_commit"].get("message", "")
    assert failures["f2 down"] is None and failures["p99"] is None
    assert suites["anomalies"].get("failures") == "1"
    assert "a gate failed" in failures["verdict"].get("message", "")


def test_junit_agrees_with_the_verdict() -> None:
    """A failure or error in junit.xml exactly when the run did not pass (no false alarms,
    no silent passes): a gated recovery fails, an ungated anomaly is skipped."""
    gated = _facts(gates=[{"name": "recovers", "metric": "faults.f1.time_to_recover_s", "op": "<=",
                           "threshold": 5, "value": None, "passed": False}],
                   verdict_reasons=["gate recovers failed"])
    root = ET.fromstring(render_junit(gated))
    failures = {c.get("name"): c.find("failure") for c in root.iter("testcase")}
    assert failures["f1 ghost_commit"] is not None and failures["lost"] is None
    clean = _facts(verdict="pass", anomalies={k: [] for k in ("lost", "duplicate")}, gates=[],
                   faults=[FaultFacts("f2", "down", "bureau", 12.0, 15.0, 0.1, 1.0, 2.0)])
    root = ET.fromstring(render_junit(clean))
    assert not any(c.find("failure") is not None or c.find("error") is not None for c in root.iter("testcase"))
    unknown = _facts(verdict="unknown", verdict_reasons=["the run was interrupted before it finished"])
    root = ET.fromstring(render_junit(unknown))
    (error,) = [c.find("error") for c in root.iter("testcase") if c.find("error") is not None]
    assert "interrupted" in error.get("message", "")


def test_markdown_fits_a_job_summary_even_with_many_anomalies() -> None:
    many = {"lost": [f"O-{i}" for i in range(100_000)], "duplicate": [], "phantom": [],
            "mismatch": [], "stuck": [], "unexpected": []}
    md = render_markdown(_facts(anomalies=many))
    assert len(md.encode()) < 64_000
    assert "❌ FAIL" in md and "+99990" in md and "| ❌ lost | 100000 |" in md


def test_pipes_in_names_do_not_break_tables() -> None:
    md = render_markdown(_facts(scenario="a|b"))
    assert "a\\|b" in md


def test_throughput_frame_counts_every_operation(run_dir: Path) -> None:
    data = load_run(run_dir)
    span = frames.span_s(data)
    width = frames.bin_width(span)
    tp = frames.throughput(data, width, span)
    assert round(tp.to_numpy().sum() * width) == len(data.ops)
    assert list(tp.columns) == ["issued", "deferred", "fail", "info"]
    # The ghost-commit window (20-30 s) defers orders; before it none are deferred.
    assert tp.loc[22.0:28.0, "deferred"].sum() > 0 and tp.loc[0.0:18.0, "deferred"].sum() == 0
    assert frames.commit_rate(data, width, span).sum() * width == len(data.commits_s)


def test_bin_width_keeps_plots_readable() -> None:
    assert frames.bin_width(60) == 1
    assert frames.bin_width(3600) == 15
    assert 86_400 / frames.bin_width(86_400) <= frames.MAX_BINS


def test_facts_fallback_matches_the_contract(run_dir: Path) -> None:
    """Without summary.json, detect/recover/drain are recomputed from the history."""
    (run_dir / "summary.json").unlink()
    data = load_run(run_dir)
    facts = build_facts(data, frames.span_s(data))
    f1 = facts.faults[0]
    assert facts.verdict == "unknown" and not facts.audited and f1.id == "f1"
    assert f1.time_to_detect_s is not None and f1.time_to_detect_s < 1.0
    assert f1.time_to_recover_s is not None and 0 <= f1.time_to_recover_s <= 6
    assert f1.drain_s is not None and 0 < f1.drain_s <= 6
    assert facts.requests["total"] == len(data.ops)


def test_detect_uses_completion_of_first_non_201() -> None:
    ops = pd.DataFrame({"t_invoke_s": [1.0, 5.5, 6.0], "t_complete_s": [1.1, 6.5, np.nan],
                        "http_status": [201.0, 202.0, np.nan], "outcome": ["ok", "ok", "info"]})
    assert detect_s(ops, 5.0) == 1.5
    assert detect_s(ops.iloc[:1], 5.0) is None


def test_malformed_orders_accepted_are_flagged(run_dir: Path) -> None:
    import pandas as pd

    from harness.report import render

    extra = pd.DataFrame({
        "op_id": ["m1", "m2", "m3"], "kind": "malformed", "order_id": ["X1", "X2", "X3"],
        "outcome": ["fail", "fail", "ok"], "http_status": [422, 422, 201],
        "error": ["http_422", "http_422", None], "sut_status": None,
        "t_invoke_s": [1.0, 2.0, 3.0], "t_complete_s": [1.1, 2.1, 3.1],
        "latency_ms": [100.0, 100.0, 100.0]})
    hist = pd.read_parquet(run_dir / "history.parquet")
    pd.concat([hist, extra]).to_parquet(run_dir / "history.parquet")
    data = load_run(run_dir)
    table = frames.malformed(data)
    assert table.iloc[0].to_dict() == {"answer": "http_201", "operations": 1, "accepted": True}
    assert len(data.load_ops) == len(data.ops) - 3
    assert "ACCEPTED: must be refused" in render(run_dir).read_text()


def test_anomalies_are_attributed_to_their_fault_window(run_dir: Path) -> None:
    from harness.report import attribution

    data = load_run(run_dir)
    facts = build_facts(data, frames.span_s(data))
    kinds = {k.kind: k for k in attribution.summarise(data, facts)}
    assert set(kinds) == {"lost", "duplicate", "phantom", "stuck"}
    assert kinds["duplicate"].count == 2
    assert kinds["duplicate"].windows == [("f1 ghost_commit", 2)]
    line = attribution.line(kinds["duplicate"])
    assert line.startswith("2 duplicate (2 placed during f1 ghost_commit). Example")
    assert "2 blue invoices" in line  # the checker's own reason from the evidence

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report import render


def test_render_writes_every_file(run_dir: Path) -> None:
    html = render(run_dir)
    assert html == run_dir / "report.html"
    text = html.read_text()
    assert "FAIL" in text and "data:image/png;base64," in text
    assert "ORDER-" in text  # per-order evidence
    for name in ("throughput", "latency", "errors", "backlog", "recovery", "anomalies"):
        assert (run_dir / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "### Gates" in (run_dir / "report.md").read_text()
    ET.parse(run_dir / "junit.xml")


def test_html_is_self_contained(run_dir: Path) -> None:
    text = render(run_dir).read_text()
    assert "<script src" not in text and "<link " not in text
    assert 'src="plots/' not in text


def test_empty_directory_still_renders(tmp_path: Path) -> None:
    html = render(tmp_path)
    text = html.read_text()
    assert "UNKNOWN" in text and "Missing from the run directory" in text
    assert 'name="run-completed"' in (tmp_path / "junit.xml").read_text()


def test_operations_only_recomputes_figures(run_dir: Path) -> None:
    """An interrupted run: only run.json, operations.jsonl, faults.jsonl and probes.jsonl."""
    for name in ("summary.json", "history.parquet", "bureau-ledger.jsonl"):
        (run_dir / name).unlink()
    with open(run_dir / "operations.jsonl", "a") as fh:
        fh.write('{"op_id": "torn", "kind": "iss')  # a torn last line from a crash
    text = render(run_dir).read_text()
    assert "UNKNOWN" in text and "f1 ghost_commit" in text
    md = (run_dir / "report.md").read_text()
    assert "2,500 operations" in md


def test_unreverted_fault_and_no_probes(run_dir: Path) -> None:
    lines = (run_dir / "faults.jsonl").read_text().splitlines()
    (run_dir / "faults.jsonl").write_text(lines[0].replace('"end_s": 30.01', '"end_s": null') + "\n")
    (run_dir / "probes.jsonl").unlink()
    render(run_dir)
    assert "never reverted" in (run_dir / "junit.xml").read_text()


def test_empty_operation_files(tmp_path: Path) -> None:
    (tmp_path / "run.json").write_text("{}")
    (tmp_path / "operations.jsonl").write_text("")
    (tmp_path / "faults.jsonl").write_text("")
    (tmp_path / "probes.jsonl").write_text("")
    (tmp_path / "bureau-ledger.jsonl").write_text("")
    (tmp_path / "summary.json").write_text("not json")
    assert render(tmp_path).exists()


def test_rfc3339_commit_times(run_dir: Path) -> None:
    import json
    from datetime import UTC, datetime

    from harness.report.rundir import load_run

    path = run_dir / "bureau-ledger.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    for r in rows:
        r["committed_at"] = datetime.fromtimestamp(r["committed_at"], UTC).isoformat()
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    data = load_run(run_dir)
    assert len(data.commits_s) == len(rows)
    assert 0 <= data.commits_s[0] < 1.0


def test_torn_ledger_uses_the_tolerant_reader(run_dir: Path) -> None:
    from harness.report.rundir import load_run

    n = len((run_dir / "bureau-ledger.jsonl").read_text().splitlines())
    with open(run_dir / "bureau-ledger.jsonl", "a") as fh:
        fh.write('{"invoice_number": "26')
    assert len(load_run(run_dir).commits_s) == n


def test_garbage_everywhere_still_renders(tmp_path: Path) -> None:
    """Files of the right names with the wrong shapes: render says what it can, never raises."""
    (tmp_path / "run.json").write_text('{"load_start_at": "soon", "sut": 3}')
    (tmp_path / "summary.json").write_text('{"verdict": "fail", "gates": [1, {"name": "g"}], '
                                           '"anomalies": {"lost": "x", "weird": ["o1"]}, '
                                           '"faults": "no", "evidence": []}')
    (tmp_path / "operations.jsonl").write_text(
        '[1, 2]\n"text"\n{"op_id": "a"}\n{"order_id": "o1", "outcome": "ok", "invoke_at": 5}\n')
    (tmp_path / "faults.jsonl").write_text('{"id": "f1", "start_s": "x"}\n[3]\n')
    (tmp_path / "probes.jsonl").write_text('{"t_s": "a", "sut_pending": null}\n7\n')
    (tmp_path / "bureau-ledger.jsonl").write_text('{"committed_at": "yesterday"}\n')
    text = render(tmp_path).read_text()
    assert "FAIL" in text


def test_render_stays_a_function_after_submodule_imports() -> None:
    import importlib

    import harness.report

    importlib.import_module("harness.report.render")
    from harness.report import render as again

    assert callable(again) and again is harness.report.render


def test_a_failing_plot_becomes_a_placeholder(run_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.report import plots

    def boom(*args: object) -> bytes:
        raise ValueError("unforeseen data")

    monkeypatch.setattr(plots, "latency_plot", boom)
    text = render(run_dir).read_text()
    assert "the latency plot failed: ValueError: unforeseen data" in text
    assert (run_dir / "plots" / "latency.png").read_bytes()[:4] == b"\x89PNG"

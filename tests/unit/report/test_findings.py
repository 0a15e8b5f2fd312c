"""The malformed phase's shrunk findings appear in report.html and report.md with a reproducer."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import render

CURL = ("printf '%s' '{\"order_id\":\"m-1\",\"lines\":[]}' | curl -sS -i -X POST "
        "http://127.0.0.1:9/invoices -H 'Content-Type: application/json' --data-binary @-")
FINDING = {"family": "illegal_characters", "target": "sut", "outcome": "accepted", "field": "lines[0].tax_code",
           "expected": "4xx with the error shape", "got": {"status": 202, "reason": "answered 202: the invalid input was taken"},
           "minimal_payload": {"order_id": "m-1", "lines": []}, "occurrences": 6, "curl": CURL}


def test_findings_are_shown_with_their_curl(run_dir: Path) -> None:
    (run_dir / "malformed.json").write_text(json.dumps(
        {"schema_version": 1, "totals": {"sent": 80, "rejected": 74, "findings": 1}, "findings": [FINDING]}))
    html = render(run_dir).read_text()
    md = (run_dir / "report.md").read_text()
    assert "1 finding(s)" in html and "illegal_characters" in html and "lines[0].tax_code" in html
    assert "curl -sS -i -X POST http://127.0.0.1:9/invoices" in html
    assert "### Malformed input" in md and CURL in md


def test_no_malformed_phase_no_section(run_dir: Path) -> None:
    html = render(run_dir).read_text()
    assert "Malformed input" not in html and "Malformed input" not in (run_dir / "report.md").read_text()


def test_unreadable_malformed_file_is_ignored(run_dir: Path) -> None:
    (run_dir / "malformed.json").write_text("{not json")
    assert render(run_dir).exists()

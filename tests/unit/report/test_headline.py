"""The report's headline says the verdict first and why: from ``verdict_reasons`` when the
summary has them, from the failed gates and compromised reasons in older run directories."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from harness.report import render


def edit_summary(run_dir: Path, **changes: Any) -> None:
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text())
    summary.update(changes)
    for key, value in changes.items():
        if value is None:
            summary.pop(key)
    path.write_text(json.dumps(summary))


def banner(html: str) -> str:
    match = re.search(r'<div class="banner (\w+)">(.*?)</div></div>', html, re.S)
    assert match, html[:2000]
    return f"{match.group(1)}|{match.group(2)}"


def test_fail_says_why_before_the_figures(run_dir: Path) -> None:
    edit_summary(run_dir, verdict_reasons=["gate no-lost-invoices: anomalies.lost is 1, must be == 0",
                                           "1 order the SUT said issued is missing at the bureau"])
    head = banner(render(run_dir).read_text())
    assert head.startswith("fail|") and "FAIL" in head
    why = head.index("Failed because")
    assert why < head.index("1 order the SUT said issued") < head.index("operations:")
    md = (run_dir / "report.md").read_text()
    assert md.index("**Failed because:**") < md.index("- 1 order the SUT said issued") < md.index("operations:")


def test_unknown_has_its_own_style_and_reasons(run_dir: Path) -> None:
    reasons = ["fault f1 never applied: the proxy refused it", "the load was 40% behind its shape"]
    edit_summary(run_dir, verdict="unknown", compromised=True, compromised_reasons=reasons,
                 verdict_reasons=reasons)
    html = render(run_dir).read_text()
    head = banner(html)
    assert head.startswith("unknown|") and "UNKNOWN" in head and "No verdict because" in head
    assert all(r in head for r in reasons)
    style = re.search(r"\.banner\.unknown\{([^}]*)\}", html)
    assert style and "#2e8b57" not in style.group(1) and "#c0392b" not in style.group(1)
    # Said once in the headline, not again as a warning below it.
    assert "Figures are compromised" not in html
    assert (run_dir / "report.md").read_text().startswith("## ❔ UNKNOWN")
    cases = {c.get("name"): c for c in ET.parse(run_dir / "junit.xml").iter("testcase")}
    error = cases["verdict"].find("error")
    assert error is not None and reasons[0] in error.get("message", "")


def test_old_run_directories_fall_back_to_failed_gates_and_compromised_reasons(run_dir: Path) -> None:
    edit_summary(run_dir, verdict_reasons=None, compromised=True,
                 compromised_reasons=["the machine's CPU was above 95% for 12 s"])
    head = banner(render(run_dir).read_text())
    assert "gate no-lost-invoices: anomalies.lost is 1, must be == 0" in head
    assert "gate no-mismatch-invoices" not in head  # it passed
    assert "the machine&#39;s CPU was above 95% for 12 s" in head


def test_a_pass_has_no_reason_list(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    gates = [{**g, "passed": True} for g in summary["gates"]]
    edit_summary(run_dir, verdict="pass", verdict_reasons=[], gates=gates,
                 anomalies={k: [] for k in summary["anomalies"]})
    head = banner(render(run_dir).read_text())
    assert head.startswith("pass|") and "because" not in head
    assert f"All {len(gates)} gates passed; no anomalous orders." in head


def test_many_reasons_are_cut_to_a_few(run_dir: Path) -> None:
    edit_summary(run_dir, verdict_reasons=[f"reason {i}" for i in range(9)])
    head = banner(render(run_dir).read_text())
    assert "reason 3" in head and "reason 4" not in head and "and 5 more" in head

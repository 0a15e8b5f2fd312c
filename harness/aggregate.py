"""One verdict for several runs (``run --repeat N``, ``suite``): a line, a file and a junit.xml.

The aggregate verdict is ``fail`` when any run failed (a definite finding), else ``unknown``
when any run could not support a verdict, else ``pass``. Exit status: the worst of the runs.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunOutcome:
    name: str                      # "repeat-2", or a scenario's name in a suite
    run_dir: Path
    exit_code: int
    summary: dict[str, Any] | None

    @property
    def verdict(self) -> str:
        if self.summary is None:
            return "unknown"           # no audit at all: nothing supports a verdict
        return str(self.summary.get("verdict") or "unknown")


def aggregate_verdict(outcomes: list[RunOutcome]) -> str:
    verdicts = {o.verdict for o in outcomes}
    if "fail" in verdicts:
        return "fail"
    if verdicts - {"pass"} or not outcomes:
        return "unknown"
    return "pass"


def counts_line(outcomes: list[RunOutcome]) -> str:
    n = {v: sum(o.verdict == v for o in outcomes) for v in ("pass", "fail", "unknown")}
    return (f"{len(outcomes)} run(s): {n['pass']} passed, {n['fail']} failed, {n['unknown']} unknown"
            f" -> {aggregate_verdict(outcomes)}")


def write_aggregate(out: Path, outcomes: list[RunOutcome], kind: str) -> Path:
    """``aggregate.json`` and a merged ``junit.xml`` in ``out``; returns the JSON's path."""
    out.mkdir(parents=True, exist_ok=True)
    body = {
        "kind": kind,
        "verdict": aggregate_verdict(outcomes),
        "counts": {v: sum(o.verdict == v for o in outcomes) for v in ("pass", "fail", "unknown")},
        "exit_code": max((o.exit_code for o in outcomes), default=0),
        "runs": [{"name": o.name, "run_dir": str(o.run_dir), "verdict": o.verdict, "exit_code": o.exit_code,
                  "seed": (o.summary or {}).get("seed"),
                  "verdict_reasons": (o.summary or {}).get("verdict_reasons", [])} for o in outcomes],
    }
    path = out / "aggregate.json"
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "junit.xml").write_text(merged_junit(outcomes), encoding="utf-8")
    return path


def merged_junit(outcomes: list[RunOutcome]) -> str:
    """Every run's junit.xml under one root, each test suite named after its run."""
    root = ET.Element("testsuites", name="invoice-chaos")
    for o in outcomes:
        try:
            theirs = ET.parse(o.run_dir / "junit.xml").getroot()
        except (OSError, ET.ParseError):
            suite = ET.SubElement(root, "testsuite", name=f"{o.name}.run", tests="1", failures="0", errors="1")
            case = ET.SubElement(suite, "testcase", classname=f"{o.name}.run", name="run-completed", time="0")
            ET.SubElement(case, "error", message=f"no junit.xml in {o.run_dir}: the run ended before its report "
                                                 f"(exit {o.exit_code})")
            continue
        for suite in theirs.iter("testsuite"):
            suite.set("name", f"{o.name}.{suite.get('name', '')}")
            root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

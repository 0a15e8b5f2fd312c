"""One verdict for several runs (``run --repeat N``, a sweep, ``suite``): a line and files.

The aggregate verdict is ``fail`` when any run failed (a definite finding), else ``unknown``
when any run could not support a verdict, else ``pass``. Exit status: the worst of the runs.
``aggregate.md`` holds one row per run (for a sweep: value -> verdict and anomalies), so a
reader sees at which value a bug appears.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class RunOutcome:
    name: str                      # "repeat-2", "hang_s=5", or a scenario's name in a suite
    run_dir: Path
    exit_code: int
    summary: dict[str, Any] | None
    variant: str | None = None     # a sweep's variant label
    value: Any = None              # the swept parameter's value

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


def write_aggregate(out: Path, outcomes: list[RunOutcome], kind: str, param: str | None = None) -> Path:
    """``aggregate.json``, ``aggregate.md`` and a merged ``junit.xml`` in ``out``; returns the
    JSON's path. ``param``: the swept parameter, for a sweep."""
    out.mkdir(parents=True, exist_ok=True)
    body = {
        "kind": kind,
        "param": param,
        "verdict": aggregate_verdict(outcomes),
        "counts": {v: sum(o.verdict == v for o in outcomes) for v in ("pass", "fail", "unknown")},
        "exit_code": max((o.exit_code for o in outcomes), default=0),
        "runs": [{"name": o.name, "run_dir": str(o.run_dir), "verdict": o.verdict, "exit_code": o.exit_code,
                  "variant": o.variant, "value": o.value, "seed": (o.summary or {}).get("seed"),
                  "anomalies": {k: len(v) for k, v in ((o.summary or {}).get("anomalies") or {}).items()},
                  "verdict_reasons": (o.summary or {}).get("verdict_reasons", [])} for o in outcomes],
    }
    path = out / "aggregate.json"
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "aggregate.md").write_text(markdown(outcomes, kind, param), encoding="utf-8")
    (out / "junit.xml").write_text(merged_junit(outcomes), encoding="utf-8")
    return path


def markdown(outcomes: list[RunOutcome], kind: str, param: str | None) -> str:
    """One row per run: verdict, every anomaly count, p99 and the first reason."""
    from harness.checks.invoices import ANOMALY_KINDS

    head = param or ("run" if kind != "suite" else "scenario")
    title = f"sweep over `{param}`" if param else kind
    lines = [f"# {aggregate_verdict(outcomes).upper()}: {title}", "", counts_line(outcomes), "",
             f"| {head} | verdict | " + " | ".join(ANOMALY_KINDS) + " | p99 ms | why |",
             "| --- | --- | " + " | ".join("---:" for _ in ANOMALY_KINDS) + " | ---: | --- |"]
    for o in outcomes:
        s = o.summary or {}
        found = s.get("anomalies") or {}
        counts = " | ".join(str(len(found.get(k) or [])) if k in found else "-" for k in ANOMALY_KINDS)
        p99 = (s.get("latency_ms") or {}).get("p99")
        why = (s.get("verdict_reasons") or [""])[0] if s else f"no summary (exit {o.exit_code})"
        label = o.name if o.value is None or "/" in o.name else _cell(o.value)
        lines.append(f"| {_cell(label)} | {o.verdict} | {counts} | {'-' if p99 is None else f'{p99:,.0f}'} | "
                     f"{_cell(why)} |")
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


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

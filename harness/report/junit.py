"""junit.xml: the verdict, one test case per gate, per anomaly kind and per fault's recovery.

Test reporters (GitHub, GitLab, Jenkins) show failures by name with their message, so each
failure says what was measured against what, in one line. The file agrees with the verdict:
it holds a failure or an error exactly when the run did not pass. An anomaly list or a
recovery figure that no gate judges is reported as skipped, with its figure, never as failed.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.report import story
from harness.report.facts import Facts


def _case(suite: ET.Element, classname: str, name: str, failure: str | None,
          detail: str = "", outcome: str = "failure") -> None:
    """``outcome``: ``failure`` (a gate did not hold), ``error`` (no verdict could be given) or
    ``skipped`` (shown for information, judged by no gate)."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
    if failure is not None:
        el = ET.SubElement(case, outcome, message=failure, **({} if outcome == "skipped" else {"type": outcome}))
        el.text = detail or failure


def _verdict_case(root: ET.Element, prefix: str, facts: Facts) -> None:
    suite = ET.SubElement(root, "testsuite", name=f"{prefix}.verdict")
    why = "; ".join(facts.verdict_reasons)
    if facts.verdict == "pass":
        _case(suite, f"{prefix}.verdict", "verdict", None)
    elif facts.verdict == "fail":
        _case(suite, f"{prefix}.verdict", "verdict", f"fail: {why or 'a gate failed'}")
    else:
        reasons = why or "; ".join(story.warnings(facts)) or "no summary.json"
        _case(suite, f"{prefix}.verdict", "verdict", f"unknown: the run cannot support a verdict: {reasons}",
              outcome="error")


def render_junit(facts: Facts, explained: dict[str, str] | None = None) -> str:
    """``explained``: per anomaly kind, the report's "what went wrong" line for it."""
    root = ET.Element("testsuites", name=f"invoice-chaos {facts.scenario}")
    prefix = f"invoice-chaos.{facts.scenario}"
    _verdict_case(root, prefix, facts)
    gated = {str(g.get("metric")) for g in facts.gates}
    gates = ET.SubElement(root, "testsuite", name=f"{prefix}.gates")
    for g in facts.gates:
        value, op = story.fmt_value(g.get("value")), g.get("op", "")
        threshold = story.fmt_value(g.get("threshold"))
        reason = None if g.get("passed") else (
            f"{g.get('metric')} = {value}, must be {op} {threshold}")
        _case(gates, f"{prefix}.gates", str(g.get("name") or g.get("metric")), reason)
    if not facts.audited:
        _case(gates, f"{prefix}.gates", "run-completed",
              "no summary.json: the run ended before its audit", "; ".join(story.warnings(facts)))

    anomalies = ET.SubElement(root, "testsuite", name=f"{prefix}.anomalies")
    for kind, ids in facts.anomalies.items():
        reason = None if not ids else (
            f"{len(ids)} {kind} order(s): {', '.join(ids[:10])}"
            + (" …" if len(ids) > 10 else ""))
        detail = (f"{story.ANOMALY_MEANING.get(kind, kind)}.\n"
                  + (f"{explained[kind]}\n" if explained and kind in explained else "")
                  + "\n".join(ids))
        judged = f"anomalies.{kind}" in gated
        if reason is not None and not judged:
            reason = f"not gated (anomaly_gates: {kind} off): {reason}"
        _case(anomalies, f"{prefix}.anomalies", kind, reason, detail, "failure" if judged else "skipped")

    recovery = ET.SubElement(root, "testsuite", name=f"{prefix}.recovery")
    for f in facts.faults:
        reason = None
        if f.end_s is None:
            reason = "the fault was never reverted within the run"
        elif f.time_to_recover_s is None:
            reason = "issuance never returned to 90% of its pre-fault rate within the run"
        elif f.drain_s is None:
            reason = "the SUT's backlog never drained within the run"
        # Figures are judged by gates; an ungated one is shown, not failed (the verdict says
        # when a fault was never applied or reverted).
        judged = any(m.startswith(f"faults.{f.id}.") for m in gated)
        _case(recovery, f"{prefix}.recovery", f"{f.id} {f.kind}", reason, story.fault_line(f),
              "failure" if judged else "skipped")

    for suite in root.iter("testsuite"):
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        for outcome, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            suite.set(attr, str(sum(1 for c in cases if c.find(outcome) is not None)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

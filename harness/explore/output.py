"""What explore leaves: ``explore.json``, ``explore.md`` and ``minimal.yaml``.

``minimal.yaml`` is a plain scenario (its faults explicit, its seed fixed): ``run`` it,
``validate`` it, or commit it as a regression test. When nothing failed, the report says how
much of the fault space the runs covered: kinds drawn, and the range of each parameter.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from harness.explore import schedule as sched
from harness.explore.engine import Budget, Outcome


def coverage(outcome: Outcome) -> dict[str, Any]:
    """Kinds drawn and parameter ranges seen, over the schedules the search tried."""
    kinds: Counter[str] = Counter()
    ranges: dict[str, list[float]] = {}
    for t in outcome.tries:
        if t.phase != "search":
            continue
        data = yaml.safe_load(Path(t.scenario_file).read_text(encoding="utf-8"))
        for f in sched.faults_of(data):
            kinds[f"{f['family']}/{f['kind']}"] += 1
            for name, value in (f.get("params") or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    lo_hi = ranges.setdefault(f"{f['family']}/{f['kind']}.{name}", [value, value])
                    lo_hi[0], lo_hi[1] = min(lo_hi[0], value), max(lo_hi[1], value)
    return {"schedules": sum(1 for t in outcome.tries if t.phase == "search"), "faults_by_kind": dict(kinds),
            "parameter_ranges": ranges}


def write_outputs(out: Path, outcome: Outcome, budget: Budget, scenario_name: str) -> Path:
    """Every file of the explore; returns the report's path."""
    out.mkdir(parents=True, exist_ok=True)
    cov = coverage(outcome)
    minimal_path = None
    if outcome.minimal is not None:
        fails, runs = outcome.minimal_replays
        minimal_path = sched.write(
            outcome.minimal, out / "minimal.yaml",
            f"The smallest failure invoice-chaos explore found for {scenario_name}: {sched.describe(outcome.minimal)}.\n"
            f"It failed {fails} of {runs} replays. Run it with: invoice-chaos run minimal.yaml")
    body = {
        "scenario": scenario_name,
        "runs": budget.used,
        "minutes": round((time.monotonic() - budget.started) / 60, 2),
        "interrupted": outcome.interrupted,
        "found": None if outcome.found is None else {
            "schedule": sched.describe(outcome.found), "failed": outcome.found_replays[0],
            "replays": outcome.found_replays[1],
            "after_runs": next((t.n for t in outcome.tries if t.phase == "search" and t.verdict == "fail"), None)},
        "minimal": None if outcome.minimal is None else {
            "schedule": sched.describe(outcome.minimal), "file": str(minimal_path),
            "faults": len(sched.faults_of(outcome.minimal)), "failed": outcome.minimal_replays[0],
            "replays": outcome.minimal_replays[1], "steps": outcome.steps,
            "anomalies": {k: len(v) for k, v in ((outcome.minimal_summary or {}).get("anomalies") or {}).items() if v},
            "hints": (outcome.minimal_summary or {}).get("hints", [])[:5]},
        "unknown_runs": sum(1 for t in outcome.tries if t.verdict == "unknown"),
        "coverage": cov,
        "tries": [t.__dict__ for t in outcome.tries],
    }
    (out / "explore.json").write_text(json.dumps(body, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    report = out / "explore.md"
    report.write_text(markdown(body), encoding="utf-8")
    return report


def markdown(body: dict[str, Any]) -> str:
    lines = [f"# explore: {body['scenario']}", ""]
    m, found = body["minimal"], body["found"]
    if m is not None:
        lines += [f"**The smallest failure found:** {m['schedule']}. It failed {m['failed']} of {m['replays']} "
                  f"replays (`minimal.yaml`).", ""]
        if m["anomalies"]:
            lines.append("Anomalies: " + ", ".join(f"{v} {k}" for k, v in m["anomalies"].items()) + ".")
        lines += [f"- {h['orders']} {h['kind']}: {h['hint']}" for h in m["hints"]]
        lines += ["", f"Found after {found['after_runs']} search run(s) ({found['schedule']}; failed "
                      f"{found['failed']} of {found['replays']} runs), shrunk in {len(m['steps'])} step(s):", ""]
        lines += [f"{i}. {s}" for i, s in enumerate(m["steps"], 1)] or ["(no smaller schedule still failed)"]
    else:
        cov = body["coverage"]
        lines += [f"**No failure found** in {body['runs']} run(s) over {body['minutes']:.1f} min "
                  f"({cov['schedules']} schedules drawn).", "", "| fault kind | times drawn |", "| --- | ---: |"]
        lines += [f"| {k} | {n} |" for k, n in sorted(cov["faults_by_kind"].items())]
        if cov["parameter_ranges"]:
            lines += ["", "| parameter | lowest | highest |", "| --- | ---: | ---: |"]
            lines += [f"| {k} | {lo:g} | {hi:g} |" for k, (lo, hi) in sorted(cov["parameter_ranges"].items())]
    if body["unknown_runs"]:
        lines += ["", f"{body['unknown_runs']} run(s) had no verdict (unknown): recorded, never taken for failures."]
    if body["interrupted"]:
        lines += ["", "Interrupted: this is what was found before Ctrl-C."]
    lines += ["", f"{body['runs']} run(s) in all; every schedule tried and its verdict: `explore/tries.jsonl`.", ""]
    return "\n".join(lines)

"""The malformed-data report: ``malformed.json`` and ``malformed.md`` (and the summary's block).

``malformed.json``::

    {"schema_version": 1, "seed": 7, "targets": {"sut": "http://..."},
     "totals": {"sent": 120, "rejected": 118, "suspects": 2, "findings": 1, "not_reproduced": 1},
     "by_family": {"odd_unicode": {"rejected": 10, "server_error": 2}, ...},
     "findings": [{"family", "target", "outcome", "field", "note", "expected", "got",
                   "minimal_payload", "minimal_bytes", "original_bytes", "shrink_attempts",
                   "occurrences", "curl"}],
     "not_reproduced": [{"family", "target", "outcome", "op_id", "reason"}]}

A body that is not UTF-8 text appears in ``minimal_payload`` as ``{"hex": "..."}``; bodies over
4 kB are also written to ``malformed/finding-N.body`` and the ``curl`` command reads that file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.data.campaign import Campaign, Finding
from harness.data.record import Malformed
from harness.data.sender import INLINE_CURL_BYTES, curl_command

SCHEMA_VERSION = 1


def _payload(example: Malformed) -> Any:
    body = example.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": body.hex()}
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def _expected(example: Malformed) -> str:
    named = f", naming {example.field!r} in details" if example.field and example.target == "bureau" else ""
    return f"4xx with the error shape{named}" + ("" if example.field is None else f" (the broken field: {example.field})")


def _finding(i: int, f: Finding, out_dir: Path, base_url: str) -> dict[str, Any]:
    url = f.original.example.target
    body = f.minimal.body()
    body_file = None
    if len(body) > INLINE_CURL_BYTES:
        body_file = out_dir / "malformed" / f"finding-{i}.body"
        body_file.parent.mkdir(parents=True, exist_ok=True)
        body_file.write_bytes(body)
    return {
        "family": f.minimal.family, "target": url, "outcome": f.verdict.outcome, "field": f.minimal.field,
        "note": f.original.example.note, "expected": _expected(f.minimal),
        "got": {"status": f.answer.status, "error": f.answer.error, "reason": f.verdict.reason,
                "content_type": f.answer.content_type, "body": f.answer.text(500)},
        "minimal_payload": _payload(f.minimal) if len(body) <= 64_000 else f"({len(body)} bytes, see {body_file})",
        "minimal_bytes": len(body), "original_bytes": len(f.original.example.body()),
        "shrink_attempts": f.attempts, "occurrences": f.occurrences, "first_op_id": f.original.op_id,
        "also_families": sorted(set(f.also)),
        "curl": curl_command(base_url.rstrip("/") + f.minimal.path, f.minimal, body_file),
    }


def build_report(campaign: Campaign, out_dir: Path, *, seed: int | None) -> dict[str, Any]:
    findings = [_finding(i, f, out_dir, campaign.urls[f.minimal.target]) for i, f in enumerate(campaign.findings, 1)]
    sent = len(campaign.sent)
    suspects = sum(1 for s in campaign.sent if s.verdict.finding)
    return {
        "schema_version": SCHEMA_VERSION, "seed": seed, "targets": dict(campaign.urls),
        "totals": {"sent": sent, "rejected": sum(1 for s in campaign.sent if not s.verdict.finding),
                   "suspects": suspects, "findings": len(findings), "not_reproduced": len(campaign.not_reproduced)},
        "by_family": campaign.counts(),
        "findings": findings,
        "not_reproduced": [{"family": s.example.family, "target": s.example.target, "outcome": s.verdict.outcome,
                            "op_id": s.op_id, "reason": s.verdict.reason} for s in campaign.not_reproduced],
    }


def write_report(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``malformed.json`` and ``malformed.md`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / "malformed.json", out_dir / "malformed.md"
    tmp = js.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(js)
    md.write_text(markdown(report), encoding="utf-8")
    return js, md


def markdown(report: dict[str, Any]) -> str:
    t = report["totals"]
    lines = ["# Malformed data", "",
             f"{t['sent']} malformed requests (seed {report.get('seed')}): {t['rejected']} rejected as expected, "
             f"{t['findings']} finding(s), {t['not_reproduced']} suspect(s) that did not reproduce on the quiet system.", "",
             "| family | " + " | ".join(_OUTCOMES) + " |", "| --- |" + " --- |" * len(_OUTCOMES)]
    for fam, counts in report["by_family"].items():
        lines.append(f"| {fam} | " + " | ".join(str(counts.get(o, 0)) for o in _OUTCOMES) + " |")
    for i, f in enumerate(report["findings"], 1):
        got = f["got"]
        lines += ["", f"## Finding {i}: {f['family']} -> {f['outcome']} ({f['target']})", "",
                  f"- broken: {f['note']}", f"- expected: {f['expected']}",
                  f"- got: {got['status'] if got['status'] is not None else got['error']} — {got['reason']}",
                  f"- shrunk from {f['original_bytes']} to {f['minimal_bytes']} bytes in {f['shrink_attempts']} attempts; "
                  f"seen {f['occurrences']} time(s)"
                  + (f"; the same payload also for {', '.join(f['also_families'])}" if f["also_families"] else ""),
                  "", "```sh", f["curl"], "```"]
    return "\n".join(lines) + "\n"


_OUTCOMES = ("rejected", "rejected_unnamed", "accepted", "server_error", "no_error_shape", "no_answer")


def summary_block(run_dir: Path) -> dict[str, Any] | None:
    """The ``malformed`` key of ``summary.json``, from ``malformed.json`` (None when absent).

    ``findings`` is a count so that a gate ``malformed.findings == 0`` reads naturally."""
    path = run_dir / "malformed.json"
    if not path.exists():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        totals = report["totals"]
    except (OSError, ValueError, KeyError, TypeError):
        return {"sent": None, "findings": None, "error": f"{path} could not be read"}
    return {**totals, "by_family": report.get("by_family", {}),
            "finding_families": sorted({f["family"] for f in report.get("findings", [])})}

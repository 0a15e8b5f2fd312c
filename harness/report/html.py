"""report.html: one self-contained file (plots inline as base64 PNG), summary first."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from harness.report import story
from harness.report.facts import Facts
from harness.report.findings import MalformedFindings

MAX_EVIDENCE_ORDERS = 50
MAX_EVIDENCE_PER_KIND = 8
MAX_EVIDENCE_ROWS = 30
DETAIL_PLOTS = (("latency", "latency percentiles over time"),
                ("errors", "error kinds over time"),
                ("backlog", "SUT pending backlog over time"),
                ("recovery", "recovery per fault"),
                ("anomalies", "anomaly counts"))

# Preferred columns per evidence part; anything else a record holds is shown after them.
EVIDENCE_PARTS = (
    ("operations", "operations on the SUT",
     ("t_s", "outcome", "http_status", "error", "sut_status", "invoice_number", "latency_ms")),
    ("requests", "requests the bureau saw", ("at", "method", "path", "request_id", "status",
                                             "faults")),
    ("bureau_invoices", "invoices at the bureau", ("invoice_number", "external_id", "status",
                                                   "total_with_tax", "committed_at", "red_for")),
)
SKIP = {"order", "order_json", "lines", "seller", "buyer", "kind", "order_id", "op_id", "worker",
        "invoke_at", "complete_at", "t_invoke_s", "t_complete_s"}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("harness.report", "templates"),
    autoescape=jinja2.select_autoescape(["html", "j2"]),
    undefined=jinja2.StrictUndefined,
)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".")
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _relative(value: Any, load_start: float | None) -> Any:
    """An epoch or RFC 3339 time as "t=12.34s" on the run's clock; other values unchanged."""
    if load_start is None or value is None:
        return value
    at: float | None = None
    if isinstance(value, (int, float)):
        at = float(value)
    elif isinstance(value, str):
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    return value if at is None else f"t={at - load_start:.3f}s"


def _table(records: list[dict[str, Any]], preferred: tuple[str, ...],
           load_start: float | None) -> tuple[list[str], list[list[str]]]:
    recs = [dict(r) for r in records[:MAX_EVIDENCE_ROWS] if isinstance(r, dict)]
    for r in recs:
        if "invoke_at" in r and load_start is not None and isinstance(r["invoke_at"], (int, float)):
            r.setdefault("t_s", r["invoke_at"] - load_start)
        if "latency_ms" not in r and isinstance(r.get("complete_at"), (int, float)) \
                and isinstance(r.get("invoke_at"), (int, float)):
            r["latency_ms"] = (r["complete_at"] - r["invoke_at"]) * 1000.0
        if isinstance(r.get("latency_ms"), float):
            r["latency_ms"] = round(r["latency_ms"], 1)  # µs digits are noise, not evidence
        for key in ("committed_at", "at"):
            if key in r:
                r[key] = _relative(r[key], load_start)
    present = {k for r in recs for k in r}
    cols = [c for c in preferred if c in present]
    cols += sorted(k for k in present if k not in cols and k not in SKIP)
    return cols, [[_cell(r.get(c)) for c in cols] for r in recs]


def evidence_view(facts: Facts, load_start: float | None) -> list[dict[str, Any]]:
    """Per anomalous order: its kinds and its records as small tables, worst kinds first."""
    order_kinds: dict[str, list[str]] = {}
    shown: list[str] = []
    for kind, ids in facts.anomalies.items():
        for i, oid in enumerate(ids):
            order_kinds.setdefault(oid, []).append(kind)
            # A few orders per kind: 64 phantoms of one cause read like one.
            if i < MAX_EVIDENCE_PER_KIND and oid not in shown:
                shown.append(oid)
    out: list[dict[str, Any]] = []
    for oid in shown[:MAX_EVIDENCE_ORDERS]:
        kinds = order_kinds[oid]
        ev = facts.evidence.get(oid) or {}
        tables = []
        for key, title, preferred in EVIDENCE_PARTS:
            cols, rows = _table(ev.get(key) or [], preferred, load_start)
            tables.append({"title": title, "columns": cols, "rows": rows})
        merchant = ev.get("merchant_record")
        mcols, mrows = _table([merchant] if isinstance(merchant, dict) else [],
                              ("status", "invoice_number", "total_with_tax"), load_start)
        tables.append({"title": "the SUT's final ledger record", "columns": mcols, "rows": mrows})
        found = ev.get("reasons")
        reasons: dict[str, Any] = found if isinstance(found, dict) else {}
        said = [str(r) for k in kinds for r in (reasons.get(k) or [])]
        hint = "; ".join(said or [story.ANOMALY_MEANING.get(k, "") for k in kinds])
        out.append({"order_id": oid, "kinds": kinds, "hint": hint, "tables": tables})
    return out


def _error_table(ops: pd.DataFrame) -> list[tuple[str, str, str]]:
    bad = ops[ops["outcome"].isin(["fail", "info"])]
    if bad.empty:
        return []
    counts = bad["error"].fillna(bad["outcome"]).astype(str).value_counts()
    total = max(len(ops), 1)
    return [(k, f"{n:,}", f"{100 * n / total:.2f}%") for k, n in counts.items()]


def _seconds(v: Any, missing: str) -> str:
    """A phase boundary to 0.1 s: the precision the run's clock and probes support."""
    return f"{float(v):.1f}" if isinstance(v, (int, float)) and v == v else missing


def _availability(phases: Any) -> list[dict[str, Any]]:
    """summary.json's availability per phase (before / during each fault / after), as text."""
    if not isinstance(phases, list):
        return []
    rows = []
    for p in phases:
        if not isinstance(p, dict):
            continue
        share = p.get("availability")
        rows.append({"phase": str(p.get("phase", "")),
                     "window": f"{_seconds(p.get('start_s'), 'start')}–{_seconds(p.get('end_s'), 'end')}",
                     "operations": f"{p.get('operations', 0):,}",
                     "availability": "–" if share is None else f"{100 * float(share):.1f}%",
                     "low": share is not None and float(share) < 0.99})
    return rows


def _run_rows(run: dict[str, Any], run_dir: Path) -> list[tuple[str, str]]:
    rows = [("directory", str(run_dir))]
    for k in ("run_id", "scenario", "seed", "backend", "sut", "sut_spec", "interrupted", "versions"):
        if k in run:
            rows.append((k, _cell(run[k])))
    proxy = (run.get("services") or {}).get("proxy")
    if isinstance(proxy, dict):  # which fault proxy ran: the embedded one or a real Toxiproxy
        rows.append(("fault proxy", _cell(proxy)))
    return rows


def render_html(facts: Facts, images: dict[str, bytes], ops: pd.DataFrame,
                run: dict[str, Any], run_dir: Path,
                malformed: list[dict[str, Any]] | None = None,
                what_went_wrong: list[str] | None = None,
                findings: MalformedFindings | None = None) -> str:
    start = run.get("load_start_at")
    load_start = float(start) if isinstance(start, (int, float)) else None
    started = (datetime.fromtimestamp(load_start, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
               if load_start else "")
    gates = sorted(facts.gates, key=lambda g: bool(g.get("passed")))
    gate_rows = [{"name": g.get("name", ""), "metric": g.get("metric", ""), "op": g.get("op", ""),
                  "threshold": story.fmt_value(g.get("threshold")),
                  "value": story.fmt_value(g.get("value")), "passed": bool(g.get("passed"))}
                 for g in gates]
    evidence = evidence_view(facts, load_start)
    shown = {e["order_id"] for e in evidence}
    hidden = {k: [o for o in ids if o not in shown] for k, ids in facts.anomalies.items()}
    hidden = {k: ids for k, ids in hidden.items() if ids}
    return _ENV.get_template("report.html.j2").render(
        f=facts, verdict=facts.verdict, verdict_line=story.verdict_line(facts),
        reasons=story.headline(facts), reasons_intro=story.REASONS_INTRO.get(facts.verdict, "Because"),
        load_line=story.load_line(facts), warnings=story.warnings(facts),
        fault_lines=[story.fault_line(x) for x in facts.faults], gates=gate_rows,
        meaning=story.ANOMALY_MEANING, window=story.window, fmt_s=story.fmt_s,
        evidence=evidence, hidden=hidden,
        hidden_count=len({o for ids in hidden.values() for o in ids}),
        img={k: base64.b64encode(v).decode("ascii") for k, v in images.items()},
        details=[(k, alt) for k, alt in DETAIL_PLOTS if k in images],
        error_table=_error_table(ops), malformed=malformed or [], findings=findings,
        what=what_went_wrong or [], hints=[story.hint_line(h) for h in facts.hints], availability=_availability(facts.availability), run_rows=_run_rows(run, run_dir),
        run_id=run.get("run_id", run_dir.name), started=started, run_dir=str(run_dir),
    )

"""Assemble ``summary.json`` (CONTRACT §4) from the recorded data of a run.

Pure: every input is data read from the run directory, so ``invoice-chaos report`` and tests
can rebuild a summary without any live service.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.checks.gates import evaluate_gates
from harness.checks.hints import hints
from harness.checks.invoices import audit_invoices
from harness.checks.recovery import drain_time, time_to_detect, time_to_recover
from harness.checks.verdict import decide, fault_reasons, gates_for, steady_state_reasons
from harness.data.responses import MALFORMED_GATES, response_breakdown

from harness.schemas.summary import SCHEMA_VERSION


@dataclass
class RunData:
    """Everything a run recorded, as plain records (see docs/run-directory.md)."""

    scenario: str
    seed: int
    seller_tax_id: str
    load_start_at: float
    load_end_at: float
    drain_end_at: float
    operations: list[dict[str, Any]]
    faults: list[dict[str, Any]]
    probes: list[dict[str, Any]]
    bureau_ledger: list[dict[str, Any]]
    bureau_requests: list[dict[str, Any]]
    sut_ledger: list[dict[str, Any]]
    gates: list[dict[str, Any]] | None = None                  # the scenario's declared gates
    compromised_reasons: list[str] = field(default_factory=list)  # doubts that keep a verdict
    unknown_reasons: list[str] = field(default_factory=list)      # why no verdict can be given
    anomaly_gates_off: tuple[str, ...] = ()                       # anomaly kinds not gated
    bureau_dedup: str = "request_id"                              # the bureau's dedup mode, for hints
    malformed: dict[str, Any] | None = None  # harness.data.report.summary_block of malformed.json


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an RFC 3339 string (or a number); None when absent or unreadable."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default) of an ascending list; 0.0 when empty."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def request_figures(ops: Sequence[Mapping[str, Any]]) -> tuple[dict[str, int], dict[str, float]]:
    counts = {"total": len(ops), "ok": 0, "fail": 0, "info": 0}
    latencies: list[float] = []
    for op in ops:
        outcome = op.get("outcome", "info")
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome in ("ok", "fail") and op.get("complete_at") is not None:
            latencies.append((op["complete_at"] - op["invoke_at"]) * 1000.0)
    latencies.sort()
    lat = {
        "p50": round(percentile(latencies, 50), 3),
        "p95": round(percentile(latencies, 95), 3),
        "p99": round(percentile(latencies, 99), 3),
        "max": round(latencies[-1], 3) if latencies else 0.0,
    }
    return counts, lat


def availability(ops: Sequence[Mapping[str, Any]], faults: Sequence[Mapping[str, Any]], load_start_at: float) -> list[dict[str, Any]]:
    """Share of operations answered ok, per phase: before the first fault, during each, after."""
    windows = sorted(
        ((f["id"], f.get("applied_at"), f.get("reverted_at")) for f in faults if f.get("applied_at")),
        key=lambda w: w[1],
    )
    phases: list[tuple[str, float, float]] = []
    if windows:
        phases.append(("before", -math.inf, windows[0][1]))
        for fid, start, end in windows:
            phases.append((f"during {fid}", start, end if end is not None else math.inf))
        last_end = max((w[2] for w in windows if w[2] is not None), default=math.inf)
        phases.append(("after", last_end, math.inf))
    else:
        phases.append(("whole run", -math.inf, math.inf))
    out = []
    for name, start, end in phases:
        sel = [op for op in ops if start <= op["invoke_at"] < end]
        ok = sum(1 for op in sel if op.get("outcome") == "ok")
        out.append({
            "phase": name,
            "start_s": None if start == -math.inf else round(start - load_start_at, 3),
            "end_s": None if end == math.inf else round(end - load_start_at, 3),
            "operations": len(sel),
            "ok": ok,
            "availability": round(ok / len(sel), 4) if sel else None,
        })
    return out


def bureau_calls(order_ids: set[str], requests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Retry amplification: bureau API calls per order placed, from the bureau's request log."""
    issues: dict[str, int] = {}
    lookups = 0
    for req in requests:
        oid = req.get("external_id")
        if oid not in order_ids:
            continue
        if req.get("method") == "POST" and req.get("path") == "/api/v1/invoices":
            issues[oid] = issues.get(oid, 0) + 1
        elif req.get("method") == "GET":
            lookups += 1
    counts = sorted(issues.values())
    n = len(order_ids)
    return {
        "issue_calls": sum(counts),
        "lookup_calls": lookups,
        "issue_calls_per_order": round(sum(counts) / n, 3) if n else None,
        "max_issue_calls_one_order": counts[-1] if counts else 0,
    }


def build_summary(run: RunData) -> dict[str, Any]:
    """Every figure of ``summary.json`` from the recorded data.

    The cyclic garbage collector is paused meanwhile: the audit makes millions of small
    containers and no cycles, and gen-2 passes over a large run's records cost a third of the
    time (bench/checks.py). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build_summary(run)
    finally:
        if was_enabled:
            gc.enable()


def _build_summary(run: RunData) -> dict[str, Any]:
    load_ops = [op for op in run.operations if op.get("kind", "issue") == "issue"]
    audit = audit_invoices(load_ops, run.bureau_ledger, run.sut_ledger, run.seller_tax_id, run.bureau_requests)
    counts, lat = request_figures(load_ops)

    order_ids = {op["order_id"] for op in load_ops}
    commit_times = sorted(
        t for inv in run.bureau_ledger
        if not inv.get("red_for") and inv.get("external_id") in order_ids
        and (t := parse_time(inv.get("committed_at"))) is not None
    )
    faults_out = []
    for f in run.faults:
        applied, reverted = f.get("applied_at"), f.get("reverted_at")
        rel = (lambda t: None if t is None else round(t - run.load_start_at, 3))
        faults_out.append({
            "id": f["id"], "kind": f["kind"], "family": f.get("family"), "target": f.get("target"),
            "start_s": rel(applied), "end_s": rel(reverted),
            "time_to_detect_s": _round(time_to_detect(applied, load_ops, reverted)) if applied else None,
            "time_to_recover_s": _round(time_to_recover(applied, reverted, commit_times, run.load_start_at, run.drain_end_at)) if applied else None,
            "drain_s": _round(drain_time(reverted, run.probes)),
        })

    unknown = [*run.unknown_reasons, *fault_reasons(run.faults),
               *steady_state_reasons(load_ops, run.faults, run.load_start_at)]
    doubts = [*unknown, *(r for r in run.compromised_reasons if r not in unknown)]
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "scenario": run.scenario,
        "seed": run.seed,
        "verdict": "unknown",
        "verdict_reasons": [],
        "compromised": bool(doubts),
        "compromised_reasons": doubts,
        "requests": counts,
        "latency_ms": lat,
        "anomalies": audit.anomalies,
        "faults": faults_out,
        "gates": [],
        "availability": availability(load_ops, run.faults, run.load_start_at),
        "bureau_calls": bureau_calls(order_ids, run.bureau_requests),
        "evidence": _evidence(audit.reasons, load_ops, run),
    }
    summary["hints"] = hints(audit.anomalies, summary["evidence"], run.bureau_dedup)
    if run.malformed is not None:
        summary["malformed"] = run.malformed
    malformed_responses = response_breakdown(load_ops, run.faults, run.bureau_requests)
    if malformed_responses:
        summary["malformed_responses"] = malformed_responses
    gates = gates_for(run.gates or [], run.anomaly_gates_off, MALFORMED_GATES if run.malformed is not None else [])
    summary["gates"] = evaluate_gates(summary, gates)
    summary["verdict"], summary["verdict_reasons"] = decide(summary["gates"], unknown)
    return summary


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _evidence(reasons: Mapping[str, Mapping[str, list[str]]], ops: Sequence[Mapping[str, Any]], run: RunData) -> dict[str, Any]:
    """Per anomalous order: why, its operations, its bureau invoices, the SUT's row, its requests."""
    wanted = set(reasons)
    by_order: dict[str, dict[str, Any]] = {
        oid: {"anomalies": sorted(reasons[oid]), "reasons": dict(reasons[oid]), "operations": [],
              "bureau_invoices": [], "merchant_record": None, "requests": []}
        for oid in wanted
    }
    for op in ops:
        if op["order_id"] in wanted:
            by_order[op["order_id"]]["operations"].append({k: v for k, v in op.items() if k != "order"})
    for inv in run.bureau_ledger:
        if inv.get("external_id") in wanted:
            by_order[inv["external_id"]]["bureau_invoices"].append(
                {k: inv.get(k) for k in ("invoice_number", "request_id", "status", "red_for", "total_with_tax", "committed_at")})
    for row in run.sut_ledger:
        if row.get("order_id") in wanted:
            by_order[row["order_id"]]["merchant_record"] = dict(row)
    for req in run.bureau_requests:
        if req.get("external_id") in wanted:
            by_order[req["external_id"]]["requests"].append(dict(req))
    for ev in by_order.values():  # each list in the order things happened
        ev["operations"].sort(key=lambda o: o.get("invoke_at") or 0.0)
        ev["bureau_invoices"].sort(key=lambda i: str(i.get("committed_at") or ""))
        ev["requests"].sort(key=lambda r: str(r.get("at") or ""))
    return by_order

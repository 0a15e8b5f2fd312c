"""A synthetic but realistic run directory, for tests, benchmarks and demos of the report.

It writes the files of docs/run-directory.md as the run engine does: a steady load, a ghost-commit
fault on the bureau that makes the SUT defer orders (202) and time out, a throughput dip, a
backlog that drains after the revert, and a few anomalies with their evidence. Everything is
derived from one seed, vectorised with numpy so that a million operations take seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.checks.invoices import ANOMALY_KINDS
from harness.schemas.summary import SCHEMA_VERSION

LOAD_START_AT = 1764420000.0
SELLER = {"tax_id": "91110108551385082Q", "name": "北京示例科技有限公司"}


@dataclass(frozen=True)
class SyntheticFault:
    id: str
    kind: str
    family: str
    target: str
    start_s: float
    end_s: float | None
    severity: float = 0.7  # share of operations hit inside the window


@dataclass(frozen=True)
class SyntheticRun:
    """The knobs of a synthetic run. ``latency_scale`` and ``recover_s`` make vendors differ."""

    n_ops: int = 3000
    duration_s: float = 60.0
    seed: int = 7
    scenario: str = "ghost-commit"
    sut: str = "reference:resilient"
    latency_scale: float = 1.0
    recover_s: float = 3.0
    defer_share: float = 0.6  # of operations hit by a ghost commit: answered 202, not 503
    anomalies: bool = True
    write_jsonl: bool = True
    faults: tuple[SyntheticFault, ...] = field(
        default_factory=lambda: (
            SyntheticFault("f1", "ghost_commit", "bureau", "bureau", 20.0, 30.0),
            SyntheticFault("f2", "latency", "network", "bureau", 42.0, 46.0, 0.3),
        )
    )


def _fault_mask(t: np.ndarray, spec: SyntheticRun) -> tuple[np.ndarray, np.ndarray]:
    """Per operation: the severity of the fault it ran under (0 outside) and its kind index."""
    sev = np.zeros(len(t))
    kind = np.full(len(t), -1)
    for i, f in enumerate(spec.faults):
        end = f.end_s if f.end_s is not None else spec.duration_s
        inside = (t >= f.start_s) & (t < end)
        sev = np.where(inside, np.maximum(sev, f.severity), sev)
        kind = np.where(inside, i, kind)
    return sev, kind


def write_run(run_dir: Path, spec: SyntheticRun | None = None) -> Path:
    """Write a complete synthetic run directory (everything but the report) and return it."""
    spec = spec or SyntheticRun()
    rng = np.random.default_rng(spec.seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    n = spec.n_ops
    t_inv = np.sort(rng.uniform(0.0, spec.duration_s, n))
    sev, kind_idx = _fault_mask(t_inv, spec)
    hit = rng.uniform(size=n) < sev
    base_lat = rng.lognormal(np.log(25.0), 0.45, n) * spec.latency_scale
    is_ghost = np.array([spec.faults[k].kind == "ghost_commit" if k >= 0 else False
                         for k in range(-1, len(spec.faults))])[kind_idx + 1] & hit
    is_slow = hit & ~is_ghost
    roll = rng.uniform(size=n)
    # Under a ghost commit: mostly deferred (202), some 503s, some client timeouts.
    outcome = np.full(n, "ok", dtype=object)
    status = np.full(n, 201.0)
    error = np.full(n, None, dtype=object)
    sut_status = np.full(n, "issued", dtype=object)
    pend = is_ghost & (roll < spec.defer_share)
    f503 = is_ghost & (roll >= spec.defer_share) & (roll < 0.85)
    tout = is_ghost & (roll >= 0.85)
    status[pend] = 202
    sut_status[pend] = "pending"
    outcome[f503] = "fail"
    status[f503] = 503
    error[f503] = "http_503"
    sut_status[f503] = None
    outcome[tout] = "info"
    status[tout] = np.nan
    error[tout] = "timeout"
    sut_status[tout] = None
    # A sprinkle of validation failures everywhere, as the load places a few invalid orders.
    bad = rng.uniform(size=n) < 0.01
    outcome[bad] = "fail"
    status[bad] = 422
    error[bad] = "http_422"
    sut_status[bad] = None
    lat = base_lat.copy()
    lat[is_ghost] *= 6.0
    lat[is_slow] += rng.uniform(200, 600, is_slow.sum()) * spec.latency_scale
    lat[tout] = 10_000.0
    t_cmp = t_inv + lat / 1000.0
    order_ids = np.char.add("ORDER-", np.char.zfill(np.arange(n).astype(str), 7))
    ops = pd.DataFrame({
        "op_id": np.char.add("w0-", np.char.zfill(np.arange(n).astype(str), 7)),
        "kind": "issue",
        "order_id": order_ids,
        "invoke_at": LOAD_START_AT + t_inv,
        "complete_at": LOAD_START_AT + t_cmp,
        "outcome": outcome,
        "http_status": pd.array(pd.Series(status).round(), dtype="Int64"),
        "error": error,
        "sut_status": sut_status,
        "invoice_number": None,
        "worker": np.char.add("w", (np.arange(n) % 4).astype(str)),
    })
    issued_now = (outcome == "ok") & (status == 201)
    ops.loc[issued_now, "invoice_number"] = [f"26110{i:015d}" for i in np.flatnonzero(issued_now)]
    # Committed at the bureau: every issued order at completion; deferred orders after the revert,
    # spread over `recover_s`; ghost-committed 503s/timeouts too (the SUT reconciles them).
    commit_t = np.where(issued_now, t_cmp, np.nan)
    deferred = pend | f503 | tout
    ends = np.array([f.end_s if f.end_s is not None else spec.duration_s for f in spec.faults])
    if deferred.any():
        k = kind_idx[deferred]
        commit_t[deferred] = ends[k] + rng.uniform(0.1, spec.recover_s, deferred.sum())
    _write_operations(run_dir, ops, order_ids, spec)
    _write_faults(run_dir, spec)
    anomalies = _anomalies(order_ids, deferred, f503, bad, rng) if spec.anomalies else {}
    _write_ledgers(run_dir, order_ids, commit_t, deferred, anomalies, spec)
    _write_probes(run_dir, commit_t, t_inv, deferred, spec)
    _write_meta(run_dir, ops, anomalies, spec, rng)
    return run_dir


def _order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "kind": "normal", "buyer": {"name": "福建示例贸易有限公司"},
            "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000",
                       "unit": "项", "quantity": "2", "unit_price": "50.00", "tax_rate": "0.06"}]}


def _write_operations(run_dir: Path, ops: pd.DataFrame, order_ids: np.ndarray,
                      spec: SyntheticRun) -> None:
    table = ops.copy()
    # The order payload is the same shape for all; a shared string keeps a big run cheap.
    table["order_json"] = json.dumps(_order("X"), ensure_ascii=False)
    table["t_invoke_s"] = table["invoke_at"] - LOAD_START_AT
    table["t_complete_s"] = table["complete_at"] - LOAD_START_AT
    table["latency_ms"] = (table["complete_at"] - table["invoke_at"]) * 1000.0
    info = table["outcome"] == "info"
    table.loc[info, ["complete_at", "t_complete_s", "latency_ms"]] = np.nan
    table.to_parquet(run_dir / "history.parquet", index=False)
    if not spec.write_jsonl:
        return
    with open(run_dir / "operations.jsonl", "w", encoding="utf-8") as fh:
        for rec in ops.to_dict("records"):
            rec = {k: (None if _isna(v) else v) for k, v in rec.items()}
            if rec["http_status"] is not None:
                rec["http_status"] = int(rec["http_status"])
            if rec["outcome"] == "info":
                rec["complete_at"] = None
            rec["order"] = _order(rec["order_id"])
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def _isna(value: object) -> bool:
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _write_faults(run_dir: Path, spec: SyntheticRun) -> None:
    with open(run_dir / "faults.jsonl", "w", encoding="utf-8") as fh:
        for f in spec.faults:
            fh.write(json.dumps({
                "id": f.id, "family": f.family, "kind": f.kind, "target": f.target, "params": {},
                "planned_start_s": f.start_s, "planned_end_s": f.end_s,
                "applied_at": LOAD_START_AT + f.start_s + 0.01,
                "reverted_at": None if f.end_s is None else LOAD_START_AT + f.end_s + 0.01,
                "start_s": f.start_s + 0.01, "end_s": None if f.end_s is None else f.end_s + 0.01,
                "error": None}) + "\n")


def _anomalies(order_ids: np.ndarray, deferred: np.ndarray, f503: np.ndarray, bad: np.ndarray,
               rng: np.random.Generator) -> dict[str, list[str]]:
    d = list(order_ids[deferred])
    rng.shuffle(d)
    return {"lost": d[:1], "duplicate": d[1:3], "phantom": list(order_ids[f503][:1]),
            "mismatch": [], "stuck": d[3:4], "unexpected": []}


def _write_ledgers(run_dir: Path, order_ids: np.ndarray, commit_t: np.ndarray,
                   deferred: np.ndarray, anomalies: dict[str, list[str]],
                   spec: SyntheticRun) -> None:
    lost = set(anomalies.get("lost", []))
    dup = set(anomalies.get("duplicate", []))
    stuck = set(anomalies.get("stuck", []))
    committed = ~np.isnan(commit_t)
    idx = np.flatnonzero(committed)
    idx = idx[np.argsort(commit_t[idx], kind="stable")]
    line = {"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
            "quantity": "2", "unit_price": "50.00", "amount": "100.00", "tax_rate": "0.06",
            "tax_amount": "6.00"}
    seq = 0
    with open(run_dir / "bureau-ledger.jsonl", "w", encoding="utf-8") as fh:
        for i in idx:
            oid = str(order_ids[i])
            if oid in lost or oid in stuck:
                continue
            for _ in range(2 if oid in dup else 1):
                seq += 1
                fh.write(json.dumps({
                    "invoice_number": f"2611{seq:016d}", "request_id": f"M1-{seq:06d}",
                    "external_id": oid, "kind": "normal", "seller": SELLER,
                    "buyer": {"name": "福建示例贸易有限公司"}, "lines": [line],
                    "total_amount": "100.00", "total_tax": "6.00", "total_with_tax": "106.00",
                    "status": "issued", "red_for": None,
                    "committed_at": LOAD_START_AT + float(commit_t[i])},
                    ensure_ascii=False) + "\n")
    invoices = []
    for i in np.flatnonzero(committed | deferred):
        oid = str(order_ids[i])
        status = "pending" if oid in stuck else "issued"
        invoices.append({"order_id": oid, "status": status, "total_with_tax": "106.00",
                         "invoice_number": None if status == "pending" else f"26{i:018d}"})
    invoices = [r for r in invoices if r["order_id"] not in set(anomalies.get("phantom", []))]
    (run_dir / "merchant-ledger.json").write_text(json.dumps({"invoices": invoices}))


def _write_probes(run_dir: Path, commit_t: np.ndarray, t_inv: np.ndarray, deferred: np.ndarray,
                  spec: SyntheticRun) -> None:
    end = spec.duration_s + spec.recover_s + 5.0
    ct = np.sort(commit_t[~np.isnan(commit_t)])
    placed = np.sort(t_inv[deferred])
    done = np.sort(np.nan_to_num(commit_t[deferred], nan=np.inf))
    seconds = np.arange(0.0, end, 1.0)
    # Vectorised: pending(s) = deferred orders placed by s minus those committed by s.
    pending = np.searchsorted(placed, seconds, side="right") - np.searchsorted(done, seconds,
                                                                                 side="right")
    committed = np.searchsorted(ct, seconds)
    with open(run_dir / "probes.jsonl", "w", encoding="utf-8") as fh:
        for s, p, c in zip(seconds, pending, committed):
            fh.write(json.dumps({"at": LOAD_START_AT + s, "t_s": float(s),
                                 "sut_pending": max(int(p), 0),
                                 "bureau_invoices": int(c)}) + "\n")


def _write_meta(run_dir: Path, ops: pd.DataFrame, anomalies: dict[str, list[str]],
                spec: SyntheticRun, rng: np.random.Generator) -> None:
    load_end = LOAD_START_AT + spec.duration_s
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": f"synthetic-{spec.seed}", "scenario": spec.scenario, "seed": spec.seed,
        "backend": "local", "sut": spec.sut, "load_start_at": LOAD_START_AT,
        "load_end_at": load_end, "drain_end_at": load_end + spec.recover_s + 5.0,
        "finished_at": load_end + spec.recover_s + 6.0, "interrupted": False,
        "versions": {"python": "3.11", "invoice-chaos": "0.1.0"}, "services": {}}, indent=1))
    answered = ops[ops["outcome"] != "info"]
    lat = (answered["complete_at"] - answered["invoke_at"]) * 1000.0
    q = lat.quantile([0.5, 0.95, 0.99]).to_list() if len(lat) else [0.0, 0.0, 0.0]
    faults = []
    for f in spec.faults:
        rec = round(float(spec.recover_s * rng.uniform(0.8, 1.2)), 2)
        faults.append({"id": f.id, "kind": f.kind, "target": f.target, "start_s": f.start_s,
                       "end_s": f.end_s, "time_to_detect_s": round(float(rng.uniform(0.05, 0.4)), 2),
                       "time_to_recover_s": rec if f.kind == "ghost_commit" else 0.0,
                       "drain_s": round(rec * 1.3, 2) if f.kind == "ghost_commit" else 0.0})
    counts = ops["outcome"].value_counts()
    gates = [{"name": f"no-{k}-invoices", "metric": f"anomalies.{k}", "op": "==", "threshold": 0,
              "value": len(v), "passed": not v} for k, v in anomalies.items()]
    gates.append({"name": "p99-latency", "metric": "latency_ms.p99", "op": "<",
                  "threshold": 2000, "value": round(q[2], 1), "passed": q[2] < 2000})
    rec_f1 = float(faults[0]["time_to_recover_s"])  # type: ignore[arg-type]
    gates.append({"name": "recovers-from-f1", "metric": "faults.f1.time_to_recover_s",
                  "op": "<=", "threshold": 5, "value": rec_f1, "passed": rec_f1 <= 5})
    evidence = {oid: _evidence(oid, [k for k, v in anomalies.items() if oid in v], ops)
                for v in anomalies.values() for oid in v}
    availability = _availability(ops, spec)
    summary = {
        "schema_version": SCHEMA_VERSION, "scenario": spec.scenario, "seed": spec.seed,
        "verdict": "pass" if all(g["passed"] for g in gates) else "fail",
        "verdict_reasons": [f"gate {g['name']} failed" for g in gates if not g["passed"]],
        "compromised": False, "compromised_reasons": [],
        "requests": {"total": int(len(ops)), "ok": int(counts.get("ok", 0)),
                     "fail": int(counts.get("fail", 0)), "info": int(counts.get("info", 0))},
        "latency_ms": {"p50": round(q[0], 2), "p95": round(q[1], 2), "p99": round(q[2], 2),
                       "max": round(float(lat.max()) if len(lat) else 0.0, 2)},
        "anomalies": {k: anomalies.get(k, []) for k in ANOMALY_KINDS},
        "faults": faults, "gates": gates, "availability": availability, "evidence": evidence,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False,
                                                     default=str))


REASONS = {
    "lost": "the SUT's ledger says issued, the bureau has no blue invoice",
    "duplicate": "2 blue invoices at the bureau for this external_id",
    "phantom": "the bureau issued an invoice; the SUT's ledger has no record of the order",
    "stuck": "still pending in the SUT's ledger after the drain period",
}


def _evidence(oid: str, kinds: list[str], ops: pd.DataFrame) -> dict[str, Any]:
    mine = ops[ops["order_id"] == oid]
    records = mine.astype(object).where(mine.notna(), None).to_dict("records")
    n_inv = {"duplicate": 2, "phantom": 1}.get(kinds[0], 0)
    at = float(records[0]["invoke_at"]) if records else LOAD_START_AT
    invoices = [{"invoice_number": f"2611{9000 + i:016d}", "request_id": f"M1-{oid[-6:]}-{i}",
                 "status": "issued", "red_for": None, "total_with_tax": "106.00",
                 "committed_at": at + 0.05 + 1.5 * i} for i in range(n_inv)]
    merchant = None if "phantom" in kinds else {
        "order_id": oid, "status": "pending" if "stuck" in kinds else "issued",
        "invoice_number": None if "stuck" in kinds else f"2611{8000:016d}",
        "total_with_tax": "106.00"}
    requests = [{"at": f"2026-11-29T12:00:{21 + i:02d}+00:00", "method": "POST",
                 "path": "/api/v1/invoices", "request_id": f"M1-{oid[-6:]}-{i}",
                 "external_id": oid, "status": 504 if i == 0 else 201,
                 "faults": ["ghost_commit"] if i == 0 else []} for i in range(max(n_inv, 1))]
    return {"anomalies": kinds, "reasons": {k: [REASONS.get(k, k)] for k in kinds},
            "operations": records, "bureau_invoices": invoices, "merchant_record": merchant,
            "requests": requests}


def _availability(ops: pd.DataFrame, spec: SyntheticRun) -> list[dict[str, Any]]:
    t = ops["invoke_at"] - LOAD_START_AT
    ok = ops["outcome"] == "ok"
    phases: list[tuple[str, float | None, float | None]] = [("before", None, spec.faults[0].start_s)]
    phases += [(f"during {f.id}", f.start_s, f.end_s) for f in spec.faults]
    phases.append(("after", spec.faults[-1].end_s, None))
    out = []
    for name, lo, hi in phases:
        sel = (t >= (lo if lo is not None else -1e18)) & (t < (hi if hi is not None else 1e18))
        n = int(sel.sum())
        out.append({"phase": name, "start_s": lo, "end_s": hi, "operations": n,
                    "ok": int((sel & ok).sum()),
                    "availability": round(float((sel & ok).sum()) / n, 4) if n else None})
    return out

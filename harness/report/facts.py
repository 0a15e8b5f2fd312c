"""The facts every report format shows, taken from summary.json and filled in where it is absent.

summary.json (CONTRACT §4) is the authority. A run interrupted before writing it still gets a
report: request counts and latency come from the operations, and per-fault detect / recover /
drain times are recomputed here with the contract's definitions from the recorded history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.checks.recovery import drain_time, time_to_recover
from harness.checks.invoices import ANOMALY_KINDS
from harness.report.rundir import RunData


@dataclass
class FaultFacts:
    id: str
    kind: str
    target: str
    start_s: float | None
    end_s: float | None
    time_to_detect_s: float | None
    time_to_recover_s: float | None
    drain_s: float | None

    @property
    def name(self) -> str:
        """Its id and kind, once when they are the same (not "down down")."""
        return self.kind if self.kind == self.id else f"{self.id} {self.kind}"

    @property
    def label(self) -> str:
        return self.name + (f" @{self.target}" if self.target else "")


@dataclass
class Facts:
    """What a reader needs first: verdict, gates, anomalies, recovery; then the figures."""

    scenario: str
    seed: Any
    sut: str
    verdict: str                      # "pass", "fail" or "unknown" (also when there is no summary.json)
    compromised: bool
    compromised_reasons: list[str]
    requests: dict[str, int]
    latency_ms: dict[str, float]
    anomalies: dict[str, list[str]]
    faults: list[FaultFacts]
    gates: list[dict[str, Any]]
    evidence: dict[str, Any]
    availability: Any
    missing: list[str] = field(default_factory=list)
    verdict_reasons: list[str] = field(default_factory=list)  # why fail or unknown, first
    audited: bool = True              # False: no summary.json, the run ended before its audit
    hints: list[dict[str, Any]] = field(default_factory=list)  # likely causes (harness.checks.hints)
    interrupted: bool = False
    fault_errors: list[str] = field(default_factory=list)  # faults that failed to apply
    problems: list[str] = field(default_factory=list)      # parts of the report that failed

    @property
    def failed_gates(self) -> list[dict[str, Any]]:
        return [g for g in self.gates if not g.get("passed")]

    @property
    def anomaly_total(self) -> int:
        return sum(len(v) for v in self.anomalies.values())


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None


def detect_s(ops: pd.DataFrame, start: float, end: float | None = None) -> float | None:
    """Vectorised ``harness.checks.recovery.time_to_detect`` over relative times."""
    inside = ops["t_invoke_s"] >= start
    if end is not None:
        inside &= ops["t_invoke_s"] <= end
    after = ops[inside]
    bad = after[after["http_status"].ne(201) | after["http_status"].isna()]
    if bad.empty:
        return None
    first = bad.loc[bad["t_invoke_s"].idxmin()]
    known = first["t_complete_s"] if first["t_complete_s"] == first["t_complete_s"] \
        else first["t_invoke_s"]
    return max(0.0, float(known) - start)


def recover_s(commits: np.ndarray, start: float, end: float, horizon: float) -> float | None:
    # Relative times throughout: the load starts at 0.
    return time_to_recover(start, end, commits.tolist(), 0.0, horizon)


def drain_s(probes: pd.DataFrame, end: float) -> float | None:
    rows = probes.rename(columns={"t_s": "at"})[["at", "sut_pending"]].to_dict("records")
    return drain_time(end, rows)


def _fault_facts(data: RunData, horizon: float) -> list[FaultFacts]:
    listed = data.summary.get("faults")
    by_id = {str(f.get("id")): f for f in (listed if isinstance(listed, list) else [])
             if isinstance(f, dict)}
    rows: list[FaultFacts] = []
    seen: set[str] = set()
    for rec in data.faults.to_dict("records"):
        fid = str(rec.get("id") or f"f{len(rows) + 1}")
        seen.add(fid)
        s = by_id.get(fid, {})
        start, end = _num(rec.get("start_s")), _num(rec.get("end_s"))
        det = _num(s["time_to_detect_s"]) if "time_to_detect_s" in s else (
            detect_s(data.load_ops, start, end) if start is not None else None)
        rec_s = _num(s["time_to_recover_s"]) if "time_to_recover_s" in s else (
            recover_s(data.commits_s, start, end, horizon)
            if start is not None and end is not None else None)
        dr = _num(s["drain_s"]) if "drain_s" in s else (
            drain_s(data.probes, end) if end is not None else None)
        rows.append(FaultFacts(fid, str(rec.get("kind") or s.get("kind") or "?"),
                               str(rec.get("target") or s.get("target") or ""),
                               start, end, det, rec_s, dr))
    for fid, s in by_id.items():  # in the summary but not in faults.jsonl
        if fid not in seen:
            rows.append(FaultFacts(fid, str(s.get("kind", "?")), str(s.get("target", "")),
                                   _num(s.get("start_s")), _num(s.get("end_s")),
                                   _num(s.get("time_to_detect_s")),
                                   _num(s.get("time_to_recover_s")), _num(s.get("drain_s"))))
    return rows


def _requests(ops: pd.DataFrame) -> dict[str, int]:
    counts = ops["outcome"].value_counts()
    return {"total": int(len(ops)), **{k: int(counts.get(k, 0)) for k in ("ok", "fail", "info")}}


def _latency(ops: pd.DataFrame) -> dict[str, float]:
    lat = ops["latency_ms"].dropna()
    if lat.empty:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    q = lat.quantile([0.5, 0.95, 0.99])
    return {"p50": float(q.iloc[0]), "p95": float(q.iloc[1]), "p99": float(q.iloc[2]),
            "max": float(lat.max())}


def build_facts(data: RunData, horizon: float) -> Facts:
    s = data.summary
    found = s.get("anomalies")
    lists: dict[str, Any] = found if isinstance(found, dict) else {}
    anomalies = {k: [str(o) for o in lists.get(k) or [] if isinstance(lists.get(k), list)]
                 for k in ANOMALY_KINDS}
    for k, v in lists.items():
        if k not in anomalies and isinstance(v, list):
            anomalies[k] = [str(o) for o in v]
    audited = bool(s.get("verdict"))
    verdict = str(s.get("verdict") or "unknown")
    reasons = [str(r) for r in s.get("verdict_reasons") or []] if audited else [
        "the run ended before its audit (no summary.json: the harness was interrupted, killed or crashed); "
        "the figures below come from what was recorded"]
    return Facts(
        scenario=str(s.get("scenario") or data.run.get("scenario") or data.run_dir.name),
        seed=s.get("seed", data.run.get("seed")),
        sut=str(data.run.get("sut") or ""),
        verdict=verdict,
        compromised=bool(s.get("compromised")),
        compromised_reasons=[str(r) for r in s.get("compromised_reasons") or []],
        requests=s["requests"] if isinstance(s.get("requests"), dict)
        else _requests(data.load_ops),
        latency_ms=s["latency_ms"] if isinstance(s.get("latency_ms"), dict)
        else _latency(data.load_ops),
        anomalies=anomalies,
        faults=_fault_facts(data, horizon),
        gates=[g for g in (s["gates"] if isinstance(s.get("gates"), list) else [])
               if isinstance(g, dict)],
        evidence=s["evidence"] if isinstance(s.get("evidence"), dict) else {},
        availability=s.get("availability"),
        missing=list(data.missing),
        verdict_reasons=reasons, audited=audited,
        hints=[h for h in s.get("hints") or [] if isinstance(h, dict) and h.get("hint")],
        fault_errors=[f"{r.get('id')} {r.get('kind')}: {r.get('error')}"
                      for r in data.faults.to_dict("records")
                      if isinstance(r.get("error"), str) and r.get("error")],
        interrupted=bool(data.run.get("interrupted")),
    )

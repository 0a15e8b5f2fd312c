"""Compare runs: vendors side by side (a ranked table) and a build against a baseline.

A RUN_DIR is either one run directory or a directory of repeats (``repeat-1/``, ``repeat-2/``,
... as ``run --repeat N`` writes them); every metric is computed per repeat.

Metrics (all "lower is better"):

- ``anomalies``: anomalous orders (all kinds) — correctness first;
- ``recover_s`` / ``drain_s``: mean over the run's faults of time to recover issuance / to drain
  the backlog. A fault that never recovered counts as the time observed after its revert (a
  lower bound, marked "censored");
- ``error_rate`` / ``info_rate``: failed / indeterminate share of the load's operations;
- ``p50_ms`` / ``p95_ms`` / ``p99_ms``: latency percentiles of answered operations.

Ranking sorts by the ``rank_by`` metrics in order (ties fall to the next), means over repeats.
A regression is significant when the (1 − alpha) bootstrap interval of candidate − baseline lies
above zero and the change is at least ``min_change`` of the baseline; anomalies are a question
of correctness, not of noise: any anomaly where the baseline had none in every repeat is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.errors import InputError
from harness.report import bootstrap, frames
from harness.report.facts import Facts, build_facts
from harness.report.rundir import RunData, load_run

METRICS: dict[str, str] = {
    "anomalies": "anomalous orders",
    "recover_s": "time to recover issuance (s, mean over faults)",
    "drain_s": "time to drain the backlog (s, mean over faults)",
    "error_rate": "failed share of operations",
    "info_rate": "indeterminate share of operations",
    "p50_ms": "latency p50 (ms)",
    "p95_ms": "latency p95 (ms)",
    "p99_ms": "latency p99 (ms)",
}
DEFAULT_RANK_BY = ("anomalies", "error_rate", "recover_s", "p99_ms")
QUANTILES = {"p50_ms": 0.5, "p95_ms": 0.95, "p99_ms": 0.99}
RUN_MARKERS = ("run.json", "summary.json", "history.parquet", "operations.jsonl")


@dataclass
class Repeat:
    """One repeat, reduced to what comparing needs (a whole run's frames would not fit in
    memory for several million-operation runs at once)."""

    facts: Facts
    latency_ms: np.ndarray                         # answered operations
    failed: np.ndarray                             # 1.0 per failed operation, else 0.0
    indeterminate: np.ndarray                      # 1.0 per indeterminate operation
    commits_s: np.ndarray                          # for the issuance timeline
    span_s: float
    values: dict[str, float]                       # METRICS, one value per repeat
    faults: dict[str, dict[str, float]]            # fault id -> {"recover_s", "drain_s"}
    censored: bool = False


@dataclass
class RunSet:
    """One RUN_DIR: a run, or its repeats."""

    path: Path
    label: str
    repeats: list[Repeat] = field(default_factory=list)

    def values(self, metric: str) -> list[float]:
        return [r.values[metric] for r in self.repeats if r.values[metric] == r.values[metric]]

    def mean(self, metric: str) -> float:
        v = self.values(metric)
        return float(np.mean(v)) if v else float("nan")

    @property
    def censored(self) -> bool:
        return any(r.censored for r in self.repeats)


def _is_run(path: Path) -> bool:
    return any((path / m).exists() for m in RUN_MARKERS)


def repeat_dirs(path: Path) -> list[Path]:
    """The run directories under a RUN_DIR: its ``repeat-N`` subdirectories, or itself."""
    if not path.is_dir():
        raise InputError(f"{path}: no such run directory")
    reps = sorted((p for p in path.glob("repeat-*") if p.is_dir() and _is_run(p)),
                  key=lambda p: int(p.name.split("-", 1)[1]) if p.name.split("-", 1)[1].isdigit()
                  else 0)
    if reps:
        return reps
    if _is_run(path):
        return [path]
    raise InputError(f"{path}: not a run directory (none of {', '.join(RUN_MARKERS)}) and no "
                     "repeat-N/ subdirectories holding one")


def _fault_value(v: float | None, span: float, end: float | None) -> tuple[float, bool]:
    if v is not None:
        return v, False
    return max(span - (end or 0.0), 0.0), True  # never: censored at the end of observation


def measure(data: RunData) -> Repeat:
    span = frames.span_s(data)
    facts = build_facts(data, span)
    ops = data.load_ops
    lat = ops["latency_ms"].dropna().to_numpy()
    n = max(len(ops), 1)
    values = {
        "anomalies": float(facts.anomaly_total),
        "error_rate": float((ops["outcome"] == "fail").sum()) / n if len(ops) else float("nan"),
        "info_rate": float((ops["outcome"] == "info").sum()) / n if len(ops) else float("nan"),
    }
    for name, q in QUANTILES.items():
        values[name] = float(np.quantile(lat, q)) if len(lat) else float(
            facts.latency_ms.get(name.removesuffix("_ms"), float("nan")))
    faults: dict[str, dict[str, float]] = {}
    censored = False
    for f in facts.faults:
        rec, c1 = _fault_value(f.time_to_recover_s, span, f.end_s)
        dr, c2 = _fault_value(f.drain_s, span, f.end_s)
        faults[f.id] = {"recover_s": rec, "drain_s": dr}
        censored = censored or c1 or c2
    for m in ("recover_s", "drain_s"):
        vals = [v[m] for v in faults.values()]
        values[m] = float(np.mean(vals)) if vals else 0.0
    outcome = ops["outcome"]
    return Repeat(facts, lat.astype(float), (outcome == "fail").to_numpy(dtype=float),
                  (outcome == "info").to_numpy(dtype=float), data.commits_s, span, values,
                  faults, censored)


def load_set(path: Path) -> RunSet:
    repeats = [measure(load_run(p)) for p in repeat_dirs(path)]
    sut = repeats[0].facts.sut if repeats else ""
    label = sut if sut and all(r.facts.sut == sut for r in repeats) else path.name
    return RunSet(path, label, repeats)


def distinct_labels(sets: list[RunSet]) -> None:
    """Two sets with the same SUT label (e.g. two builds) fall back to their directory names."""
    labels = [s.label for s in sets]
    for s in sets:
        if labels.count(s.label) > 1:
            s.label = f"{s.label} ({s.path.name})"


def rank(sets: list[RunSet], rank_by: tuple[str, ...]) -> list[RunSet]:
    for m in rank_by:
        if m not in METRICS:
            raise InputError(f"--rank-by: unknown metric {m!r}; choose from {', '.join(METRICS)}")

    def key(s: RunSet) -> tuple[float, ...]:
        return tuple(np.inf if s.mean(m) != s.mean(m) else s.mean(m) for m in rank_by)

    return sorted(sets, key=key)


def mismatches(sets: list[RunSet]) -> list[str]:
    """Why a comparison may be unfair: different scenarios, seeds, or compromised figures."""
    out: list[str] = []
    scenarios = {s.label: sorted({r.facts.scenario for r in s.repeats}) for s in sets}
    if len({tuple(v) for v in scenarios.values()}) > 1:
        out.append("the run sets ran different scenarios: " + "; ".join(
            f"{k}: {', '.join(v)}" for k, v in scenarios.items()))
    seeds = {s.label: [str(r.facts.seed) for r in s.repeats] for s in sets}
    if len({tuple(v) for v in seeds.values()}) > 1:
        out.append("the run sets used different seeds (so different orders and fault draws): "
                   + "; ".join(f"{k}: {', '.join(v)}" for k, v in seeds.items()))
    for s in sets:
        bad = sum(r.facts.compromised for r in s.repeats)
        if bad:
            out.append(f"{s.label}: {bad} of {len(s.repeats)} repeats have compromised figures "
                       "(the load fell behind or the machine saturated)")
    return out


@dataclass(frozen=True)
class Comparison:
    metric: str
    baseline: float
    candidate: float
    interval: bootstrap.Interval | None
    regression: bool
    improvement: bool
    note: str = ""

    @property
    def relative(self) -> float | None:
        if self.baseline == 0 or self.baseline != self.baseline:
            return None
        return (self.candidate - self.baseline) / abs(self.baseline)


def _judge(metric: str, base: float, cand: float, iv: bootstrap.Interval | None,
           min_change: float, note: str = "") -> Comparison:
    rel_ok = base == 0 or abs(cand - base) >= min_change * abs(base)
    reg = bool(iv is not None and iv.low > 0 and rel_ok)
    imp = bool(iv is not None and iv.high < 0 and rel_ok)
    if iv is None and not note:
        note = "not testable: needs data (or ≥2 repeats) on both sides"
    return Comparison(metric, base, cand, iv, reg, imp, note)


def _samples(s: RunSet, metric: str) -> list[np.ndarray]:
    if metric in QUANTILES:
        return [r.latency_ms for r in s.repeats]
    return [r.failed if metric == "error_rate" else r.indeterminate for r in s.repeats]


def regressions(base: RunSet, cand: RunSet, *, alpha: float, min_change: float,
                n_boot: int = 2000, seed: int = 0) -> list[Comparison]:
    """Every metric of ``cand`` against ``base``, with bootstrap intervals where testable."""
    out: list[Comparison] = []
    b_anom, c_anom = base.values("anomalies"), cand.values("anomalies")
    new_anomalies = bool(b_anom) and max(b_anom) == 0 and sum(c_anom) > 0
    out.append(Comparison("anomalies", base.mean("anomalies"), cand.mean("anomalies"), None,
                          new_anomalies, False,
                          "anomalies where the baseline had none" if new_anomalies else
                          "correctness: compared as counts, not by bootstrap"))
    for metric in ("error_rate", "info_rate", *QUANTILES):
        q = QUANTILES.get(metric)
        stat = ((lambda a, q=q: np.quantile(a, q, axis=1)) if q is not None
                else (lambda a: a.mean(axis=1)))
        iv = bootstrap.diff_interval(_samples(base, metric), _samples(cand, metric), stat,
                                     alpha=alpha, n_boot=n_boot, seed=seed)
        out.append(_judge(metric, base.mean(metric), cand.mean(metric), iv, min_change))
    fault_ids = [f for f in base.repeats[0].faults if all(f in r.faults for r in base.repeats)
                 and all(f in r.faults for r in cand.repeats)] if base.repeats else []
    for fid in fault_ids:
        for m in ("recover_s", "drain_s"):
            bv = [r.faults[fid][m] for r in base.repeats]
            cv = [r.faults[fid][m] for r in cand.repeats]
            iv = bootstrap.mean_diff_interval(bv, cv, alpha=alpha, n_boot=n_boot, seed=seed)
            out.append(_judge(f"faults.{fid}.{m}", float(np.mean(bv)), float(np.mean(cv)), iv,
                              min_change))
    return out

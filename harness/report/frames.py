"""pandas frames the plots and tables are drawn from, binned over the run's timeline.

All times are seconds from the start of the load. One bin width is chosen per run so a plot has
at most a few hundred bars whatever the run's length; rates are per second whatever the width.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harness.checks.invoices import ANOMALY_KINDS
from harness.report.rundir import RunData

NICE_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MAX_BINS = 240
TOP_ERROR_KINDS = 7


def span_s(data: RunData) -> float:
    """The length of the timeline to draw: load, drain, faults and probes all fit in it."""
    ends = [0.0]
    for col in ("t_complete_s", "t_invoke_s"):
        if len(data.ops):
            v = data.ops[col].max()
            if v == v:
                ends.append(float(v))
    for v in (data.load_end_s, *data.faults["end_s"].dropna(), *data.faults["start_s"].dropna()):
        if v is not None and v == v:
            ends.append(float(v))
    if len(data.probes):
        ends.append(float(data.probes["t_s"].max()))
    return max(max(ends), 1.0)


def bin_width(span: float) -> float:
    if span <= 40:
        return 0.5  # a short smoke run still shows the shape of a few-second fault
    for w in NICE_WIDTHS:
        if span / w <= MAX_BINS:
            return float(w)
    return float(math.ceil(span / MAX_BINS))


def _bins(t: pd.Series | np.ndarray, width: float) -> np.ndarray:
    return (np.floor(np.asarray(t, dtype=float) / width) * width)


def _index(span: float, width: float) -> pd.Index:
    return pd.Index(np.arange(0.0, max(span, width) + width / 2, width), name="t_s")


def throughput(data: RunData, width: float, span: float) -> pd.DataFrame:
    """Operations per second by outcome, binned by completion (invocation when never answered).

    ``ok`` is split into ``issued`` (201) and ``deferred`` (202): a SUT that defers under a fault
    looks healthy by outcome alone.
    """
    ops = data.load_ops
    t = ops["t_complete_s"].fillna(ops["t_invoke_s"])
    outcome = ops["outcome"].where(ops["outcome"] != "ok",
                                   np.where(ops["http_status"] == 202, "deferred", "issued"))
    frame = pd.DataFrame({"bin": _bins(t, width), "outcome": outcome})
    counts = frame.groupby(["bin", "outcome"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=["issued", "deferred", "fail", "info"], fill_value=0)
    return counts.reindex(_index(span, width), fill_value=0).astype(float) / width


def commit_rate(data: RunData, width: float, span: float) -> pd.Series:
    """Blue invoices committed at the bureau per second: real issuance, the recovery measure."""
    return rate(data.commits_s, width, span)


def rate(times: np.ndarray, width: float, span: float) -> pd.Series:
    """Events per second in bins of ``width`` over [0, span]."""
    s = (pd.Series(1, index=_bins(times, width)).groupby(level=0).size() if len(times)
         else pd.Series(dtype=float))
    return s.reindex(_index(span, width), fill_value=0).astype(float) / width


def latency(data: RunData, width: float, span: float) -> pd.DataFrame:
    """p50 / p95 / p99 latency (ms) of answered operations, binned by invocation time."""
    ops = data.load_ops[data.load_ops["latency_ms"].notna()]
    cols = ["p50", "p95", "p99"]
    if ops.empty:
        return pd.DataFrame(columns=cols, index=_index(span, width), dtype=float)
    grouped = ops["latency_ms"].groupby(_bins(ops["t_invoke_s"], width))
    q = grouped.quantile([0.5, 0.95, 0.99]).unstack()
    q.columns = cols
    return q.reindex(_index(span, width))


def error_kinds(data: RunData, width: float, span: float) -> pd.DataFrame:
    """Failed and indeterminate operations per second by error kind; rare kinds as "other"."""
    bad = data.load_ops[data.load_ops["outcome"].isin(["fail", "info"])]
    if bad.empty:
        return pd.DataFrame(index=_index(span, width), dtype=float)
    kind = bad["error"].fillna(bad["outcome"]).astype(str)
    top = kind.value_counts().index[:TOP_ERROR_KINDS]
    kind = kind.where(kind.isin(top), "other")
    frame = pd.DataFrame({"bin": _bins(bad["t_invoke_s"], width), "kind": kind})
    counts = frame.groupby(["bin", "kind"]).size().unstack(fill_value=0)
    order = [k for k in top if k in counts.columns] + (["other"] if "other" in counts else [])
    return counts[order].reindex(_index(span, width), fill_value=0).astype(float) / width


def malformed(data: RunData) -> pd.DataFrame:
    """The malformed-data phase by answer: every malformed order must be refused with a 4xx.

    Columns: answer (``http_422``, ``timeout``, ...), operations, accepted (answered 201/202:
    the SUT took an order it must have refused).
    """
    ops = data.ops[data.ops["kind"] == "malformed"] if len(data.ops) else data.ops
    if ops.empty:
        return pd.DataFrame(columns=["answer", "operations", "accepted"])
    status = ops["http_status"]
    answer = ops["error"].where(ops["error"].notna(),
                                status.map(lambda s: f"http_{int(s)}" if s == s else "none"))
    accepted = status.isin([201, 202])
    out = pd.DataFrame({"answer": answer.astype(str), "accepted": accepted})
    table = out.groupby("answer").agg(operations=("accepted", "size"),
                                      accepted=("accepted", "any")).reset_index()
    return table.sort_values(["accepted", "operations"], ascending=False)


def anomalies(data: RunData) -> pd.DataFrame:
    """One row per (kind, order_id) from summary.json's anomaly lists."""
    lists = data.summary.get("anomalies") or {}
    rows = [(k, str(oid)) for k in ANOMALY_KINDS for oid in (lists.get(k) or [])]
    rows += [(k, str(oid)) for k, v in lists.items() if k not in ANOMALY_KINDS for oid in v or []]
    return pd.DataFrame(rows, columns=["kind", "order_id"])


def anomaly_counts(data: RunData) -> pd.Series:
    frame = anomalies(data)
    counts = frame.groupby("kind").size() if len(frame) else pd.Series(dtype=int)
    kinds = list(ANOMALY_KINDS) + [k for k in counts.index if k not in ANOMALY_KINDS]
    return counts.reindex(kinds, fill_value=0).astype(int)

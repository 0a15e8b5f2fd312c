"""Which fault window each anomalous order was placed in, so the report can say "how".

An order is attributed to the fault whose window holds its first invocation; orders placed
outside every window are attributed to none. It is a correlation the reader can check against
the evidence, not a proof of cause.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.report.facts import Facts
from harness.report.rundir import RunData
from harness.report.story import ANOMALY_MEANING

OUTSIDE = "outside every fault window"


@dataclass(frozen=True)
class KindSummary:
    kind: str
    count: int
    windows: list[tuple[str, int]]   # (fault label or OUTSIDE, orders), most first
    example: str                      # one order and the checker's reason for it
    first_s: list[float]              # first invocation of each order placed (for plots)


def first_invocations(data: RunData, order_ids: set[str]) -> pd.Series:
    """order_id -> first invocation (s from load start), for the given orders."""
    if not order_ids or data.ops.empty:
        return pd.Series(dtype=float)
    ops = data.ops[data.ops["order_id"].isin(order_ids)]
    return ops.groupby("order_id")["t_invoke_s"].min()


def _window(t: float, facts: Facts) -> str:
    for f in facts.faults:
        if f.start_s is None:
            continue
        end = f.end_s if f.end_s is not None else float("inf")
        if f.start_s <= t < end:
            return f.name  # "down", not "down down"
    return OUTSIDE


def _example(oid: str, kind: str, facts: Facts) -> str:
    ev = facts.evidence.get(oid)
    reasons = ev.get("reasons") if isinstance(ev, dict) else None
    said = reasons.get(kind) if isinstance(reasons, dict) else None
    reason = str(said[0]) if isinstance(said, list) and said else ANOMALY_MEANING.get(kind, kind)
    return f"{oid}: {reason}"


def summarise(data: RunData, facts: Facts) -> list[KindSummary]:
    wanted = {o for ids in facts.anomalies.values() for o in ids}
    first = first_invocations(data, wanted)
    out: list[KindSummary] = []
    for kind, ids in facts.anomalies.items():
        if not ids:
            continue
        counts: dict[str, int] = {}
        times: list[float] = []
        for oid in ids:
            t = first.get(oid)
            label = _window(float(t), facts) if t is not None and t == t else "no operation recorded"
            counts[label] = counts.get(label, 0) + 1
            if t is not None and t == t:
                times.append(float(t))
        windows = sorted(counts.items(), key=lambda kv: -kv[1])
        out.append(KindSummary(kind, len(ids), windows, _example(ids[0], kind, facts), times))
    return out


def line(s: KindSummary) -> str:
    plain = (OUTSIDE, "no operation recorded")
    where = ", ".join(f"{n} {label}" if label in plain else f"{n} placed during {label}"
                      for label, n in s.windows)
    return f"{s.count} {s.kind} ({where}). Example — {s.example}"

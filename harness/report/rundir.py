"""Read a run directory (docs/run-directory.md) into typed, tolerant pieces.

Every file is optional: a run interrupted early has only some of them, and the report must still
say what it can. Readers return empty frames with the right columns instead of raising, and
``RunData.missing`` lists what was absent so the report can say the run is partial.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from harness.history import read_jsonl
from harness.history import read_operations as read_operation_records

OP_COLUMNS = ["op_id", "kind", "order_id", "outcome", "http_status", "error", "sut_status",
              "t_invoke_s", "t_complete_s", "latency_ms"]
FAULT_COLUMNS = ["id", "family", "kind", "target", "start_s", "end_s", "error"]
PROBE_COLUMNS = ["t_s", "sut_pending", "bureau_invoices", "machine_cpu"]  # cpu: optional


@dataclass
class RunData:
    """Everything the report reads, already relative to the start of the load (seconds)."""

    run_dir: Path
    run: dict[str, Any]
    summary: dict[str, Any]
    ops: pd.DataFrame            # OP_COLUMNS; latency_ms NaN for indeterminate operations
    faults: pd.DataFrame         # FAULT_COLUMNS; end_s NaN when never reverted
    probes: pd.DataFrame         # PROBE_COLUMNS
    commits_s: np.ndarray        # commit times of this run's blue invoices at the bureau
    missing: list[str] = field(default_factory=list)

    @property
    def load_ops(self) -> pd.DataFrame:
        """The load's operations: what CONTRACT §4 counts (the malformed phase is apart)."""
        if self.ops.empty:
            return self.ops
        return self.ops[self.ops["kind"].fillna("issue") != "malformed"]

    @property
    def load_end_s(self) -> float | None:
        start, end = self.run.get("load_start_at"), self.run.get("load_end_at")
        if isinstance(start, (int, float)) and isinstance(end, (int, float)):
            return float(end) - float(start)
        return None


def _records(path: Path) -> list[dict[str, Any]]:
    """JSON lines that are objects; anything else (a torn or foreign line) is skipped."""
    return [r for r in read_jsonl(path) if isinstance(r, dict)]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ops_from_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    names = set(pq.read_schema(path).names)
    # Never read order_json: it is the biggest column and the report does not need it.
    want = [c for c in OP_COLUMNS + ["invoke_at", "complete_at"] if c in names]
    return pd.read_parquet(path, columns=want)


def _ops_from_jsonl(run_dir: Path) -> pd.DataFrame:
    rows = read_operation_records(run_dir)
    for r in rows:
        r.pop("order", None)
    return pd.DataFrame(rows)


def _normalise_ops(df: pd.DataFrame, start: float) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col in ("op_id", "kind", "order_id", "outcome", "error", "sut_status"):
        out[col] = df[col].astype(object) if col in df else None
    out["http_status"] = (pd.to_numeric(df["http_status"], errors="coerce").astype("float64")
                          if "http_status" in df else np.nan)
    if "t_invoke_s" in df:
        out["t_invoke_s"] = pd.to_numeric(df["t_invoke_s"], errors="coerce")
    else:
        out["t_invoke_s"] = pd.to_numeric(df.get("invoke_at"), errors="coerce") - start
    if "t_complete_s" in df:
        out["t_complete_s"] = pd.to_numeric(df["t_complete_s"], errors="coerce")
    elif "complete_at" in df:
        out["t_complete_s"] = pd.to_numeric(df["complete_at"], errors="coerce") - start
    else:
        out["t_complete_s"] = np.nan
    if "latency_ms" in df:
        out["latency_ms"] = pd.to_numeric(df["latency_ms"], errors="coerce")
    else:
        out["latency_ms"] = (out["t_complete_s"] - out["t_invoke_s"]) * 1000.0
    # CONTRACT §4: latency is over answered (ok and fail) operations only.
    out.loc[out["outcome"] == "info", "latency_ms"] = np.nan
    return out.reset_index(drop=True)


def read_operations(run_dir: Path, start: float | None) -> tuple[pd.DataFrame, float]:
    """Operations from history.parquet (complete runs) or operations.jsonl (interrupted runs).

    Returns the frame and the load start used (the first invocation when run.json lacks it).
    """
    parquet = run_dir / "history.parquet"
    raw: pd.DataFrame | None = None
    if parquet.exists():
        try:
            raw = _ops_from_parquet(parquet)
        except Exception:  # a torn Parquet file from a crash: fall back to the JSON lines
            raw = None
    if raw is None and any(run_dir.glob("operations*.jsonl")):
        raw = _ops_from_jsonl(run_dir)
    if raw is None or raw.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="float64" if c.startswith(("t_", "lat", "http"))
                                           else object) for c in OP_COLUMNS})
        return empty, start or 0.0
    if start is None:
        first = pd.to_numeric(raw["invoke_at"], errors="coerce").min() if "invoke_at" in raw \
            else 0.0
        start = float(first) if first == first else 0.0
    return _normalise_ops(raw, start), start


def read_faults(run_dir: Path) -> pd.DataFrame:
    rows = _records(run_dir / "faults.jsonl")
    df = pd.DataFrame(rows, columns=FAULT_COLUMNS) if rows else pd.DataFrame(columns=FAULT_COLUMNS)
    for col in ("start_s", "end_s"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    df["id"] = df["id"].fillna("").astype(object)
    return df.astype({"kind": object, "target": object, "family": object})


def read_probes(run_dir: Path) -> pd.DataFrame:
    rows = _records(run_dir / "probes.jsonl")
    df = pd.DataFrame(rows, columns=PROBE_COLUMNS) if rows else pd.DataFrame(columns=PROBE_COLUMNS)
    return df.apply(pd.to_numeric, errors="coerce").astype("float64")


def _epoch(values: pd.Series) -> np.ndarray:
    """committed_at as epoch seconds, whether stored as numbers or RFC 3339 strings."""
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().any() or values.isna().all():
        return np.asarray(num.to_numpy(dtype=float))
    dt = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return np.asarray(dt.map(lambda d: d.timestamp() if d == d else np.nan).to_numpy(dtype=float))


def _ledger_table(path: Path) -> Any:
    """The three ledger columns the report needs, as a pyarrow table; None when unreadable.

    An explicit schema lets pyarrow skip building the rest of each invoice (lines, parties),
    which is most of the file; committed_at may be a number or an RFC 3339 string.
    """
    import pyarrow as pa
    import pyarrow.json as pj

    for at_type in (pa.float64(), pa.string()):
        schema = pa.schema([("committed_at", at_type), ("external_id", pa.string()),
                            ("red_for", pa.string())])
        opts = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
        try:
            return pj.read_json(path, parse_options=opts)
        except Exception:  # wrong type guess, mixed types or a torn line: try the next way
            continue
    return None


def read_commits(run_dir: Path, start: float, order_ids: pd.Series | None = None) -> np.ndarray:
    """Commit times (s from load start) of this run's blue invoices at the bureau, sorted.

    "This run's" means an ``external_id`` the load placed, as the recovery figure counts them;
    without operations every blue invoice counts.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    path = run_dir / "bureau-ledger.jsonl"
    if not path.exists():
        return np.empty(0)
    table = _ledger_table(path)
    if table is None:  # the slow, tolerant path
        rows = pd.DataFrame([{k: r.get(k) for k in ("committed_at", "external_id", "red_for")}
                             for r in _records(path)],
                            columns=["committed_at", "external_id", "red_for"])
        mask = rows["red_for"].isna()
        if order_ids is not None and len(order_ids):
            mask &= rows["external_id"].isin(set(order_ids.dropna()))
        at = _epoch(rows.loc[mask, "committed_at"].astype(object)) - start
        return np.sort(at[~np.isnan(at)])
    if table.num_rows == 0:
        return np.empty(0)
    keep = pc.is_null(table.column("red_for"))
    if order_ids is not None and len(order_ids):
        wanted = pa.array(order_ids.dropna().astype(str).to_numpy(dtype=object), pa.string())
        ext = pc.cast(table.column("external_id"), pa.string())
        keep = pc.and_(keep, pc.fill_null(pc.is_in(ext, value_set=wanted), False))
    at_col = table.column("committed_at").filter(keep).to_pandas()
    at = _epoch(at_col) - start
    return np.sort(at[~np.isnan(at)])


def load_run(run_dir: Path) -> RunData:
    """Read everything a run directory holds; never raises for missing or torn files."""
    missing = [name for name in ("run.json", "summary.json", "faults.jsonl", "probes.jsonl",
                                 "bureau-ledger.jsonl")
               if not (run_dir / name).exists()]
    if not (run_dir / "history.parquet").exists() and not (run_dir / "operations.jsonl").exists():
        missing.append("operations.jsonl")
    run = _read_json(run_dir / "run.json") or {}
    summary = _read_json(run_dir / "summary.json") or {}
    start_v = run.get("load_start_at")
    start = float(start_v) if isinstance(start_v, (int, float)) else None
    ops, start = read_operations(run_dir, start)
    return RunData(run_dir=run_dir, run=run, summary=summary, ops=ops,
                   faults=read_faults(run_dir), probes=read_probes(run_dir),
                   commits_s=read_commits(run_dir, start, ops["order_id"]), missing=missing)

"""Collect what a run produced: both ledgers, the bureau's request log, and the history table.

Each read is bounded by a deadline and tolerant of a dead service: what cannot be read is
reported (and makes the figures compromised), never a reason to lose what was collected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from harness.history import read_operations


async def fetch_ndjson(client: httpx.AsyncClient, url: str) -> list[dict[str, Any]]:
    resp = await client.get(url, timeout=60.0)
    resp.raise_for_status()
    out = []
    for line in resp.text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


async def collect_bureau(admin_url: str, run_dir: Path, problems: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ledger: list[dict[str, Any]] = []
    requests: list[dict[str, Any]] = []
    async with httpx.AsyncClient() as client:
        try:
            ledger = await fetch_ndjson(client, f"{admin_url}/admin/ledger")
        except (httpx.HTTPError, ValueError) as exc:
            problems.append(f"the bureau's ledger could not be read: {exc}")
        try:
            requests = await fetch_ndjson(client, f"{admin_url}/admin/requests")
        except (httpx.HTTPError, ValueError) as exc:
            problems.append(f"the bureau's request log could not be read: {exc}")
    write_jsonl(run_dir / "bureau-ledger.jsonl", ledger)
    write_jsonl(run_dir / "bureau-requests.jsonl", requests)
    return ledger, requests


async def collect_sut(sut_url: str, run_dir: Path, problems: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    raw: Any = None
    try:
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"{sut_url}/ledger", timeout=60.0)
            resp.raise_for_status()
            raw = resp.json()
            rows = [r for r in raw["invoices"] if isinstance(r, dict)]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"the SUT's ledger could not be read from {sut_url}/ledger: {exc}")
    (run_dir / "merchant-ledger.json").write_text(
        json.dumps(raw if raw is not None else {"invoices": []}, ensure_ascii=False, indent=1), encoding="utf-8")
    return rows


__all__ = ["collect_bureau", "collect_sut", "read_operations", "write_history"]


def write_history(run_dir: Path, ops: list[dict[str, Any]], load_start_at: float) -> None:
    import pandas as pd

    rows = []
    for op in ops:
        row = {k: v for k, v in op.items() if k != "order"}
        row["order_json"] = json.dumps(op.get("order") or {}, ensure_ascii=False)
        row["t_invoke_s"] = op["invoke_at"] - load_start_at
        done = op.get("complete_at")
        row["t_complete_s"] = None if done is None else done - load_start_at
        row["latency_ms"] = None if done is None else (done - op["invoke_at"]) * 1000.0
        rows.append(row)
    columns = ["op_id", "kind", "order_id", "invoke_at", "complete_at", "outcome", "http_status", "error",
               "sut_status", "invoice_number", "worker", "order_json", "t_invoke_s", "t_complete_s", "latency_ms"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["http_status"] = frame["http_status"].astype("Int64")
    frame.to_parquet(run_dir / "history.parquet", index=False)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

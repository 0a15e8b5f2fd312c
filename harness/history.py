"""The operation record and its append-only recorder.

An operation is one call the load (or the malformed-data phase) made on the SUT, recorded
honestly as Jepsen does: invoked, then ``ok`` (answered 201/202), ``fail`` (answered 4xx/5xx) or
``info`` (indeterminate: timeout, reset, refused, unreadable answer). A timeout is never a
failure: the invoice may still have been issued.

Each operation is two JSON lines: an *invoke* record (``"phase": "invoke"``, with the order)
written to the kernel before the request is sent, and a completion record (the ``Operation``,
without the order) when it ends. A load process killed hard still leaves every request it had
in flight on record; ``merge_records`` turns an invoke without a completion into an
indeterminate operation (``error: "unfinished"``), so the audit knows those orders were placed.
Files written before invoke records existed (completions carrying the order) read the same.

This module is imported inside the Locust process, so it uses the standard library only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["ok", "fail", "info"]

# Error kinds for `fail` and `info` operations.
ERROR_TIMEOUT = "timeout"
ERROR_RESET = "reset"
ERROR_REFUSED = "refused"
ERROR_BAD_RESPONSE = "bad_response"  # an answer arrived but could not be read
ERROR_UNFINISHED = "unfinished"      # invoked, but the load ended before any outcome was recorded
PHASE_INVOKE = "invoke"


def http_error(status: int) -> str:
    return f"http_{status}"


def outcome_for_status(status: int) -> Outcome:
    """CONTRACT §4: 201 and 202 are ok, any other answered status is a failure."""
    return "ok" if status in (201, 202) else "fail"


@dataclass
class Operation:
    """One operation on the SUT. Times are epoch seconds (``time.time()``)."""

    op_id: str                      # unique within the run, e.g. "w0-000017"
    kind: str                       # "issue" (load), later "reverse", "malformed"
    order_id: str
    invoke_at: float
    complete_at: float | None       # None when the call never returned (killed load)
    outcome: Outcome
    http_status: int | None = None  # status answered, None for info
    error: str | None = None        # None for ok; "http_503", "timeout", "reset", ...
    sut_status: str | None = None   # "issued" / "pending" from the SUT's answer
    invoice_number: str | None = None
    worker: str = "w0"
    order: dict[str, Any] = field(default_factory=dict)  # the order as placed (SUT contract §3)

    @property
    def latency_ms(self) -> float | None:
        if self.complete_at is None:
            return None
        return (self.complete_at - self.invoke_at) * 1000.0


def invoke_record(op_id: str, kind: str, order_id: str, invoke_at: float, worker: str,
                  order: dict[str, Any]) -> dict[str, Any]:
    """The line written before a request goes out (see the module's docstring)."""
    return {"phase": PHASE_INVOKE, "op_id": op_id, "kind": kind, "order_id": order_id, "invoke_at": invoke_at,
            "worker": worker, "order": order}


class Recorder:
    """Appends records as JSON lines; thread-safe; flushes every ``flush_every`` seconds, and at
    once for ``write(..., flush=True)`` (an invoke record must reach the kernel before the
    request is sent, so that a killed process still leaves it behind)."""

    def __init__(self, path: str | os.PathLike[str], flush_every: float = 1.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")
        self._lock = threading.Lock()
        self._flush_every = flush_every
        self._last_flush = time.monotonic()

    def write(self, record: Operation | dict[str, Any], flush: bool = False) -> None:
        data = asdict(record) if isinstance(record, Operation) else record
        line = json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            self._fh.write(line)
            now = time.monotonic()
            if flush or now - self._last_flush >= self._flush_every:
                self._fh.flush()
                self._last_flush = now

    def flush(self) -> None:
        with self._lock:
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            if not self._fh.closed:
                self._fh.flush()
                self._fh.close()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read JSON lines, skipping a torn last line left by a crash mid-write."""
    p = Path(path)
    if not p.exists():
        return []
    out: list[dict[str, Any]] = []
    with open(p, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def merge_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Operations from one file's lines: each completion with its invocation's order, and an
    indeterminate operation for each invocation that never completed."""
    invoked: dict[Any, dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    for rec in records:
        if rec.get("phase") == PHASE_INVOKE:
            invoked[rec.get("op_id")] = rec
        else:
            done.append(rec)
    for rec in done:
        inv = invoked.pop(rec.get("op_id"), None)
        if inv is not None and not rec.get("order"):
            rec["order"] = inv.get("order") or {}
    for inv in invoked.values():
        done.append(asdict(Operation(
            op_id=str(inv.get("op_id")), kind=str(inv.get("kind", "issue")), order_id=str(inv.get("order_id")),
            invoke_at=float(inv.get("invoke_at") or 0.0), complete_at=None, outcome="info",
            error=ERROR_UNFINISHED, worker=str(inv.get("worker", "w0")), order=inv.get("order") or {})))
    return done


def read_operations(run_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every operation of a run (one file per worker, and the malformed phase's), by invoke time."""
    ops: list[dict[str, Any]] = []
    for path in sorted(Path(run_dir).glob("operations*.jsonl")):
        ops.extend(merge_records([r for r in read_jsonl(path) if isinstance(r, dict)]))
    ops.sort(key=lambda op: op.get("invoke_at") or 0.0)
    return ops

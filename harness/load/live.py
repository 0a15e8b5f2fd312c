"""Live figures of a running load, read from the files the run already writes.

Nothing is measured twice and nothing is sent anywhere: the load's operation records
(``operations*.jsonl``, flushed by the recorder at least once a second), its ticks
(``load-stats.jsonl``: target and rate) and the probes (``probes.jsonl``: the SUT's pending
backlog) are followed as they grow. ``LiveFigures.update()`` returns one ``Figures`` snapshot:
outcome counts so far, latency percentiles over the last ``window_s`` seconds, the current
rate, the pending backlog, the active fault.

Kept cheap because it runs beside the load on the same machine: each poll reads only the bytes
appended since the last one, and parses only the head of an operation record (the fields
before its ``order``, which is most of the line).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.load.job import STATS_FILE

OPS_GLOB = "operations*.jsonl"
PROBES_FILE = "probes.jsonl"
ORDER_KEY = b',"order":'  # the Recorder writes compact JSON with ``order`` as the last field
# The fields the figures need, in the order the recorder writes them: a match costs a fraction
# of parsing the line; any line it does not match is parsed as JSON.
_FAST = re.compile(rb'"kind":"([^"]*)","order_id":"[^"]*","invoke_at":([-0-9.eE+]+),'
                   rb'"complete_at":([-0-9.eE+]+|null),"outcome":"([a-z]+)"')


@dataclass(frozen=True)
class Figures:
    """One snapshot of the load, for a live block or a plain line."""

    elapsed_s: float
    total_s: float
    target: float | None          # the shape's rate (open) or users (closed) now
    rate: float | None            # requests sent in the last tick, per second
    ok: int
    fail: int
    info: int                     # indeterminate: timeout, reset, refused, unreadable
    p50_ms: float | None          # over operations answered in the last window_s seconds
    p99_ms: float | None
    window_s: float
    pending: int | None           # the SUT's backlog at the last probe
    fault: str | None             # the faults active now
    lagging: bool                 # the open model fell behind its schedule at some point


class StatsTail:
    """Incremental reader of a JSON-lines file written by other processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self._offset = 0

    def poll(self) -> list[dict[str, Any]]:
        """New complete events since the last poll (also appended to ``events``); a torn last
        line waits for the next poll."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        self._offset += end + 1
        new: list[dict[str, Any]] = []
        for line in chunk[: end + 1].splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict):
                    new.append(item)
        self.events.extend(new)
        return new


def _head(line: bytes) -> dict[str, Any] | None:
    """The fields of an operation record the figures need (kind, invoke_at, complete_at,
    outcome), without parsing its order."""
    fast = _FAST.search(line, 0, 400)
    if fast is not None:
        kind, invoke, complete, outcome = fast.groups()
        try:
            return {"kind": kind.decode(), "invoke_at": float(invoke),
                    "complete_at": None if complete == b"null" else float(complete),
                    "outcome": outcome.decode()}
        except ValueError:
            pass
    cut = line.find(ORDER_KEY)
    try:
        item = json.loads(line[:cut] + b"}" if cut > 0 else line)
    except ValueError:
        return None
    return item if isinstance(item, dict) else None


class OpsTail:
    """Follows every ``operations*.jsonl`` of a run directory (workers add files as they start)."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._offsets: dict[Path, int] = {}

    def poll(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for path in sorted(self.run_dir.glob(OPS_GLOB)):
            offset = self._offsets.get(path, 0)
            try:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read()
            except OSError:
                continue
            end = chunk.rfind(b"\n")
            if end < 0:
                continue  # a torn last line waits for the next poll
            self._offsets[path] = offset + end + 1
            for line in chunk[:end].split(b"\n"):
                rec = _head(line) if line else None
                if rec is not None:
                    out.append(rec)
        return out


class LiveFigures:
    """Aggregates the tails into ``Figures``; call ``update()`` as often as the display draws."""

    def __init__(self, run_dir: Path, total_s: float, started_at: float,
                 status: Callable[[], str | None] | None = None, window_s: float = 5.0) -> None:
        self.total_s = total_s
        self.started_at = started_at
        self.window_s = window_s
        self._status = status
        self._ops = OpsTail(run_dir)
        self._stats = StatsTail(run_dir / STATS_FILE)
        self._probes = StatsTail(run_dir / PROBES_FILE)
        self._counts = {"ok": 0, "fail": 0, "info": 0}
        self._recent: deque[tuple[float, float]] = deque()  # (complete_at, latency_ms)
        self._tick: dict[str, Any] = {}
        self._pending: int | None = None
        self._lagging = False

    def _status_text(self) -> str | None:
        if self._status is None:
            return None
        try:
            return self._status() or None
        except Exception as exc:  # noqa: BLE001 - a broken callback must not stop the display
            return f"(status unavailable: {exc})"

    def update(self, now: float | None = None) -> Figures:
        now = time.time() if now is None else now
        for rec in self._ops.poll():
            if rec.get("kind") == "malformed":
                continue  # the malformed phase is not the load
            outcome = rec.get("outcome")
            if outcome in self._counts:
                self._counts[str(outcome)] += 1
            done, began = rec.get("complete_at"), rec.get("invoke_at")
            if outcome != "info" and isinstance(done, (int, float)) and isinstance(began, (int, float)):
                self._recent.append((float(done), (float(done) - float(began)) * 1000.0))
        for event in self._stats.poll():
            if event.get("event") == "tick":
                self._tick = event
            elif event.get("event") == "open_model_lag":
                self._lagging = True
        for probe in self._probes.poll():
            pending = probe.get("sut_pending")
            self._pending = pending if isinstance(pending, int) else None
        while self._recent and self._recent[0][0] < now - self.window_s:
            self._recent.popleft()
        p50, p99 = _percentiles([lat for _, lat in self._recent])
        target, rate = self._tick.get("target"), self._tick.get("rps")
        return Figures(
            elapsed_s=min(self.total_s, max(0.0, now - self.started_at)), total_s=self.total_s,
            target=float(target) if isinstance(target, (int, float)) else None,
            rate=float(rate) if isinstance(rate, (int, float)) else None,
            ok=self._counts["ok"], fail=self._counts["fail"], info=self._counts["info"],
            p50_ms=p50, p99_ms=p99, window_s=self.window_s, pending=self._pending,
            fault=self._status_text(), lagging=self._lagging,
        )


def _percentiles(values: list[float]) -> tuple[float | None, float | None]:
    """Nearest-rank p50 and p99 (None without values)."""
    if not values:
        return None, None
    ordered = sorted(values)
    n = len(ordered)
    return ordered[max(0, math.ceil(0.5 * n) - 1)], ordered[max(0, math.ceil(0.99 * n) - 1)]


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "–"
    return f"{v:,.0f} ms" if v >= 10 else f"{v:.1f} ms"


def plain_line(f: Figures) -> str:
    """The figures as one line of text, for logs and CI."""
    parts = [f"load {f.elapsed_s:3.0f}/{f.total_s:.0f} s"]
    if f.rate is not None:
        parts.append(f"rate {f.rate:.1f}/s" + (f" (target {f.target:.1f})" if f.target is not None else ""))
    parts.append(f"ok {f.ok:,} fail {f.fail:,} indeterminate {f.info:,}")
    parts.append(f"p50 {fmt_ms(f.p50_ms)} p99 {fmt_ms(f.p99_ms)} (last {f.window_s:.0f} s)")
    parts.append(f"pending {'–' if f.pending is None else f'{f.pending:,}'}")
    parts.append(f"fault {f.fault or 'none'}")
    if f.lagging:
        parts.append("BEHIND SCHEDULE")
    return " · ".join(parts)


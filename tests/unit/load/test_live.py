"""Live figures from the files a run writes: literal records in, the figures a person reads out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.load.job import StatsLog
from harness.load.live import LiveFigures, OpsTail, plain_line
from harness.load.progress import choose_mode, plain_interval

T0 = 1_700_000_000.0


def op(i: int, outcome: str, invoke: float, latency_ms: float | None, kind: str = "issue",
       worker: str = "w0") -> dict[str, Any]:
    """An operation record as the recorder writes it (compact JSON, ``order`` last)."""
    done = None if latency_ms is None else invoke + latency_ms / 1000
    return {"op_id": f"{worker}-{i:06d}", "kind": kind, "order_id": f"r1-{worker}-{i}", "invoke_at": invoke,
            "complete_at": done, "outcome": outcome, "http_status": 201 if outcome == "ok" else None,
            "error": None, "sut_status": None, "invoice_number": None, "worker": worker,
            "order": {"order_id": f"r1-{worker}-{i}", "lines": [{"name": "服务费", "amount": "1.00"}] * 3}}


def write_ops(path: Path, records: list[dict[str, Any]], torn: str = "") -> None:
    with open(path, "a", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        fh.write(torn)


def test_ops_tail_reads_whole_lines_of_every_worker_file(tmp_path: Path) -> None:
    tail = OpsTail(tmp_path)
    assert tail.poll() == []
    write_ops(tmp_path / "operations-w0.jsonl", [op(1, "ok", T0, 5)], torn='{"op_id":"w0-000002","ki')
    got = tail.poll()
    assert got == [{"kind": "issue", "invoke_at": T0, "complete_at": T0 + 0.005, "outcome": "ok"}]
    with open(tmp_path / "operations-w0.jsonl", "a", encoding="utf-8") as fh:
        fh.write('nd":"issue","outcome":"fail"}\n')  # the torn line completed, without an order
    write_ops(tmp_path / "operations-w1.jsonl", [op(1, "info", T0, None, worker="w1")])
    got = tail.poll()
    # A record in another shape is still read (as JSON), and worker files are all followed.
    assert sorted(r["outcome"] for r in got) == ["fail", "info"]
    assert {"op_id": "w0-000002", "kind": "issue", "outcome": "fail"} in got
    assert tail.poll() == []


def test_figures_count_outcomes_and_take_percentiles_of_the_last_seconds(tmp_path: Path) -> None:
    # 100 old answers at 1000 ms (outside the 5 s window), then 100 recent ones at 1..100 ms.
    old = [op(i, "ok", T0 + 1, 1000.0) for i in range(100)]
    recent = [op(100 + i, "ok" if i % 10 else "fail", T0 + 8, float(i + 1)) for i in range(100)]
    lost = [op(300, "info", T0 + 9, None), op(301, "info", T0 + 9, 4000.0)]
    malformed = [op(400, "fail", T0 + 9, 2.0, kind="malformed")]
    write_ops(tmp_path / "operations.jsonl", old + recent + lost)
    write_ops(tmp_path / "operations-malformed.jsonl", malformed)
    stats = StatsLog(tmp_path / "load-stats.jsonl", "master")
    stats.emit("tick", t_s=9.0, target=20.0, users=3, rps=19.5, requests=202, failures=10)
    (tmp_path / "probes.jsonl").write_text(
        json.dumps({"at": T0 + 8, "sut_pending": 3}) + "\n" + json.dumps({"at": T0 + 9, "sut_pending": 17}) + "\n")

    live = LiveFigures(tmp_path, 20.0, T0, status=lambda: "f1 network/down", window_s=5.0)
    f = live.update(now=T0 + 10)
    assert (f.ok, f.fail, f.info) == (190, 10, 2)  # malformed-phase operations are not the load
    assert f.p50_ms == pytest.approx(50.0, abs=0.01) and f.p99_ms == pytest.approx(99.0, abs=0.01)  # no info ones
    assert f.rate == 19.5 and f.target == 20.0 and f.pending == 17
    assert f.fault == "f1 network/down" and not f.lagging
    assert f.elapsed_s == 10.0

    stats.emit("open_model_lag", late=4, max_lag_s=0.8, in_flight=16, cap=16)
    later = live.update(now=T0 + 30)
    assert later.p50_ms is None and later.p99_ms is None  # nothing answered in the last 5 s
    assert later.lagging and later.elapsed_s == 20.0 and later.ok == 190


def test_plain_line_says_every_figure(tmp_path: Path) -> None:
    write_ops(tmp_path / "operations.jsonl", [op(1, "ok", T0 + 1, 12.0), op(2, "fail", T0 + 1, 3.0)])
    line = plain_line(LiveFigures(tmp_path, 20.0, T0, status=lambda: None).update(now=T0 + 3))
    for needle in ("load   3/20 s", "ok 1 fail 1 indeterminate 0", "p50 3.0 ms p99 12 ms (last 5 s)",
                   "pending –", "fault none"):
        assert needle in line, line
    assert "\x1b" not in line


def test_a_broken_status_callback_does_not_break_the_figures(tmp_path: Path) -> None:
    def broken() -> str:
        raise RuntimeError("no timeline")

    assert "status unavailable" in (LiveFigures(tmp_path, 5.0, T0, broken).update(T0).fault or "")


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_mode_live_only_on_a_terminal_outside_ci() -> None:
    assert choose_mode(_Stream(True), {}) == "live"  # type: ignore[arg-type]
    assert choose_mode(_Stream(False), {}) == "plain"  # type: ignore[arg-type]
    assert choose_mode(_Stream(True), {"CI": "true"}) == "plain"  # type: ignore[arg-type]
    assert choose_mode(_Stream(True), {"TERM": "dumb"}) == "plain"  # type: ignore[arg-type]
    assert choose_mode(_Stream(False), {"INVOICE_CHAOS_PROGRESS": "live"}) == "live"  # type: ignore[arg-type]
    assert choose_mode(_Stream(True), {"INVOICE_CHAOS_PROGRESS": "off"}) == "off"  # type: ignore[arg-type]


def test_plain_lines_stay_few_on_long_runs() -> None:
    assert plain_interval(20) == 5.0
    assert plain_interval(68) == 5.0
    assert plain_interval(3600) == 300.0
    assert 3600 / plain_interval(3600) <= 12

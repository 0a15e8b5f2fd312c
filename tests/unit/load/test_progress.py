"""The stats tail reads only whole lines; the progress line shows shape, rate, errors, status."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from rich.console import Console

from harness.load.job import StatsLog, classify, error_kind
from harness.load.progress import Progress, StatsTail


def test_tail_waits_for_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "load-stats.jsonl"
    tail = StatsTail(path)
    assert tail.poll() == []
    path.write_text('{"event": "a"}\n{"event": "b"', encoding="utf-8")
    assert [e["event"] for e in tail.poll()] == ["a"]
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("}\nnot json\n")
    assert [e["event"] for e in tail.poll()] == ["b"]
    assert [e["event"] for e in tail.events] == ["a", "b"]


def test_progress_line_shows_what_matters(tmp_path: Path) -> None:
    path = tmp_path / "load-stats.jsonl"
    log = StatsLog(path, "master")
    log.emit("tick", t_s=3.0, target=20.0, users=1, rps=19.5, requests=60, failures=4)
    log.emit("open_model_lag", late=3, max_lag_s=0.7, in_flight=16, cap=16)
    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    progress = Progress(20.0, StatsTail(path), lambda: "fault f1: latency", time.time() - 3, console=console)
    line = progress.line()
    for needle in ("3/20 s", "target 20.0", "rate 19.5/s", "errors 4/60", "behind schedule", "fault f1: latency"):
        assert needle in line, line
    json.dumps(line)  # plain text


def test_outcomes_follow_contract_section_4() -> None:
    assert classify(201, None) == ("ok", None)
    assert classify(202, None) == ("ok", None)
    assert classify(503, None) == ("fail", "http_503")
    assert classify(422, None) == ("fail", "http_422")
    assert classify(0, TimeoutError()) == ("info", "timeout")
    assert classify(0, ConnectionRefusedError()) == ("info", "refused")
    assert classify(0, ConnectionResetError()) == ("info", "reset")
    assert classify(0, ValueError("garbage")) == ("info", "bad_response")

    class RetriesExceeded(Exception):
        def __init__(self, original: BaseException) -> None:
            self.original = original

    assert error_kind(RetriesExceeded(TimeoutError())) == "timeout"


def test_a_broken_status_callback_does_not_break_the_line(tmp_path: Path) -> None:
    def broken() -> str:
        raise RuntimeError("no timeline")

    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    progress = Progress(10.0, StatsTail(tmp_path / "none.jsonl"), broken, time.time(), console=console)
    assert "status unavailable" in progress.line()

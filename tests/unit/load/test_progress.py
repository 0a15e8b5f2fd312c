"""The stats tail reads only whole lines; the live figures are an updating block on a terminal
(checked under a real pty) and plain lines in CI or a pipe."""

from __future__ import annotations

import errno
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from harness.load.job import StatsLog, classify, error_kind
from harness.load.progress import Progress, StatsTail

ROOT = Path(__file__).resolve().parents[3]

# A load of 6 operations over 3 s with one fault active, drawn by the real Progress.
CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
from harness.load.job import StatsLog
from harness.load.progress import Progress

run_dir = Path(sys.argv[1])
stats = StatsLog(run_dir / "load-stats.jsonl", "master")

async def main() -> None:
    p = Progress(3.0, run_dir, lambda: "f1 network/down", time.time())
    print(f"MODE {p.mode}", file=sys.stderr, flush=True)
    p.start()
    with open(run_dir / "operations.jsonl", "a") as fh:
        for i in range(6):
            now = time.time()
            fh.write(json.dumps({"op_id": f"w0-{i}", "kind": "issue", "invoke_at": now - 0.004,
                                 "complete_at": now, "outcome": "ok", "order": {}}, separators=(",", ":")) + "\n")
            fh.flush()
            stats.emit("tick", t_s=i / 2, target=12.0, users=1, rps=11.5, requests=i + 1, failures=0)
            await asyncio.sleep(0.5)
    p.stop()

asyncio.run(main())
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "INVOICE_CHAOS_PROGRESS")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT), **extra)
    return env


def run_in_pty(run_dir: Path, **env: str) -> str:
    """Run the child with stdin/stdout/stderr on a 120-column pseudo-terminal; what it drew."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(run_dir)], stdin=slave, stdout=slave,
                            stderr=slave, env=_env(**env), cwd=ROOT, close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        proc.wait(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")
    return out.decode("utf-8", errors="replace")


def test_a_terminal_gets_one_updating_block(tmp_path: Path) -> None:
    out = run_in_pty(tmp_path)
    assert "MODE live" in out
    for needle in ("load", "rate 11.5/s", "target 12.0", "ok", "indeterminate", "p99", "pending",
                   "fault", "f1 network/down"):
        assert needle in out, out
    assert "\x1b[2K" in out or "\x1b[1A" in out  # redrawn in place: the cursor goes back up
    assert " · " not in out  # not the plain lines
    assert out.rstrip().count("rate 11.5/s") >= 2  # updated, not drawn once


def test_ci_gets_plain_lines_even_on_a_terminal(tmp_path: Path) -> None:
    out = run_in_pty(tmp_path, CI="true")
    assert "MODE plain" in out
    lines = [x for x in out.splitlines() if x.startswith("load")]
    assert lines, out
    assert "fault f1 network/down" in lines[0]  # a fault change is printed when it happens
    assert "ok 6 fail 0 indeterminate 0" in lines[-1]  # the last line has the totals
    assert "\x1b[" not in "".join(lines)
    assert len(lines) <= 3


def test_a_pipe_gets_plain_lines(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True,
                          env=_env(), cwd=ROOT, timeout=60, check=True)
    assert "MODE plain" in proc.stderr
    assert proc.stdout == ""  # stdout is kept for the report's path
    assert "ok 6 fail 0 indeterminate 0" in proc.stderr.splitlines()[-1]


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
    log = StatsLog(tmp_path / "load-stats.jsonl", "master")
    log.emit("tick", t_s=3.0, target=20.0, users=1, rps=19.5, requests=60, failures=4)
    log.emit("open_model_lag", late=3, max_lag_s=0.7, in_flight=16, cap=16)
    progress = Progress(20.0, tmp_path, lambda: "f1 network/latency", time.time() - 3, mode="plain")
    line = progress.line()
    for needle in ("3/20 s", "target 20.0", "rate 19.5/s", "BEHIND SCHEDULE", "fault f1 network/latency"):
        assert needle in line, line


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

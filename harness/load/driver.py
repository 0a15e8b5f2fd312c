"""Start and stop the Locust load as subprocesses, from the asyncio harness.

This module never imports Locust (it monkey-patches with gevent on import). It writes the job
(``load-job.json`` in the run directory), starts::

    python -m locust -f harness/load/locustfile.py --headless ...            (workers: 0)
    python -m locust ... --master --expect-workers N   +  N × ... --worker   (workers: N)

in one new process group, and follows ``load-stats.jsonl`` for the start marker, progress and
open-model lag. Operations land in ``operations.jsonl`` (one process) or
``operations-w<i>.jsonl`` (one per worker); read them all with the glob ``operations*.jsonl``.

Usage::

    driver = LoadDriver(config, "http://127.0.0.1:8080", run_dir, seed=7, order_prefix="r7",
                        log_path=run_dir / "logs" / "load.log", status=lambda: "fault f1: latency")
    await driver.start()     # returns once the load has begun; driver.load_start_at is set
    code = await driver.wait()
    await driver.stop()      # idempotent; always safe in a finally

While the load runs, its live figures are shown on stderr (``harness.load.progress``: an
updating block on a terminal, a plain line every few seconds otherwise; ``progress="off"``).
"""

from __future__ import annotations

import asyncio
import math
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from harness.data.orders import ORDER_ID_RE
from harness.errors import EnvironmentFailure, InputError
from harness.lifeline import LIFELINE, die_with_parent
from harness.load.job import JOB_ENV, STATS_FILE, LoadJob
from harness.load.progress import Mode, Progress, StatsTail
from harness.load.shapes import LoadConfig, total_duration
from harness.net import free_port

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
REPO_ROOT = Path(__file__).resolve().parents[2]


class LoadError(EnvironmentFailure):
    """The load generator could not start or died; the message carries the log's last lines."""


class LoadDriver:
    """One run's load: Locust in its own process group, following a ``LoadConfig``."""

    def __init__(
        self,
        config: LoadConfig,
        target_url: str,
        run_dir: Path,
        seed: int,
        order_prefix: str,
        log_path: Path,
        status: Callable[[], str | None] | None = None,
        *,
        startup_timeout_s: float = 60.0,
        python: str = sys.executable,
        progress: bool | Mode | None = None,
    ) -> None:
        if not target_url.startswith(("http://", "https://")):
            raise InputError(f"target_url {target_url!r}: the SUT's base URL must start with http:// or https://")
        longest = f"{order_prefix}-w{max(0, config.workers - 1)}-9999999"
        if not ORDER_ID_RE.fullmatch(longest):
            raise InputError(
                f"order_prefix {order_prefix!r}: order ids like {longest!r} must be 1-64 of A-Z a-z 0-9 _ - "
                "(CONTRACT §3); use a shorter prefix without other characters"
            )
        self.config = config
        self.target_url = target_url.rstrip("/")
        self.run_dir = Path(run_dir)
        self.seed = seed
        self.order_prefix = order_prefix
        self.log_path = Path(log_path)
        self.status = status
        self.startup_timeout_s = startup_timeout_s
        self.python = python
        # Live figures: a mode, or None / True to choose (harness.load.progress); False: none.
        self.progress_mode: Mode | None = "off" if progress is False else None if progress is True else progress
        self.load_start_at: float | None = None
        self.load_end_at: float | None = None
        self.stats = StatsTail(self.run_dir / STATS_FILE)
        self._procs: list[asyncio.subprocess.Process] = []
        self._log: IO[bytes] | None = None
        self._pgid: int | None = None
        self._progress: Progress | None = None
        self._exit_code: int | None = None
        self._stop_task: asyncio.Future[None] | None = None

    @property
    def pgid(self) -> int | None:
        """The process group of the Locust processes (None before ``start``)."""
        return self._pgid

    @property
    def progress(self) -> Progress | None:
        """The live figures' display (None before ``start``)."""
        return self._progress

    @property
    def duration_s(self) -> float:
        return total_duration(self.config.shape)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Spawn Locust and return once the load has begun (its ``load_start`` marker)."""
        if self._procs:
            raise LoadError("the load driver was already started")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        job_path = self.run_dir / "load-job.json"
        LoadJob(
            load=self.config.model_dump(mode="json"), target_url=self.target_url, run_dir=str(self.run_dir),
            seed=self.seed, order_prefix=self.order_prefix, workers=self.config.workers,
        ).write(job_path)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, JOB_ENV: str(job_path), "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        for argv in self._commands():
            self._note(f"starting: {' '.join(argv)}")
            # The first process leads a new group; the others join it, so one killpg ends all.
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=env,
                cwd=str(REPO_ROOT), process_group=0 if self._pgid is None else self._pgid,
                preexec_fn=die_with_parent,
            )
            self._procs.append(proc)
            if self._pgid is None:
                self._pgid = proc.pid
                LIFELINE.add(proc.pid, "load", " ".join(argv), str(self.run_dir))
        started = await self._await_start()
        if started is None:
            await self.stop()
            raise LoadError(f"Locust did not start the load within {self.startup_timeout_s:.0f} s:\n{self.log_tail()}")
        self.load_start_at = started
        self._progress = Progress(self.duration_s, self.run_dir, self.status, started, mode=self.progress_mode)
        self._progress.start()

    async def wait(self) -> int:
        """Wait until the shape has run (bounded); Locust's exit code (0 unless it crashed)."""
        if not self._procs:
            raise LoadError("wait() before start()")
        bound = self.duration_s + 2 * self.config.timeout_s + 60.0
        try:
            code = await asyncio.wait_for(self._procs[0].wait(), timeout=bound)
        except TimeoutError:
            self._note(f"Locust still running {bound:.0f} s after the start: stopping it")
            await self.stop()
            code = self._procs[0].returncode if self._procs[0].returncode is not None else -signal.SIGKILL
        self._exit_code = code
        await self.stop()
        return code

    async def stop(self, grace_s: float | None = None) -> None:
        """Idempotent: SIGTERM the whole group (Locust flushes), then SIGKILL what is left.

        Concurrent and repeated calls all wait for the same stop, so once any call returns the
        processes are gone and ``load_end_at`` is set."""
        if self._stop_task is None:
            self._stop_task = asyncio.ensure_future(self._stop(grace_s))
        await asyncio.shield(self._stop_task)

    async def _stop(self, grace_s: float | None) -> None:
        grace = self.config.timeout_s + 5.0 if grace_s is None else grace_s
        if self._pgid is not None and any(p.returncode is None for p in self._procs):
            _killpg(self._pgid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self._procs)), timeout=grace)
        if self._pgid is not None:
            _killpg(self._pgid, signal.SIGKILL)  # also reaps stray children of the group
        for p in self._procs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(p.wait(), timeout=5.0)
        if self._pgid is not None:
            LIFELINE.remove(self._pgid)
        if self._progress is not None:
            self._progress.stop()
        self.load_end_at = self._end_marker() or time.time()
        self._summarise()
        if self._log is not None:
            self._log.close()
            self._log = None

    # --- helpers ------------------------------------------------------------------------------

    def _commands(self) -> list[list[str]]:
        base = [self.python, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
                "--stop-timeout", str(math.ceil(self.config.timeout_s + 2)), "--exit-code-on-error", "0",
                "--loglevel", "INFO"]
        if self.config.workers == 0:
            return [base]
        port = free_port()
        master = [*base, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                  "--expect-workers", str(self.config.workers), "--expect-workers-max-wait", str(math.ceil(self.startup_timeout_s))]
        worker = [self.python, "-m", "locust", "-f", str(LOCUSTFILE), "--worker", "--master-host", "127.0.0.1",
                  "--master-port", str(port), "--loglevel", "INFO"]
        return [master] + [worker] * self.config.workers

    async def _await_start(self) -> float | None:
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            for event in self.stats.poll():
                if event.get("event") == "load_start":
                    return float(event["at"])
            if self._procs[0].returncode is not None:
                return None
            await asyncio.sleep(0.05)
        return None

    def _end_marker(self) -> float | None:
        """When the last worker stopped sending (the master quits a moment later)."""
        self.stats.poll()
        for kind in ("worker_end", "load_end"):
            ends = [float(e["at"]) for e in self.stats.events if e.get("event") == kind]
            if ends:
                return max(ends)
        return None

    def _summarise(self) -> None:
        facts = self.summary()
        if facts["open_model_lag_s"]:
            self._note(
                f"open model fell behind its schedule in {facts['open_model_lag_s']} worker-seconds "
                f"(max lag {facts['max_lag_s']:.2f} s, {facts['unsent']} arrivals never sent): "
                "the load was not open then"
            )

    def summary(self) -> dict[str, Any]:
        """What the load did, from load-stats.jsonl: ``sent``, ``interrupted`` (cut off by a
        stop), ``unsent`` (open-model arrivals dropped at the end of the shape),
        ``open_model_lag_s`` (worker-seconds behind schedule) and ``max_lag_s``. A run whose
        open load lagged should be reported as compromised."""
        self.stats.poll()
        lag = [e for e in self.stats.events if e.get("event") == "open_model_lag"]
        ends = [e for e in self.stats.events if e.get("event") == "worker_end"]
        return {
            "sent": sum(int(e.get("sent", 0)) for e in ends),
            "interrupted": sum(int(e.get("interrupted", 0)) for e in ends),
            "unsent": sum(int(e.get("unsent", 0)) for e in ends),
            "open_model_lag_s": len(lag),
            "max_lag_s": max((float(e["max_lag_s"]) for e in lag), default=0.0),
        }

    def lag_events(self) -> list[dict[str, Any]]:
        """``open_model_lag`` events recorded so far (empty when the load stayed open)."""
        self.stats.poll()
        return [e for e in self.stats.events if e.get("event") == "open_model_lag"]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _note(self, message: str) -> None:
        if self._log is not None:
            self._log.write(f"[load-driver {time.strftime('%H:%M:%S')}] {message}\n".encode())
            self._log.flush()


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)

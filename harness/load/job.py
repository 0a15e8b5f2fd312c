"""What the driver hands to the Locust process, and the small records Locust writes back.

Standard library only: imported on both sides of the process boundary (the asyncio harness
and the gevent-patched Locust process).

- ``LoadJob``: the JSON file the driver writes; its path travels in ``INVOICE_CHAOS_LOAD_JOB``.
- ``StatsLog``: appends to ``<run_dir>/load-stats.jsonl`` one small JSON object per line, each
  written with a single ``write`` and flushed at once. Several local processes (master and
  workers) append to the same file; O_APPEND keeps short lines whole on a local file system.
- ``classify``: an answer or an exception as CONTRACT §4 outcome and error kind.

``load-stats.jsonl`` events (all carry ``at``, epoch seconds, and ``node``):

- ``load_start`` — the load's clock started (master, or the single local process).
- ``tick`` — once a second from the master/local process: ``t_s``, ``target``, ``users``,
  ``rps`` (Locust's current rate), ``requests``, ``failures``.
- ``open_model_lag`` — an open-model worker sent ``late`` arrivals more than
  ``lag_tolerance_s`` after they were due in the last second (``max_lag_s``, ``in_flight``,
  ``cap``): the load was no longer open (the SUT was slower than ``cap / rate``, or the
  generator was CPU-bound).
- ``worker_end`` — a worker stopped: ``sent``, ``due`` (arrivals the shape owed it so far),
  ``interrupted`` (requests cut off by the stop).
- ``load_end`` — the shape finished or the load was stopped.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

JOB_ENV = "INVOICE_CHAOS_LOAD_JOB"
STATS_FILE = "load-stats.jsonl"
ERROR_INTERRUPTED = "interrupted"  # the load was stopped while the request was in flight


@dataclass(frozen=True)
class LoadJob:
    """Everything the Locust process needs; ``load`` is ``LoadConfig.model_dump(mode="json")``."""

    load: dict[str, Any]
    target_url: str
    run_dir: str
    seed: int
    order_prefix: str
    workers: int  # 0: one local process writing operations.jsonl

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> LoadJob:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def operations_path(self, worker: str) -> Path:
        name = "operations.jsonl" if self.workers == 0 else f"operations-{worker}.jsonl"
        return Path(self.run_dir) / name


class StatsLog:
    """Append-only JSON lines, flushed line by line (they are few: about one a second)."""

    def __init__(self, path: str | os.PathLike[str], node: str) -> None:
        self._path = Path(path)
        self._node = node
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "at": time.time(), "node": self._node, **fields}) + "\n"
        with self._lock, open(self._path, "a", encoding="utf-8") as fh:
            fh.write(line)


def classify(status: int, exc: BaseException | None) -> tuple[str, str | None]:
    """(outcome, error) for a request that got HTTP ``status`` (0 when none) or raised ``exc``.

    An exception means we do not know what the SUT did: ``info``, never ``fail``.
    """
    if exc is not None:
        return "info", error_kind(exc)
    if status in (201, 202):
        return "ok", None
    if status <= 0:
        return "info", "bad_response"
    return "fail", f"http_{status}"


def error_kind(exc: BaseException) -> str:
    """timeout / reset / refused / bad_response, looking through client wrappers."""
    seen = 0
    while seen < 5:  # geventhttpclient wraps the socket error (RetriesExceeded.original)
        inner = getattr(exc, "original", None) or exc.__cause__
        if not isinstance(inner, BaseException):
            break
        exc, seen = inner, seen + 1
    name = type(exc).__name__
    if isinstance(exc, (socket.timeout, TimeoutError)) or name == "Timeout":
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)) or name in (
        "HTTPConnectionClosed",
        "EmptyResponse",
    ):
        return "reset"
    return "bad_response"

"""Follow ``load-stats.jsonl`` and show the load's progress on a terminal.

``StatsTail`` reads new lines as they arrive (a torn last line waits for the next poll).
``Progress`` draws one rich progress line — elapsed / total, target and current rate, errors,
and the harness's status text (the fault now active) — only when stdout is a TTY; the driver
never creates it otherwise, so logs stay plain.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress


class StatsTail:
    """Incremental reader of a JSON-lines file written by other processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.events: list[dict[str, Any]] = []
        self._offset = 0

    def poll(self) -> list[dict[str, Any]]:
        """New complete events since the last poll (also appended to ``events``)."""
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


class Progress:
    """A live progress line, refreshed twice a second from the stats tail."""

    def __init__(
        self,
        total_s: float,
        stats: StatsTail,
        status: Callable[[], str | None] | None,
        started_at: float,
        console: Console | None = None,
    ) -> None:
        self._total = total_s
        self._stats = stats
        self._status = status
        self._started_at = started_at
        self._bar = RichProgress(
            TextColumn("[bold]load"), BarColumn(), TextColumn("{task.fields[clock]}"),
            TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), transient=False, console=console,
        )
        self._task_id = self._bar.add_task("load", total=total_s, clock="", detail="")
        self._task: asyncio.Task[None] | None = None
        self._last: dict[str, Any] = {}
        self._lagging = False

    def start(self) -> None:
        self._bar.start()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._refresh()
        self._bar.stop()

    async def _run(self) -> None:
        while True:
            self._refresh()
            await asyncio.sleep(0.5)

    def line(self) -> str:
        """The progress text as last drawn (for tests and logs)."""
        self._refresh()
        task = self._bar.tasks[0]
        return f"{task.fields['clock']}  {task.fields['detail']}"

    def _status_text(self) -> str:
        if self._status is None:
            return ""
        try:
            return self._status() or ""
        except Exception as exc:  # noqa: BLE001 - a broken callback must not stop the load's display
            return f"(status unavailable: {exc})"

    def _refresh(self) -> None:
        for event in self._stats.poll():
            if event.get("event") == "tick":
                self._last = event
            elif event.get("event") == "open_model_lag":
                self._lagging = True
        elapsed = min(self._total, time.time() - self._started_at)
        tick = self._last
        target = tick.get("target")
        parts = [
            f"target {target:.1f}" if isinstance(target, (int, float)) else "",
            f"rate {tick.get('rps', 0):.1f}/s",
            f"errors {tick.get('failures', 0)}/{tick.get('requests', 0)}",
            "[yellow]behind schedule[/]" if self._lagging else "",
            self._status_text(),
        ]
        self._bar.update(
            self._task_id, completed=elapsed,
            clock=f"{elapsed:5.0f}/{self._total:.0f} s", detail="  ".join(p for p in parts if p),
        )

"""Show the load's live figures while it runs: an updating block on a terminal, plain lines
otherwise.

``Progress`` draws ``harness.load.live.Figures`` on stderr (stdout is kept for the report's
path, which scripts read):

- ``live`` — a compact rich block redrawn twice a second: a bar with elapsed / total time,
  rate and target, ok / fail / indeterminate counts, p50 / p99 of the last seconds, the SUT's
  pending backlog and the active fault. Chosen when stderr is a terminal and ``CI`` is unset.
- ``plain`` — the same figures as one line whenever the active fault changes and after a few
  quiet seconds (about a dozen lines a run without faults), for logs and CI.
- ``off`` — nothing.

``INVOICE_CHAOS_PROGRESS=live|plain|off`` overrides the choice.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Literal

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from harness.load.live import Figures, LiveFigures, StatsTail, fmt_ms, plain_line

__all__ = ["Progress", "StatsTail", "choose_mode", "plain_interval"]

Mode = Literal["live", "plain", "off"]
ENV = "INVOICE_CHAOS_PROGRESS"
REFRESH_S = 0.5


def choose_mode(stream: IO[str], env: Mapping[str, str] = os.environ) -> Mode:
    """``live`` on a terminal, ``plain`` in CI or when the stream is a file or pipe."""
    forced = env.get(ENV, "").strip().lower()
    if forced in ("live", "plain", "off"):
        return forced  # type: ignore[return-value]
    if env.get("CI") or env.get("TERM") == "dumb":
        return "plain"
    try:
        return "live" if stream.isatty() else "plain"
    except (AttributeError, ValueError):
        return "plain"


def plain_interval(total_s: float) -> float:
    """Seconds between plain lines: every 5 s, fewer on long runs (about a dozen lines a run)."""
    return max(5.0, round(total_s / 12.0 / 5.0) * 5.0)


def block(f: Figures) -> Group:
    """The live block: three short lines."""
    head = Table.grid(padding=(0, 1))
    head.add_row(
        Text("load", style="bold"),
        ProgressBar(total=max(f.total_s, 1e-9), completed=f.elapsed_s, width=30),
        Text(f"{f.elapsed_s:3.0f}/{f.total_s:.0f} s"),
        Text(f"rate {f.rate:.1f}/s" if f.rate is not None else "rate –", style="bold"),
        Text(f"target {f.target:.1f}" if f.target is not None else "", style="dim"),
        Text("behind schedule" if f.lagging else "", style="bold yellow"),
    )
    counts = Text.assemble(
        ("ok ", "dim"), (f"{f.ok:,}", "green"), ("   fail ", "dim"), (f"{f.fail:,}", "red" if f.fail else ""),
        ("   indeterminate ", "dim"), (f"{f.info:,}", "yellow" if f.info else ""),
        (f"   p50 {fmt_ms(f.p50_ms)}   p99 {fmt_ms(f.p99_ms)}", ""), (f" (last {f.window_s:.0f} s)", "dim"),
    )
    state = Text.assemble(
        ("pending ", "dim"), ("–" if f.pending is None else f"{f.pending:,}", "bold" if f.pending else ""),
        ("   fault ", "dim"), (f.fault or "none", "bold magenta" if f.fault else "dim"),
    )
    return Group(head, counts, state)


class Progress:
    """The load's figures while it runs; ``start()`` in the event loop, ``stop()`` at the end."""

    def __init__(
        self,
        total_s: float,
        run_dir: Path,
        status: Callable[[], str | None] | None,
        started_at: float,
        *,
        stream: IO[str] | None = None,
        mode: Mode | None = None,
        console: Console | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self.mode: Mode = mode or choose_mode(self._stream)
        self.figures = LiveFigures(run_dir, total_s, started_at, status)
        self._interval = plain_interval(total_s)
        self._console = console or Console(file=self._stream, highlight=False)
        self._live: Live | None = None
        self._task: asyncio.Task[None] | None = None
        self._last: Figures | None = None
        self.busy_s = 0.0  # time spent computing and drawing (the display's own cost)

    def start(self) -> None:
        if self.mode == "off":
            return
        if self.mode == "live":
            # Prints to stdout / stderr while the block is up appear above it, not through it.
            self._live = Live(block(self.snapshot()), console=self._console, auto_refresh=False,
                              transient=False)
            self._live.start(refresh=True)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="load-progress")

    def stop(self) -> None:
        """Draw the last figures once more (the plain line says the load ended) and stop."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self.mode == "live" and self._live is not None:
            self._live.update(block(self.snapshot()), refresh=True)
            self._live.stop()
            self._live = None
        elif self.mode == "plain":
            self._print(plain_line(self.snapshot()))

    def snapshot(self) -> Figures:
        began = time.perf_counter()
        figures = self.figures.update()
        self.busy_s += time.perf_counter() - began
        return figures

    def line(self) -> str:
        """The figures as plain text now (for tests and logs)."""
        return plain_line(self.snapshot())

    async def _run(self) -> None:
        next_line = time.monotonic() + self._interval
        fault = self._last.fault if self._last is not None else None
        while True:
            await asyncio.sleep(REFRESH_S)
            figures = self.snapshot()  # polled every refresh, so no tail ever reads a backlog
            self._last = figures
            if self._live is not None:
                began = time.perf_counter()
                self._live.update(block(figures), refresh=True)
                self.busy_s += time.perf_counter() - began
            elif self.mode == "plain":
                # A fault change is news; otherwise a line when none was printed for a while.
                # At the end of the load stop() prints the totals.
                now = time.monotonic()
                if figures.fault != fault or (now >= next_line and figures.elapsed_s < figures.total_s):
                    self._print(plain_line(figures))
                    next_line = now + self._interval
            fault = figures.fault

    def _print(self, text: str) -> None:
        try:
            print(text, file=self._stream, flush=True)
        except (OSError, ValueError):
            pass  # a closed stream must not stop the load

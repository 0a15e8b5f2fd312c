"""The search and the shrink, within a budget of runs or minutes.

Search: draw schedule after schedule from the scenario's fault mix (seed, seed + 1, ...), run
each, and stop at the first whose verdict is ``fail`` (an anomaly or a gate). A run whose
verdict is ``unknown`` is recorded and never taken for a failure.

Shrink: replay the failure ``replays`` times; when it fails at least ``min_fails`` of them,
try the one-step simplifications of ``harness.explore.shrink`` in order, accepting the first
that still fails ``min_fails`` of ``replays`` (stopping a candidate's replays as soon as the
outcome is decided), and start again from the top with it. Replays use the schedule's own seed:
what still varies between them is the SUT's and the machine's timing. The smallest schedule is
replayed once more in full, so the report can say "failed 7 of 8 replays".
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.explore import schedule as sched
from harness.explore.shrink import candidates
from harness.load.shapes import total_duration
from harness.scenario import Scenario


@dataclass
class Budget:
    runs: int | None = None
    seconds: float | None = None
    started: float = field(default_factory=time.monotonic)
    used: int = 0

    def left(self, keep: int = 0, run_s: float = 0.0) -> bool:
        """Whether a run may start now, keeping ``keep`` runs (of about ``run_s`` each) for later."""
        if self.runs is not None and self.used + keep >= self.runs:
            return False
        return self.seconds is None or time.monotonic() - self.started + keep * run_s < self.seconds

    def describe(self) -> str:
        parts = [f"{self.used} run(s)"]
        if self.runs is not None:
            parts.append(f"of {self.runs}")
        if self.seconds is not None:
            parts.append(f"{max(0.0, self.seconds - (time.monotonic() - self.started)) / 60:.1f} min left")
        return ", ".join(parts)


@dataclass
class Try:
    n: int
    phase: str                  # "search", "replay", "shrink", "confirm"
    what: str                   # the schedule, or the step tried
    seed: int
    verdict: str
    anomalies: dict[str, int]
    scenario_file: str
    run_dir: str
    seconds: float


@dataclass
class Outcome:
    tries: list[Try] = field(default_factory=list)
    found: dict[str, Any] | None = None       # the first failing schedule
    found_replays: tuple[int, int] = (0, 0)   # (failed, replayed)
    minimal: dict[str, Any] | None = None
    minimal_replays: tuple[int, int] = (0, 0)
    minimal_summary: dict[str, Any] | None = None
    steps: list[str] = field(default_factory=list)   # the accepted shrink steps, in order
    interrupted: bool = False


RunOne = Callable[[Path, Path], tuple[int, dict[str, Any] | None]]


class Explorer:
    """``run_one(scenario_file, run_dir) -> (exit code, summary)`` runs one schedule."""

    def __init__(self, data: dict[str, Any], scenario: Scenario, out: Path, run_one: RunOne, *,
                 seed: int, budget: Budget, replays: int = 3, min_fails: int = 2, confirm: int = 5,
                 say: Callable[[str], None] = print) -> None:
        self.data, self.scenario, self.out, self.run_one = data, scenario, out, run_one
        self.seed, self.budget, self.say = seed, budget, say
        self.replays, self.min_fails, self.confirm = replays, min(min_fails, replays), confirm
        self.outcome = Outcome()
        self.load_s = total_duration(scenario.load.shape)
        self._rejected: set[str] = set()   # smaller schedules that did not fail: not tried twice

    # --- phases -------------------------------------------------------------------------------

    def explore(self) -> Outcome:
        try:
            self._search()
            if self.outcome.found is not None:
                self._shrink(self.outcome.found)
        except (KeyboardInterrupt, asyncio.CancelledError, _Interrupted):
            self.outcome.interrupted = True
        return self.outcome

    def _search(self) -> None:
        draw = 0
        while self.budget.left():
            data = sched.draw(self.data, self.seed + draw)
            verdict, _ = self._attempt("search", sched.describe(data), data)
            draw += 1
            if verdict == "fail":
                self.outcome.found = data
                return

    def _shrink(self, failing: dict[str, Any]) -> None:
        fails, runs, _ = self._replay(failing, "replay", "the first failure", self.replays, early=False)
        self.outcome.found_replays = (fails + 1, runs + 1)   # and the search run that found it
        current = failing
        if fails + 1 >= self.min_fails:
            improved = True
            while improved and self._shrink_budget():
                improved = False
                for what, smaller in candidates(current, self._load_s(current)):
                    key = json.dumps(smaller, sort_keys=True, default=str)
                    if key in self._rejected:
                        continue
                    if not self._shrink_budget():
                        break
                    fails, runs, _ = self._replay(smaller, "shrink", what, self.replays, early=True)
                    if fails >= self.min_fails:
                        self.say(f"  accepted: {what} (failed {fails} of {runs})")
                        self.outcome.steps.append(what)
                        current, improved = smaller, True
                        break
                    self._rejected.add(key)
        self.outcome.minimal = current
        fails, runs, summary = self._replay(current, "confirm", "the smallest failure", self.confirm, early=False)
        self.outcome.minimal_replays = (fails, runs)
        self.outcome.minimal_summary = summary

    def _shrink_budget(self) -> bool:
        """A shrink step may start while the confirmation's replays still fit the budget."""
        times = [t.seconds for t in self.outcome.tries] or [0.0]
        return self.budget.left(keep=self.confirm, run_s=sum(times) / len(times))

    # --- running --------------------------------------------------------------------------------

    def _replay(self, data: dict[str, Any], phase: str, what: str, n: int,
                early: bool) -> tuple[int, int, dict[str, Any] | None]:
        """Run ``data`` up to ``n`` times: (failed, runs, the summary of a failing run)."""
        fails = runs = 0
        failing: dict[str, Any] | None = None
        for _ in range(n):
            if not (self._shrink_budget() if phase == "shrink" else self.budget.left()):
                break
            verdict, summary = self._attempt(phase, what, data)
            runs += 1
            if verdict == "fail":
                fails += 1
                failing = summary
            if early and (fails >= self.min_fails or runs - fails > n - self.min_fails):
                break   # decided either way
        return fails, runs, failing

    def _attempt(self, phase: str, what: str, data: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
        n = len(self.outcome.tries) + 1
        folder = self.out / "explore" / f"{n:03d}-{phase}"
        path = sched.write(data, folder / "scenario.yaml", f"invoice-chaos explore, try {n} ({phase}): {what}")
        started = time.monotonic()
        code, summary = self.run_one(path, folder / "run")
        self.budget.used += 1
        if code == 130:
            raise _Interrupted()
        verdict = str((summary or {}).get("verdict") or "unknown")
        counts = {k: len(v) for k, v in ((summary or {}).get("anomalies") or {}).items() if v}
        t = Try(n, phase, what, int(data.get("seed", 0)), verdict, counts, str(path), str(folder / "run"),
                round(time.monotonic() - started, 1))
        self.outcome.tries.append(t)
        with open(self.out / "explore" / "tries.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(t.__dict__, ensure_ascii=False) + "\n")
        shown = ", ".join(f"{k} {v}" for k, v in counts.items())
        self.say(f"[{self.budget.describe()}] {phase}: {what} -> {verdict}" + (f" ({shown})" if shown else ""))
        return verdict, summary

    def _load_s(self, data: dict[str, Any]) -> float:
        shape = (data.get("load") or {}).get("shape") or {}
        return float(shape.get("duration_s", self.load_s)) if shape.get("type") == "steady" else self.load_s


class _Interrupted(Exception):
    """A run ended with exit 130: the user pressed Ctrl-C."""

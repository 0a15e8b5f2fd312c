"""The fault timeline: apply each fault at its time, revert it at its end, record each window.

``faults.jsonl`` is rewritten each time a window opens or closes, so an interrupted run still
shows which faults were active. Reverts always run: at the scheduled end,
when the load ends first, on an error, or on Ctrl-C (the task's ``finally``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from harness.errors import FaultError
from harness.faults.base import FaultContext, FaultSpec
from harness.faults.registry import injector_for

log = logging.getLogger("invoice-chaos.timeline")


class Timeline:
    def __init__(self, specs: list[FaultSpec], ctx: FaultContext, path: Path) -> None:
        self.specs = specs
        self.ctx = ctx
        self.path = path
        self.windows: dict[str, dict[str, Any]] = {
            s.id: {"id": s.id, "family": s.family, "kind": s.kind, "target": s.target, "params": dict(s.params),
                   "planned_start_s": s.start_s,
                   "planned_end_s": None if s.duration_s is None else s.start_s + s.duration_s,
                   "applied_at": None, "reverted_at": None, "start_s": None, "end_s": None, "error": None}
            for s in specs
        }
        self.active: set[str] = set()
        self.errors: list[str] = []
        self._load_start_at = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, load_start_at: float) -> None:
        self._load_start_at = load_start_at
        self._tasks = [asyncio.create_task(self._one(s), name=f"fault-{s.id}") for s in self.specs]

    def add_load_window(self, fid: str, kind: str, start_s: float, end_s: float, params: dict[str, Any]) -> None:
        """Record a window the load shape itself produces (a spike), so it is shaded and measured
        like any fault. Its times are the shape's, which the load follows to within its lag."""
        w = {"id": fid, "family": "load", "kind": kind, "target": "sut", "params": params,
             "planned_start_s": start_s, "planned_end_s": end_s,
             "applied_at": self._load_start_at + start_s, "reverted_at": self._load_start_at + end_s,
             "start_s": start_s, "end_s": end_s, "error": None}
        self.windows[fid] = w
        self._write(w)

    def active_label(self) -> str | None:
        if not self.active:
            return None
        return ", ".join(f"{i} {self.windows[i]['family']}/{self.windows[i]['kind']}" for i in sorted(self.active))

    def held_down(self, target: str) -> bool:
        """Whether a process fault is holding ``target`` down on purpose right now."""
        return any(self.windows[i]["target"] == target and self.windows[i]["family"] == "process" for i in self.active)

    async def finish(self) -> None:
        """End every window now (load over, error, or interrupt): cancel waits, run reverts."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(self, spec: FaultSpec) -> None:
        w = self.windows[spec.id]
        await asyncio.sleep(max(0.0, self._load_start_at + spec.start_s - time.time()))
        injector = injector_for(spec.family)
        # Active from before apply() starts: a kill in progress must not look like a crash.
        self.active.add(spec.id)
        try:
            revert = await injector.apply(spec, self.ctx)
        except Exception as exc:  # noqa: BLE001 - any failure to apply is recorded: the run is then unknown
            self.active.discard(spec.id)
            w["error"] = str(exc) if isinstance(exc, FaultError) else f"{type(exc).__name__}: {exc}"
            self.errors.append(f"fault {spec.id}: could not be applied: {w['error']}")
            self._write(w)
            return
        w["applied_at"] = time.time()
        w["start_s"] = round(w["applied_at"] - self._load_start_at, 3)
        self._write(w)
        log.info("fault %s applied: %s/%s on %s", spec.id, spec.family, spec.kind, spec.target)
        try:
            if spec.duration_s is not None:
                await asyncio.sleep(max(0.0, w["applied_at"] + spec.duration_s - time.time()))
            else:
                await asyncio.Event().wait()  # until finish() cancels it at the end of the load
        except asyncio.CancelledError:
            pass
        finally:
            try:
                await asyncio.shield(revert())
                w["reverted_at"] = time.time()
                w["end_s"] = round(w["reverted_at"] - self._load_start_at, 3)
            except Exception as exc:  # noqa: BLE001 - a failed revert is recorded, and the run goes on to clean up
                w["error"] = f"revert failed: {exc}"
                self.errors.append(f"fault {spec.id}: revert failed: {exc}")
            self.active.discard(spec.id)
            self._write(w)
            log.info("fault %s reverted", spec.id)

    def _write(self, window: dict[str, Any]) -> None:
        """Rewrite the file (atomically): one line per window that has been acted on so far."""
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            for w in self.windows.values():
                if w["applied_at"] is not None or w["error"] is not None or w is window:
                    fh.write(json.dumps(w, ensure_ascii=False) + "\n")
        tmp.replace(self.path)

    def final_windows(self) -> list[dict[str, Any]]:
        return sorted(self.windows.values(), key=lambda w: w["planned_start_s"])

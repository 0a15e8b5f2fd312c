"""Probes: once a second, the SUT's pending count, the bureau's counters and clock, resource use.

Recorded beside the operations (``probes.jsonl``) so drain times, backlogs and the honesty of
the measurement (was the machine saturated?) come from data, not from impressions.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from harness.services import Stack


class Prober:
    def __init__(self, stack: Stack, path: Path, load_start_at: Callable[[], float | None]) -> None:
        self.stack = stack
        self.path = path
        self.load_start_at = load_start_at
        self.last: dict[str, Any] = {}
        self.records: list[dict[str, Any]] = []
        self._procs: dict[str, psutil.Process] = {}
        psutil.cpu_percent(None)  # prime: the first call always returns 0.0

    async def pending(self, client: httpx.AsyncClient) -> int | None:
        """The SUT's pending count: /stats when it has the capability, else counted in /ledger."""
        try:
            if "stats" in self.stack.sut_capabilities:
                resp = await client.get(f"{self.stack.sut_url}/stats", timeout=2.0)
                return int(resp.json()["pending"])
            resp = await client.get(f"{self.stack.sut_url}/ledger", timeout=5.0)
            return sum(1 for r in resp.json()["invoices"] if r.get("status") == "pending")
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None

    async def bureau(self, client: httpx.AsyncClient) -> tuple[int | None, str | None]:
        """The bureau's invoice count and its clock (bureau time, CONTRACT §5.1)."""
        try:
            resp = await client.get(f"{self.stack.bureau_admin_url}/admin/stats", timeout=2.0)
            stats = resp.json()
            return int(stats["invoices"]), stats.get("bureau_time")
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None, None

    def resources(self) -> dict[str, Any]:
        out: dict[str, Any] = {"machine_cpu": psutil.cpu_percent(None)}
        for name, svc in (("bureau", self.stack.bureau), ("proxy", self.stack.proxy), ("sut", self.stack.sut)):
            if svc is None or svc.pid is None:
                continue
            try:
                proc = self._procs.get(name)
                if proc is None or proc.pid != svc.pid:
                    proc = self._procs[name] = psutil.Process(svc.pid)
                    proc.cpu_percent(None)
                out[f"{name}_cpu"] = proc.cpu_percent(None)
                out[f"{name}_rss_mb"] = round(proc.memory_info().rss / 2**20, 1)
            except (psutil.Error, OSError):
                out[f"{name}_cpu"] = None
        return out

    async def run(self, interval_s: float = 1.0) -> None:
        async with httpx.AsyncClient() as client:
            with open(self.path, "a", encoding="utf-8") as fh:
                while True:
                    at = time.time()
                    pending, (invoices, bureau_time) = await asyncio.gather(self.pending(client), self.bureau(client))
                    start = self.load_start_at()
                    rec = {"at": at, "t_s": None if start is None else round(at - start, 3),
                           "sut_pending": pending, "bureau_invoices": invoices, "bureau_time": bureau_time,
                           **self.resources()}
                    self.last = rec
                    self.records.append(rec)
                    fh.write(json.dumps(rec) + "\n")
                    fh.flush()
                    await asyncio.sleep(max(0.0, interval_s - (time.time() - at)))

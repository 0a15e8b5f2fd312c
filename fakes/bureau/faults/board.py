"""The active fault list, the seeded RNG, and the choice of faults acting on one request.

Probability is drawn per request and per matching fault, in list order, from one
``random.Random(seed)``: the same seed and the same request order give the same decisions.
The deterministic triggers (``after_requests``, ``every_n``) count each fault's matching
requests, in arrival order; the count belongs to the fault as stored, so it survives the PUT
of the whole list that adds or removes another fault.
The asynchronous channel's ``upload_stuck`` and ``upload_reject`` are drawn per uploaded
invoice instead (``acting_per_invoice``), and so is ``quota_exhausted`` when an uploaded
invoice is judged. Listeners hear of every change of the list (stuck invoices are released
when their fault is removed).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fakes.bureau.faults.specs import PER_INVOICE, Fault


@dataclass
class _Window:
    """A one-second fixed window for ``rate_limit`` (fault index -> window)."""

    second: int = -1
    count: int = 0


@dataclass
class FaultBoard:
    seed: int
    faults: list[Fault] = field(default_factory=list)
    _rng: random.Random = field(init=False)
    _windows: dict[int, _Window] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)   # Fault.key -> matching requests so far
    listeners: list[Callable[[], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def replace(self, faults: list[Fault]) -> None:
        self.faults = list(faults)
        self._windows = {}
        keep = {f.key for f in self.faults}
        self._seen = {k: n for k, n in self._seen.items() if k in keep}
        for listener in self.listeners:
            listener()

    def clear(self) -> None:
        self.replace([])

    def reseed(self) -> None:
        self._rng = random.Random(self.seed)

    def stored(self) -> list[dict[str, Any]]:
        return [dict(f.stored) for f in self.faults]

    @property
    def needs_external_id(self) -> bool:
        """Whether a fault matches on order references: the request's must be read first."""
        return any(f.external_ids is not None for f in self.faults)

    def acting(self, method: str, path: str, external_id: str | None = None) -> list[Fault]:
        """The faults that act on this request: matching, triggered, and drawn under their probability."""
        if not self.faults:
            return []
        return self._draw(method, path, None, external_id)

    def acting_per_invoice(self, kinds: frozenset[str], method: str, path: str,
                           external_id: str | None = None) -> list[Fault]:
        """The faults of ``kinds`` acting on one uploaded invoice of a request to ``path``."""
        return self._draw(method, path, kinds, external_id)

    def _draw(self, method: str, path: str, kinds: frozenset[str] | None, external_id: str | None) -> list[Fault]:
        chosen = []
        for fault in self.faults:
            wanted = fault.kind not in PER_INVOICE if kinds is None else fault.kind in kinds
            if not wanted or not fault.matches(method, path, external_id):
                continue
            if fault.after_requests or fault.every_n > 1:
                n = self._seen[fault.key] = self._seen.get(fault.key, 0) + 1
                if n <= fault.after_requests or (n - fault.after_requests) % fault.every_n:
                    continue
            if fault.probability < 1 and self._rng.random() >= fault.probability:
                continue
            chosen.append(fault)
        return chosen

    def active(self, fault: Fault) -> bool:
        """Whether ``fault`` (or the same fault re-stored by a later PUT) is still in the list."""
        return any(f.same_as(fault) for f in self.faults)

    def over_rate(self, fault: Fault) -> bool:
        """Whether a ``rate_limit`` fault refuses this request (beyond ``rps`` in this second)."""
        rps = float(fault.params["rps"])
        if rps <= 0:
            return True
        second = int(time.monotonic())
        window = self._windows.setdefault(fault.index, _Window())
        if window.second != second:
            window.second, window.count = second, 0
        window.count += 1
        return window.count > rps

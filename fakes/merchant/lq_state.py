"""The resilient 乐企 profile's tuning, its in-memory state per order, and its work queues.

The work queues hold what is due now, and a heap of what is due later. Each queue is an insertion-ordered dict used as a set (oldest first, O(1) to add, drop or take
the first); an order or upload sits in at most one of them, and leaves it while a task works
on it, so nothing is sent twice at once. ``later`` parks a key until its time; ``release``
moves what is due into its queue. Entries may be stale by then (an order decided meanwhile):
whoever takes one checks it first.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from fakes.merchant.resilience import Backoff

Queue = Literal["ready", "poll", "lookup"]


@dataclass(frozen=True)
class LqTuning:
    confirm_wait_s: float = 1.0      # how long POST /invoices waits for a 201 before a 202
    max_pending: int = 10_000        # the bounded queue: beyond it, 503
    batch: int = 100                 # invoices per upload (LQ §2.2.4.1)
    batch_bytes: int = 4 << 20       # below the bureau's 5 MiB body limit
    range_size: int = 1000           # numbers per allocation (at most 5000)
    uploads_in_flight: int = 4
    calls_in_flight: int = 16        # polls and look-ups
    poll_s: float = 0.25             # the platform asks for 10 s; the fake answers in ~1 s
    time_max_age_s: float = 1.0      # refresh bureau time when the last observation is older
    uncertain_grace_s: float = 5.0
    timeout_s: float = 5.0
    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.1, cap_s=2.0))


@dataclass
class Track:
    """In-memory state of a pending order."""

    attempt: int = 0                       # consecutive holds or failed calls, for backoff
    uncertain_since: float | None = None   # a copy of its upload may be stored unseen since then


class WorkQueues:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.unnumbered: dict[str, None] = {}   # orders waiting for a number
        self.ready: dict[str, None] = {}        # numbered orders to upload
        self.polls: dict[str, None] = {}        # uploads whose results to read
        self.lookups: dict[str, str] = {}       # orders whose number to look up -> why
        self._timers: list[tuple[float, int, Queue, str, str]] = []
        self._seq = itertools.count()
        self._clock = clock

    def later(self, delay: float, queue: Queue, key: str, why: str = "") -> None:
        heapq.heappush(self._timers, (self._clock() + delay, next(self._seq), queue, key, why))

    def release(self, now: float) -> None:
        """Move timers that are due into their queues."""
        while self._timers and self._timers[0][0] <= now:
            _, _, queue, key, why = heapq.heappop(self._timers)
            if queue == "ready":
                self.ready[key] = None
            elif queue == "poll":
                self.polls[key] = None
            else:
                self.lookups[key] = why

    def next_timer(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def requeue_unnumbered(self, keys: list[str]) -> None:
        """Put ``keys`` back in front of the orders waiting for a number."""
        self.unnumbered = {**dict.fromkeys(keys), **self.unnumbered}


def take_first(queue: dict[str, None]) -> str:
    key = next(iter(queue))
    del queue[key]
    return key

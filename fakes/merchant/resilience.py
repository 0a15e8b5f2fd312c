"""Retry pacing for the resilient profile: capped exponential backoff with full jitter, a
per-attempt timeout that grows with the attempt, and a circuit breaker.

All pure state machines over an injected clock and RNG, so tests drive them without sleeping.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """``delay(n)`` for the n-th retry (0-based): uniform in [0, min(cap, base * 2**n)]
    ("full jitter"), never less than the server's ``Retry-After``."""

    base_s: float = 0.05
    cap_s: float = 2.0

    def delay(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(attempt, 30)))
        jittered = rng.uniform(0.0, ceiling)
        if retry_after_s is not None:
            # Honour Retry-After, with a little jitter on top so waiters do not return in lockstep.
            return max(retry_after_s, 0.0) + rng.uniform(0.0, min(ceiling, 0.25))
        return jittered


@dataclass(frozen=True)
class AttemptTimeout:
    """Seconds one bureau call may take: ``first_s`` growing by ``factor`` up to ``cap_s``.

    Short first attempts keep a hung connection from holding a worker; longer later ones still
    get through a bureau that became slow (a latency fault) instead of timing out forever.
    """

    first_s: float = 2.0
    factor: float = 1.5
    cap_s: float = 15.0

    def __call__(self, attempt: int) -> float:
        return min(self.cap_s, self.first_s * self.factor ** min(attempt, 30))


@dataclass
class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures; after ``cooldown`` one probe
    (half-open); its success closes the breaker, its failure reopens it with a doubled cooldown
    (up to ``max_cooldown_s``).

    ``before_attempt()`` returns 0 when a call may go now (and takes the probe slot when
    half-open), else the seconds to wait before asking again.
    """

    threshold: int = 5
    cooldown_s: float = 0.5
    max_cooldown_s: float = 2.0
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    state: str = "closed"
    _open_until: float = 0.0
    _current_cooldown: float = field(default=0.0)
    _probe_started: float = 0.0

    def before_attempt(self) -> float:
        now = self.clock()
        if self.state == "closed":
            return 0.0
        if self.state == "open":
            if now < self._open_until:
                return self._open_until - now
            self.state = "half_open"
            self._probe_started = now
            return 0.0
        # half_open: one probe in flight; others wait. A probe that never reports (cancelled)
        # must not wedge the breaker, so the slot expires after a cooldown's worth of time.
        if now - self._probe_started > max(self._current_cooldown, self.cooldown_s) * 4:
            self._probe_started = now
            return 0.0
        return max(self._current_cooldown, self.cooldown_s) / 2

    def success(self) -> None:
        self.failures = 0
        self.state = "closed"
        self._current_cooldown = 0.0

    def failure(self) -> None:
        self.failures += 1
        if self.state == "half_open" or (self.state == "closed" and self.failures >= self.threshold):
            self._current_cooldown = min(self.max_cooldown_s, max(self.cooldown_s, self._current_cooldown * 2))
            self._open_until = self.clock() + self._current_cooldown
            self.state = "open"

    @property
    def is_open(self) -> bool:
        return self.state != "closed"

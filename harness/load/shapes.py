"""The scenario's ``load:`` section: frozen models, and the shape as a pure function of time.

Two models (CONTRACT §3 orders go to the SUT either way):

- ``open``: the shape's value is an arrival rate in orders/s. Arrivals are scheduled on the
  clock regardless of response times, up to ``max_in_flight`` outstanding requests per worker;
  beyond that the generator falls behind and records ``open_model_lag``.
- ``closed``: the shape's value is a number of concurrent users; each places an order, waits for
  the answer, thinks ``think_time_s``, and repeats. Throughput then follows the SUT's latency.

Shapes are piecewise linear in time, so each one is a tuple of ``Segment``s; ``target_at``,
``cumulative`` and ``ArrivalClock`` work on those segments only. This module imports pydantic,
which is safe in the Locust process (it does not touch gevent).

Example::

    load:
      model: open
      shape: {type: spike, base: 10, factor: 5, at_s: 10, spike_s: 5, duration_s: 30}
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Steady(_Frozen):
    """A constant ``target`` for ``duration_s``."""

    type: Literal["steady"]
    target: NonNeg
    duration_s: Positive


class Ramp(_Frozen):
    """Linear from ``start`` to ``end`` over ``duration_s``."""

    type: Literal["ramp"]
    start: NonNeg = 0.0
    end: NonNeg
    duration_s: Positive


class Step(_Frozen):
    """Each of ``levels`` held for ``step_s`` in turn."""

    type: Literal["step"]
    levels: Annotated[tuple[NonNeg, ...], Field(min_length=1)]
    step_s: Positive


class Spike(_Frozen):
    """``base`` for ``duration_s``, except ``base × factor`` from ``at_s`` for ``spike_s``."""

    type: Literal["spike"]
    base: NonNeg
    factor: Annotated[float, Field(ge=1)]
    at_s: NonNeg
    spike_s: Positive
    duration_s: Positive

    @model_validator(mode="after")
    def _spike_inside(self) -> Self:
        if self.at_s + self.spike_s > self.duration_s:
            raise ValueError(
                f"the spike (at_s {self.at_s} + spike_s {self.spike_s}) must end within "
                f"duration_s {self.duration_s}"
            )
        return self


class Soak(_Frozen):
    """A long constant ``target``, reached by a linear ramp of ``ramp_up_s`` from zero."""

    type: Literal["soak"]
    target: NonNeg
    duration_s: Positive
    ramp_up_s: NonNeg = 0.0

    @model_validator(mode="after")
    def _ramp_inside(self) -> Self:
        if self.ramp_up_s > self.duration_s:
            raise ValueError(f"ramp_up_s {self.ramp_up_s} must not exceed duration_s {self.duration_s}")
        return self


Shape = Annotated[Steady | Ramp | Step | Spike | Soak, Field(discriminator="type")]


class LoadConfig(_Frozen):
    """The ``load:`` section of a scenario."""

    model: Literal["open", "closed"] = "open"
    shape: Shape
    timeout_s: Positive = 10.0
    workers: Annotated[int, Field(ge=0, le=64)] = 0
    think_time_s: NonNeg = 1.0  # closed model only
    arrivals: Literal["uniform", "poisson"] = "uniform"  # open model only
    max_in_flight: Annotated[int, Field(ge=1, le=10_000)] | None = None  # open model, per worker
    lag_tolerance_s: Positive = 0.5  # open model: an arrival sent later than this counts as lag

    def scaled(self, factor: float) -> LoadConfig:
        """The same load with every shape duration multiplied by ``factor`` (rates unchanged).

        ``timeout_s`` and ``think_time_s`` are properties of the SUT and its users, not of the
        scenario's timeline, so they stay as declared.
        """
        if not factor > 0 or math.isinf(factor):
            raise ValueError(f"time scale must be a positive number, got {factor!r}")
        s = self.shape
        scaled_shape: Steady | Ramp | Step | Spike | Soak
        match s:
            case Steady() | Ramp():
                scaled_shape = s.model_copy(update={"duration_s": s.duration_s * factor})
            case Step():
                scaled_shape = s.model_copy(update={"step_s": s.step_s * factor})
            case Spike():
                scaled_shape = s.model_copy(update={k: getattr(s, k) * factor for k in ("at_s", "spike_s", "duration_s")})
            case Soak():
                scaled_shape = s.model_copy(update={"duration_s": s.duration_s * factor, "ramp_up_s": s.ramp_up_s * factor})
        return self.model_copy(update={"shape": scaled_shape})

    def in_flight_cap(self) -> int:
        """Outstanding requests one open-model worker allows: enough for the peak rate to stay
        open while every answer takes the whole timeout, bounded to keep file descriptors sane."""
        if self.max_in_flight is not None:
            return self.max_in_flight
        per_worker = peak_target(self.shape) / max(1, self.workers)
        return max(16, min(1000, math.ceil(per_worker * self.timeout_s * 1.2)))


# --- the shape as a function of time ---------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """Linear from ``v0`` at ``t0`` to ``v1`` at ``t1`` (seconds from the start of the load)."""

    t0: float
    t1: float
    v0: float
    v1: float

    def value(self, t: float) -> float:
        if self.t1 == self.t0:
            return self.v1
        return self.v0 + (self.v1 - self.v0) * (t - self.t0) / (self.t1 - self.t0)

    def area(self) -> float:
        return (self.v0 + self.v1) / 2 * (self.t1 - self.t0)


def segments(shape: Shape) -> tuple[Segment, ...]:
    """The shape as consecutive linear pieces covering ``[0, total_duration]``."""
    match shape:
        case Steady():
            out = [Segment(0.0, shape.duration_s, shape.target, shape.target)]
        case Ramp():
            out = [Segment(0.0, shape.duration_s, shape.start, shape.end)]
        case Step():
            out = [Segment(i * shape.step_s, (i + 1) * shape.step_s, v, v) for i, v in enumerate(shape.levels)]
        case Spike():
            end = shape.at_s + shape.spike_s
            high = shape.base * shape.factor
            out = [
                Segment(0.0, shape.at_s, shape.base, shape.base),
                Segment(shape.at_s, end, high, high),
                Segment(end, shape.duration_s, shape.base, shape.base),
            ]
        case Soak():
            out = [
                Segment(0.0, shape.ramp_up_s, 0.0, shape.target),
                Segment(shape.ramp_up_s, shape.duration_s, shape.target, shape.target),
            ]
    return tuple(seg for seg in out if seg.t1 > seg.t0)


def total_duration(shape: Shape) -> float:
    """Seconds from the start of the load to the end of the shape."""
    return segments(shape)[-1].t1


def target_at(shape: Shape, t: float) -> float | None:
    """Rate (open) or users (closed) at ``t`` seconds; ``None`` once the shape has ended."""
    for seg in segments(shape):
        if seg.t0 <= t < seg.t1:
            return seg.value(t)
    return None


def peak_target(shape: Shape) -> float:
    return max(max(seg.v0, seg.v1) for seg in segments(shape))


def cumulative(shape: Shape, t: float) -> float:
    """Arrivals the open model owes by ``t``: the integral of the rate from 0 to ``t``."""
    total = 0.0
    for seg in segments(shape):
        if t <= seg.t0:
            break
        end = min(t, seg.t1)
        total += (seg.v0 + seg.value(end)) / 2 * (end - seg.t0)
    return total


class ArrivalClock:
    """When each arrival of the open model is due, by inverting ``cumulative``.

    Arrival ``k`` is due when the integral of the rate reaches ``k + 0.5`` (uniform) or the
    ``k``-th point of a unit-rate Poisson process (poisson: a time change of a homogeneous
    process gives a non-homogeneous one with exactly the declared rate). ``every``/``offset``
    let worker ``w`` of ``W`` take arrivals ``w, w+W, ...`` of one shared, seeded schedule.
    Calls must ask for increasing arrivals (it keeps a cursor): O(1) amortised per arrival.
    """

    def __init__(self, shape: Shape, *, poisson: bool = False, seed: int = 0, offset: int = 0, every: int = 1) -> None:
        self._segs = segments(shape)
        self._rng = random.Random(seed) if poisson else None
        self._offset, self._every = offset, max(1, every)
        self._k = -1          # index of the last arrival drawn from the shared schedule
        self._level = 0.0     # its position on the cumulative axis
        self._seg = 0
        self._seg_base = 0.0  # cumulative at the start of segment self._seg

    def next_due(self) -> float | None:
        """Seconds from the load start when this worker's next arrival is due; None when done."""
        due: float | None = None
        while True:
            self._k += 1
            self._level = self._next_level()
            due = self._invert(self._level)
            if due is None or self._k % self._every == self._offset:
                return due

    def _next_level(self) -> float:
        if self._rng is None:
            return self._k + 0.5
        return self._level + self._rng.expovariate(1.0)

    def _invert(self, level: float) -> float | None:
        while self._seg < len(self._segs):
            seg = self._segs[self._seg]
            area = seg.area()
            if level <= self._seg_base + area and area > 0:
                return seg.t0 + _solve_in_segment(seg, level - self._seg_base)
            self._seg_base += area
            self._seg += 1
        return None


def _solve_in_segment(seg: Segment, c: float) -> float:
    """The ``u`` in ``[0, t1 - t0]`` where ``v0·u + ½·a·u²`` reaches ``c``."""
    a = (seg.v1 - seg.v0) / (seg.t1 - seg.t0)
    if abs(a) < 1e-12:
        return c / seg.v0
    disc = max(0.0, seg.v0 * seg.v0 + 2 * a * c)
    return min(seg.t1 - seg.t0, (-seg.v0 + math.sqrt(disc)) / a)


def locust_tick(config: LoadConfig, t: float) -> tuple[int, float] | None:
    """What Locust's ``LoadTestShape.tick`` returns at ``t``: (users, spawn rate) or None (stop).

    Closed model: the shape's value rounded to users, spawned fast enough to reach it within
    half a second. Open model: one arrival user per worker process for the whole shape (the
    arrival schedule, not the user count, carries the shape).
    """
    target = target_at(config.shape, t)
    if target is None:
        return None
    if config.model == "open":
        users = max(1, config.workers)
        return users, float(users * 10)
    users = round(target)
    return users, max(10.0, users * 2.0)

"""Per-fault recovery figures (CONTRACT §4): time to detect, time to recover, drain.

Pure functions over recorded data. Times are epoch seconds in the inputs and seconds in the
results; ``None`` means "never reached within the run" (a gate on it then fails).

Decisions on the edge cases the contract leaves open (also in docs/checks.md):

- *detect*: among operations invoked inside the fault's own window (from the apply time up to
  and including the revert time) that did not end in a 201 (failed, indeterminate, or deferred
  as 202), take the first one invoked; the figure is the moment its outcome was known (its
  completion; its invocation when it never completed) minus the apply time. An operation of a
  later fault never counts as this one's detection.
- *recover*: the rate of committed invoices is counted in one-second bins aligned on the revert
  time (bin k covers [revert + k, revert + k + 1)). The threshold is 90% of the median rate over
  the whole seconds of the pre-fault window, aligned on the same grid and measured from the start
  of the load. Recovery is the first k whose bins k, k+1, k+2 all reach the threshold; the
  figure is k. Bins past the end of the observation window (drain end) do not exist, so a
  recovery must be seen in full. With no whole pre-fault second (a fault at the start of the
  load), the threshold falls back to 90% of the median over the observation window after the
  revert, excluding the last three seconds; a threshold of zero is met at once (k = 0).
  Overlapping faults are measured independently, each against its own pre-fault window, which
  then includes the other fault's effect: the report says so.
- *drain*: the first probe at or after the revert that saw no pending order; its time minus the
  revert time.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

STAY_S = 3          # the rate must hold this many consecutive seconds
RECOVERY_FRACTION = 0.9


def time_to_detect(applied_at: float, operations: Iterable[Mapping[str, Any]],
                   reverted_at: float | None = None) -> float | None:
    first: Mapping[str, Any] | None = None
    last = math.inf if reverted_at is None else reverted_at
    for op in operations:
        invoked = op.get("invoke_at")
        if invoked is None or invoked < applied_at or invoked > last or op.get("http_status") == 201:
            continue
        if first is None or invoked < first["invoke_at"]:
            first = op
    if first is None:
        return None
    known = first.get("complete_at") or first["invoke_at"]
    return max(0.0, float(known) - applied_at)


def per_second_counts(times: Sequence[float], origin: float, n_bins: int) -> list[int]:
    """Counts of ``times`` in bins [origin + k, origin + k + 1) for k in 0..n_bins-1."""
    counts = [0] * max(0, n_bins)
    for t in times:
        k = math.floor(t - origin)
        if 0 <= k < n_bins:
            counts[k] += 1
    return counts


def time_to_recover(
    applied_at: float,
    reverted_at: float | None,
    commit_times: Sequence[float],
    load_start_at: float,
    window_end_at: float,
) -> float | None:
    """Seconds from the revert until committed invoices/s is back to 90% of the pre-fault median
    for ``STAY_S`` seconds; ``None`` when that is never seen before ``window_end_at``."""
    if reverted_at is None:
        return None
    post_bins = int(math.floor(window_end_at - reverted_at))
    if post_bins < STAY_S:
        return None
    post = per_second_counts(commit_times, reverted_at, post_bins)

    # Pre-fault bins on the revert-aligned grid, whole seconds between load start and apply.
    offset = (reverted_at - load_start_at) % 1.0
    pre_origin = load_start_at + offset
    pre_bins = int(math.floor(applied_at - pre_origin))
    pre = per_second_counts(commit_times, pre_origin, pre_bins) if pre_bins > 0 else []
    if pre:
        threshold = RECOVERY_FRACTION * statistics.median(pre)
    else:
        ref = post[:-STAY_S] or post
        threshold = RECOVERY_FRACTION * statistics.median(ref)
    if threshold <= 0:
        return 0.0
    for k in range(0, post_bins - STAY_S + 1):
        if all(c >= threshold for c in post[k : k + STAY_S]):
            return float(k)
    return None


def drain_time(reverted_at: float | None, probes: Iterable[Mapping[str, Any]]) -> float | None:
    if reverted_at is None:
        return None
    for probe in sorted(probes, key=lambda p: p.get("at", 0.0)):
        at = probe.get("at")
        if at is None or at < reverted_at:
            continue
        if probe.get("sut_pending") == 0:
            return float(at) - reverted_at
    return None

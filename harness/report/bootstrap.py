"""Seeded bootstrap confidence intervals for differences between two sets of repeated runs.

Repeats of a run differ more from each other than operations within one run do (scheduling,
warm-up), so resampling is hierarchical: draw repeats with replacement, then operations within
each drawn repeat. With one repeat per side this degrades to an operation-level bootstrap,
which is optimistic about run-to-run noise; the report says how many repeats it had.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DRAWS_PER_REPEAT = 5000   # operations drawn per chosen repeat: bounded cost, conservative width
MAX_KEEP = 20_000         # operations kept per repeat before resampling (seeded subsample)
CHUNK = 100               # resamples computed at once, to bound memory


@dataclass(frozen=True)
class Interval:
    """A point estimate of candidate − baseline with a two-sided (1 − alpha) interval."""

    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _pooled(samples: Sequence[np.ndarray], rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kept = [s if len(s) <= MAX_KEEP else rng.choice(s, MAX_KEEP, replace=False) for s in samples]
    kept = [k for k in kept if len(k)]
    lengths = np.array([len(k) for k in kept])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(kept) else np.array([])
    values = np.concatenate(kept) if kept else np.empty(0)
    return values, offsets, lengths


def _resample_stat(samples: Sequence[np.ndarray], stat: Callable[[np.ndarray], np.ndarray],
                   n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """``n_boot`` hierarchical-bootstrap replicates of the mean over repeats of ``stat``."""
    values, offsets, lengths = _pooled(samples, rng)
    k = len(lengths)
    if k == 0:
        return np.full(n_boot, np.nan)
    # Never draw more than a repeat holds: drawing 5,000 from 3,000 would fake precision.
    m = int(min(DRAWS_PER_REPEAT, lengths.min()))
    out = np.empty(n_boot)
    for lo in range(0, n_boot, CHUNK):
        b = min(CHUNK, n_boot - lo)
        reps = rng.integers(0, k, size=(b, k))
        u = rng.random((b, k, m))
        idx = offsets[reps][..., None] + (u * lengths[reps][..., None]).astype(np.int64)
        # Each drawn repeat's figure, then their mean: the estimator the tables report.
        per_repeat = stat(values[idx].reshape(b * k, m)).reshape(b, k)
        out[lo: lo + b] = per_repeat.mean(axis=1)
    return _widen(out, k)


def _widen(replicates: np.ndarray, k: int) -> np.ndarray:
    """Resampling k repeats understates their spread by (k - 1) / k: widen to correct it."""
    if k < 2:
        return replicates
    centre = replicates.mean()
    return np.asarray(centre + (replicates - centre) * np.sqrt(k / (k - 1)))


def diff_interval(baseline: Sequence[np.ndarray], candidate: Sequence[np.ndarray],
                  stat: Callable[[np.ndarray], np.ndarray], *, alpha: float, n_boot: int,
                  seed: int) -> Interval | None:
    """Interval for stat(candidate) − stat(baseline); None when either side has no data.

    ``stat`` maps a 2-D array (one resample per row) to one value per row, e.g.
    ``lambda a: np.quantile(a, 0.99, axis=1)`` or ``lambda a: a.mean(axis=1)``.
    """
    if not any(len(s) for s in baseline) or not any(len(s) for s in candidate):
        return None
    rng = np.random.default_rng(seed)
    base = _resample_stat(baseline, stat, n_boot, rng)
    cand = _resample_stat(candidate, stat, n_boot, rng)
    diffs = cand - base
    # The point estimate is what the tables show: the mean over repeats of each repeat's stat.
    point = float(np.mean([stat(c[None, :])[0] for c in candidate if len(c)])
                  - np.mean([stat(b[None, :])[0] for b in baseline if len(b)]))
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return Interval(point, float(low), float(high))


def mean_diff_interval(baseline: Sequence[float], candidate: Sequence[float], *, alpha: float,
                       n_boot: int, seed: int) -> Interval | None:
    """Interval for mean(candidate) − mean(baseline) over per-repeat values (e.g. recovery time).

    Needs at least two repeats per side: with one there is no spread to resample.
    """
    if len(baseline) < 2 or len(candidate) < 2:
        return None
    rng = np.random.default_rng(seed)
    b = np.asarray(baseline, dtype=float)
    c = np.asarray(candidate, dtype=float)
    bb = _widen(rng.choice(b, size=(n_boot, len(b))).mean(axis=1), len(b))
    cc = _widen(rng.choice(c, size=(n_boot, len(c))).mean(axis=1), len(c))
    low, high = np.quantile(cc - bb, [alpha / 2, 1 - alpha / 2])
    return Interval(float(c.mean() - b.mean()), float(low), float(high))


def mean_interval(values: Sequence[float], *, alpha: float, n_boot: int,
                  seed: int) -> tuple[float, float] | None:
    """Interval of the mean over repeats (for the vendor table); None with fewer than two."""
    if len(values) < 2:
        return None
    rng = np.random.default_rng(seed)
    v = np.asarray(values, dtype=float)
    means = _widen(rng.choice(v, size=(n_boot, len(v))).mean(axis=1), len(v))
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)

"""`invoice-chaos compare RUN_DIR... [--baseline RUN_DIR]`: vendors side by side, or regressions.

Without ``--baseline`` the run sets are ranked (vendors: same scenario and seed, different SUTs).
With it, every RUN_DIR is tested against the baseline and the exit status is 1 when any metric
regressed significantly. A RUN_DIR may hold ``repeat-N/`` subdirectories (``run --repeat N``).
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import InputError

HELP = ("Compare runs: rank vendors side by side, or test builds against --baseline with "
        "bootstrap confidence intervals (exit 1 on a significant regression).")
EXAMPLE = ("invoice-chaos compare reports/naive reports/retrying reports/resilient\n"
           "  invoice-chaos compare reports/candidate --baseline reports/main --alpha 0.01")


def _alpha(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"--alpha must be between 0 and 1, got {text}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    from harness.report.compare import DEFAULT_RANK_BY, METRICS

    parser.add_argument("run_dirs", metavar="RUN_DIR", type=Path, nargs="+",
                        help="run directories, or directories of repeat-N/ run directories")
    parser.add_argument("--baseline", type=Path, metavar="RUN_DIR",
                        help="regression mode: test every RUN_DIR against this one")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="where to write compare.html/.md/.json and plots/ "
                             "(default reports/compare-<UTC time>/)")
    parser.add_argument("--rank-by", default=",".join(DEFAULT_RANK_BY), metavar="M1,M2,...",
                        help="ranking criterion: metrics compared in order, lower is better "
                             f"(default %(default)s; metrics: {', '.join(METRICS)})")
    parser.add_argument("--alpha", type=_alpha, default=0.05,
                        help="significance level: two-sided (1 - alpha) intervals "
                             "(default %(default)s)")
    parser.add_argument("--min-change", type=float, default=0.05, metavar="FRACTION",
                        help="smallest change, as a fraction of the baseline, that counts as a "
                             "regression (default %(default)s)")
    parser.add_argument("--resamples", type=int, default=2000,
                        help="bootstrap resamples (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def run(args: argparse.Namespace) -> int:
    from harness.report.compare import distinct_labels, load_set, rank, regressions
    from harness.report.compare_output import Settings, write_outputs

    rank_by = tuple(m.strip() for m in str(args.rank_by).split(",") if m.strip())
    if args.resamples < 100:
        raise InputError(f"--resamples: {args.resamples} is too few; use at least 100")
    settings = Settings(alpha=args.alpha, min_change=args.min_change, rank_by=rank_by,
                        n_boot=args.resamples, seed=args.seed)
    sets = [load_set(p) for p in args.run_dirs]
    baseline = load_set(args.baseline) if args.baseline else None
    distinct_labels(sets + ([baseline] if baseline else []))
    ranked = rank(sets, rank_by)
    results = {}
    if baseline is not None:
        results = {s.label: regressions(baseline, s, alpha=args.alpha,
                                         min_change=args.min_change, n_boot=args.resamples,
                                         seed=args.seed) for s in sets}
    out = args.out or Path("reports") / f"compare-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    html = write_outputs(out, ranked, baseline, results, settings)
    print((out / "compare.md").read_text(encoding="utf-8"))
    print(f"wrote {html}")
    regressed = any(c.regression for cs in results.values() for c in cs)
    return 1 if regressed else 0

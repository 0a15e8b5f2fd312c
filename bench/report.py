"""Benchmark: the whole report of a 1,000,000-operation run, on one core.

Beside it, in the same process and on the same files, the reference: a plain pandas read of
history.parquet and a per-second groupby (outcome counts, latency quantiles) — what any
analysis of the run must at least pay. The ratio says what the report costs above that.

    .venv/bin/python bench/report.py [--ops 1000000] [--dir /tmp/invoice-chaos-bench]

Target (issue 9): the report in under 30 s. The synthetic run is written once and reused.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def _one_core() -> None:
    # Pin before pandas / pyarrow start their thread pools.
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def reference(run_dir: Path) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_parquet(run_dir / "history.parquet",
                         columns=["t_invoke_s", "outcome", "latency_ms"])
    sec = df["t_invoke_s"].floordiv(1.0)
    df.groupby([sec, "outcome"]).size().unstack(fill_value=0)
    df["latency_ms"].groupby(sec).quantile([0.5, 0.95, 0.99])
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/invoice-chaos-bench"))
    parser.add_argument("--repeat", type=int, default=2,
                        help="best of N for each side: a shared machine is noisy (default 2)")
    args = parser.parse_args()
    _one_core()
    import pyarrow as pa

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    from harness.report.render import render
    from harness.report.synthetic import SyntheticFault, SyntheticRun, write_run

    run_dir = args.dir / f"run-{args.ops}"
    duration = max(60.0, args.ops / 280.0)  # about 280 operations a second, as a long soak
    if not (run_dir / "summary.json").exists():
        t0 = time.perf_counter()
        write_run(run_dir, SyntheticRun(
            n_ops=args.ops, duration_s=duration, write_jsonl=False,
            faults=(SyntheticFault("f1", "ghost_commit", "bureau", "bureau",
                                   duration / 3, duration / 3 + duration / 12),
                    SyntheticFault("f2", "latency", "network", "bureau",
                                   duration * 2 / 3, duration * 2 / 3 + duration / 30, 0.3))))
        print(f"wrote the synthetic run in {time.perf_counter() - t0:.1f} s: {run_dir}")
    sizes = {p.name: p.stat().st_size for p in run_dir.iterdir() if p.is_file()}
    print(f"inputs: history.parquet {sizes.get('history.parquet', 0) / 1e6:.0f} MB, "
          f"bureau-ledger.jsonl {sizes.get('bureau-ledger.jsonl', 0) / 1e6:.0f} MB")
    ref = min(reference(run_dir) for _ in range(args.repeat))
    full = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        render(run_dir)
        full = min(full, time.perf_counter() - t0)
    from harness.report.rundir import read_commits

    t0 = time.perf_counter()
    read_commits(run_dir, 0.0)
    ledger = time.perf_counter() - t0
    print(f"{args.ops:,} operations, one core, best of {args.repeat}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"  reference (pandas read + per-second groupby): {ref:6.2f} s")
    print(f"  invoice-chaos report (all files, all plots):  {full:6.2f} s")
    print(f"    of which reading the bureau ledger (JSON lines): ~{ledger:.2f} s")
    print(f"  ratio report / reference: {full / ref:.1f}x   target: report < 30 s -> "
          f"{'met' if full < 30 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`invoice-chaos report RUN_DIR`: re-render a run's reports from its stored data."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import InputError

HELP = "Re-render report.html, report.md, junit.xml and plots/ of a run from its stored data."
EXAMPLE = "invoice-chaos report reports/20261129T120000Z-ghost-commit/"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="a run directory written by `invoice-chaos run`")


def run(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory; pass the directory "
                         "`invoice-chaos run` wrote (it holds run.json and summary.json)")
    known = ("run.json", "summary.json", "history.parquet", "operations.jsonl")
    if not any((run_dir / name).exists() for name in known):
        raise InputError(f"{run_dir}: not a run directory: it has none of {', '.join(known)}")
    from harness.report import render

    html = render(run_dir)
    print(f"wrote {html}, {run_dir / 'report.md'}, {run_dir / 'junit.xml'}, {run_dir / 'plots'}/")
    return 0

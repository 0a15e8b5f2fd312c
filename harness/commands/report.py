"""`invoice-chaos report RUN_DIR`: re-render a run's reports from its stored data."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.errors import InputError

HELP = "Re-render report.html, report.md, junit.xml and plots/ of a run from its stored data."
EXAMPLE = ("invoice-chaos report reports/20261129T120000Z-ghost-commit/\n"
           "  (a directory of repeat-N/ runs re-renders every repeat)")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", type=Path,
                        help="a run directory written by `invoice-chaos run`, or a directory "
                             "of repeat-N/ run directories")


def run(args: argparse.Namespace) -> int:
    run_dir: Path = args.run_dir
    if not run_dir.is_dir():
        raise InputError(f"{run_dir}: no such run directory; pass the directory "
                         "`invoice-chaos run` wrote (it holds run.json and summary.json)")
    from harness.report import render
    from harness.report.compare import repeat_dirs

    # A directory of repeats (`run --repeat N`) re-renders each repeat.
    for one in repeat_dirs(run_dir):
        html = render(one)
        print(f"wrote {html}, {one / 'report.md'}, {one / 'junit.xml'}, {one / 'plots'}/")
    return 0

"""`invoice-chaos explore`: search a scenario's fault mix for a failure and shrink it."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

HELP = "search a scenario's fault mix for a schedule that fails the SUT, then shrink it to the smallest"
EXAMPLE = "invoice-chaos explore scenarios/explore-neutral.yaml --budget 10m --sut-cmd './my-adapter' --out explore-1"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, metavar="SCENARIO.yaml", help="a scenario with random_faults (the mix)")
    sut = p.add_mutually_exclusive_group()
    sut.add_argument("--sut", help="reference:naive | reference:retrying | reference:resilient (default)")
    sut.add_argument("--sut-cmd", metavar="CMD", help="start any command as the SUT (environment of CONTRACT §3)")
    p.add_argument("--budget", metavar="TIME", default=None,
                   help="wall time for search and shrink, e.g. 10m, 90s, 1h (default 10m unless --runs)")
    p.add_argument("--runs", type=int, metavar="N", help="at most N runs for search and shrink")
    p.add_argument("--seed", type=int, help="the first draw's seed (default the scenario's); draws use seed, seed+1, ...")
    p.add_argument("--replays", type=int, default=3, metavar="N", help="replays per smaller schedule (default 3)")
    p.add_argument("--min-fails", type=int, default=2, metavar="K",
                   help="a smaller schedule is kept when it fails in at least K of the replays (default 2)")
    p.add_argument("--confirm", type=int, default=5, metavar="N", help="replays of the smallest failure (default 5)")
    p.add_argument("--time-scale", type=float, metavar="F", help="stretch (F > 1) or compress (F < 1) every run")
    p.add_argument("--out", type=Path, metavar="DIR", help="explore directory, new or empty (default reports/<UTC time>-explore-<scenario>/)")
    p.add_argument("--force", action="store_true", help="clear an earlier invoice-chaos output in --out")


def parse_budget(text: str) -> float:
    from harness.errors import InputError

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not m:
        raise InputError(f"--budget {text!r}: give a time like 90s, 10m or 1h")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 60}[m.group(2)]


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from harness.errors import InputError
    from harness.explore.engine import Budget, Explorer
    from harness.explore.output import write_outputs
    from harness.explore.schedule import base_data
    from harness.outdir import prepare_run_dir

    if args.runs is not None and args.runs < 1:
        raise InputError(f"--runs {args.runs}: must be 1 or more")
    if not 1 <= args.min_fails <= args.replays:
        raise InputError(f"--min-fails {args.min_fails}: must be from 1 to --replays ({args.replays})")
    data, scenario = base_data(args.scenario)
    if scenario.random_faults is None:
        raise InputError(f"{args.scenario}: explore draws schedules from random_faults (the fault mix), and this "
                         "scenario has none; see scenarios/explore-neutral.yaml")
    if args.time_scale is not None:
        data["time_scale"] = float(data.get("time_scale", 1.0)) * args.time_scale
    seconds = parse_budget(args.budget) if args.budget else (None if args.runs else 600.0)
    budget = Budget(runs=args.runs, seconds=seconds)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = (args.out or Path("reports") / f"{stamp}-explore-{scenario.name}").resolve()
    prepare_run_dir(out, force=args.force)
    say = lambda m: print(m, file=sys.stderr)  # noqa: E731
    say(f"explore {scenario.name}: {budget.describe()}; a smaller schedule must fail {args.min_fails} of "
        f"{args.replays} replays; into {out}")
    explorer = Explorer(data, scenario, out, _runner(args), seed=scenario.seed if args.seed is None else args.seed,
                        budget=budget, replays=args.replays, min_fails=args.min_fails, confirm=args.confirm, say=say)
    outcome = explorer.explore()
    report = write_outputs(out, outcome, budget, str(scenario.name))
    if outcome.minimal is not None:
        fails, runs = outcome.minimal_replays
        from harness.explore.schedule import describe

        say(f"smallest failure: {describe(outcome.minimal)}; failed {fails} of {runs} replays -> {out / 'minimal.yaml'}")
    else:
        say(f"no failure found in {budget.used} run(s)")
    print(report)
    if outcome.interrupted:
        return 130
    return 1 if outcome.found is not None else 0


def _runner(args: argparse.Namespace) -> Any:
    """One schedule's run, quiet, in a fresh event loop: (exit code, summary.json)."""
    import asyncio

    from harness.run import RunOptions, execute

    def run_one(path: Path, out: Path) -> tuple[int, dict[str, Any] | None]:
        opts = RunOptions(scenario_path=path, sut=args.sut, sut_cmd=args.sut_cmd, out=out, quiet=True)
        try:
            result = asyncio.run(execute(opts, say=lambda _m: None))
        except KeyboardInterrupt:
            return 130, None
        return result.exit_code, result.summary

    return run_one

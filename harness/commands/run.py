"""`invoice-chaos run`: one scenario end to end (CONTRACT §4)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.run import RunOptions, RunResult

HELP = "run a scenario against a SUT and write the run directory"
EXAMPLE = "invoice-chaos run scenarios/smoke.yaml --sut reference:resilient --seed 7"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    sut = p.add_mutually_exclusive_group()
    sut.add_argument("--sut", help="reference:naive | reference:retrying | reference:resilient (default)")
    sut.add_argument("--sut-cmd", metavar="CMD", help="start any command as the SUT (environment of CONTRACT §3)")
    sut.add_argument("--sut-url", metavar="URL", help="audit an already running SUT (started with BUREAU_URL=http://<--bureau-listen>)")
    sut.add_argument("--sut-image", metavar="IMAGE",
                     help="run this container image as the SUT (Docker backend; environment of CONTRACT §3)")
    p.add_argument("--backend", choices=["local", "docker"],
                   help="where services run: local processes, or docker containers (default local; docker with --sut-image)")
    p.add_argument("--toxiproxy-image", default="ghcr.io/shopify/toxiproxy", metavar="IMAGE",
                   help="Docker backend: use this real Toxiproxy image when it is in the local image store, "
                        "else the embedded proxy's image (default ghcr.io/shopify/toxiproxy)")
    p.add_argument("--pull", action="store_true",
                   help="Docker backend: pull the --toxiproxy-image when it is missing (nothing is ever pulled without it)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="run directory, new or empty (default reports/<UTC time>-<scenario>/)")
    p.add_argument("--force", action="store_true",
                   help="clear an earlier invoice-chaos run in --out instead of refusing the folder")
    p.add_argument("--fail-on-compromised", action="store_true",
                   help="exit 1 for a pass whose figures are in doubt (a saturated machine, a lagging load)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run N times with seeds seed, seed+1, ... into DIR/repeat-1 ... (for confidence intervals)")
    p.add_argument("--time-scale", type=float, metavar="F",
                   help="stretch (F > 1) or compress (F < 1) every duration of the scenario")
    p.add_argument("--toxiproxy-url", metavar="URL", help="use this Toxiproxy server instead of the embedded one")
    p.add_argument("--bureau-listen", default="127.0.0.1:26001", metavar="HOST:PORT",
                   help="proxy address the SUT reaches the bureau on, for --sut-url (default 127.0.0.1:26001)")


def run(args: argparse.Namespace) -> int:
    from harness.errors import InputError
    from harness.run import RunOptions

    if args.time_scale is not None and args.time_scale <= 0:
        raise InputError(f"--time-scale {args.time_scale}: must be greater than 0")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed {args.seed}: must be 0 or more")
    if args.repeat < 1:
        raise InputError(f"--repeat {args.repeat}: must be 1 or more")
    opts = RunOptions(scenario_path=args.scenario, sut=args.sut, sut_cmd=args.sut_cmd, sut_url=args.sut_url,
                      seed=args.seed, out=args.out, time_scale=args.time_scale,
                      toxiproxy_url=args.toxiproxy_url, bureau_listen=args.bureau_listen,
                      backend=args.backend or ("docker" if args.sut_image else "local"), sut_image=args.sut_image,
                      toxiproxy_image=args.toxiproxy_image, pull=args.pull, force=args.force,
                      fail_on_compromised=args.fail_on_compromised)
    if args.repeat == 1:
        return _one(opts)
    return _repeat(opts, args.repeat)


def _repeat(opts: RunOptions, n: int) -> int:
    """N runs into one folder, seeds derived from the first; one aggregate verdict, line and
    file (aggregate.json, a merged junit.xml); exit code: the worst of them."""
    from dataclasses import replace

    from harness.aggregate import RunOutcome, counts_line, write_aggregate
    from harness.outdir import prepare_run_dir
    from harness.run import default_run_dir, main_sync
    from harness.scenario import load_scenario

    scenario = load_scenario(opts.scenario_path, seed=opts.seed, time_scale=opts.time_scale)
    base = opts.out.resolve() if opts.out is not None else default_run_dir(scenario)
    prepare_run_dir(base, force=opts.force)
    outcomes: list[RunOutcome] = []
    for i in range(1, n + 1):
        print(f"repeat {i} of {n} (seed {scenario.seed + i - 1})", file=sys.stderr)
        result = main_sync(replace(opts, seed=scenario.seed + i - 1, out=base / f"repeat-{i}", force=False))
        tell(result)
        outcomes.append(RunOutcome(f"repeat-{i}", result.run_dir, result.exit_code, result.summary))
        if result.exit_code in (2, 3, 130):
            break
    write_aggregate(base, outcomes, "repeat")
    print(counts_line(outcomes), file=sys.stderr)
    print(base)
    return max(o.exit_code for o in outcomes)


def _one(opts: RunOptions) -> int:
    from harness.run import main_sync

    result = main_sync(opts)
    tell(result)
    print(result.report or result.run_dir)
    return result.exit_code


def tell(result: RunResult) -> None:
    """The verdict and why, first; then the anomaly counts (stderr, for people)."""
    summary = result.summary or {}
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not summary:
        return
    verdict = summary.get("verdict", "unknown")
    doubt = " (figures compromised: see the report)" if verdict == "pass" and summary.get("compromised") else ""
    print(f"verdict: {verdict}{doubt}", file=sys.stderr)
    for reason in summary.get("verdict_reasons") or []:
        print(f"  - {reason}", file=sys.stderr)
    anomalies = ", ".join(f"{k} {len(v)}" for k, v in summary["anomalies"].items())
    print(f"anomalies: {anomalies}", file=sys.stderr)

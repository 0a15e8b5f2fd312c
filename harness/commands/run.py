"""`invoice-chaos run`: one scenario end to end (CONTRACT §4)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.run import RunOptions, RunResult
    from harness.sweep import Variant

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
    p.add_argument("--label", metavar="NAME",
                   help="name the SUT in reports and compare (e.g. a vendor's name; default: how it was started)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="run directory, new or empty (default reports/<UTC time>-<scenario>/)")
    p.add_argument("--force", action="store_true",
                   help="clear an earlier invoice-chaos run in --out instead of refusing the folder")
    p.add_argument("--fail-on-compromised", action="store_true",
                   help="exit 1 for a pass whose figures are in doubt (a saturated machine, a lagging load)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run N times with seeds seed, seed+1, ... into DIR/repeat-1 ... (for confidence intervals); "
                        "a scenario with a sweep runs each variant N times")
    p.add_argument("--time-scale", type=float, metavar="F",
                   help="stretch (F > 1) or compress (F < 1) every duration of the scenario")
    p.add_argument("--toxiproxy-url", metavar="URL", help="use this Toxiproxy server instead of the embedded one")
    p.add_argument("--toxiproxy-bin", type=Path, metavar="PATH",
                   help="local backend: start this toxiproxy-server binary as the run's fault proxy instead of the "
                        "embedded one")
    p.add_argument("--sut-health-timeout", type=float, metavar="S",
                   help="seconds the SUT may take to answer GET /health after a start (default 30; 90 for an image)")
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
    if args.sut_health_timeout is not None and not 0 < args.sut_health_timeout <= 3600:
        raise InputError(f"--sut-health-timeout {args.sut_health_timeout}: give seconds, more than 0 and at most 3600")
    from harness.proxy.original import check_option

    backend = args.backend or ("docker" if args.sut_image else "local")
    check_option(args.toxiproxy_bin, args.toxiproxy_url, backend)     # before any run directory
    opts = RunOptions(scenario_path=args.scenario, sut=args.sut, sut_cmd=args.sut_cmd, sut_url=args.sut_url,
                      seed=args.seed, out=args.out, time_scale=args.time_scale,
                      toxiproxy_url=args.toxiproxy_url, toxiproxy_bin=args.toxiproxy_bin,
                      bureau_listen=args.bureau_listen,
                      backend=backend, sut_image=args.sut_image,
                      toxiproxy_image=args.toxiproxy_image, pull=args.pull, force=args.force,
                      fail_on_compromised=args.fail_on_compromised, sut_health_timeout_s=args.sut_health_timeout,
                      label=args.label)
    from harness.sweep import load_variants

    variants = load_variants(args.scenario, seed=args.seed, time_scale=args.time_scale)
    if len(variants) == 1 and args.repeat == 1:
        return _one(replace(opts, scenario=variants[0].scenario))
    return _many(opts, variants, args.repeat)


def _many(opts: RunOptions, variants: list[Variant], n: int) -> int:
    """Every variant of a sweep, each N times, into one folder (``hang_s=5/``, ``repeat-2/``);
    seeds derived from the first. One aggregate verdict, line and files (aggregate.json,
    aggregate.md with the value -> anomalies table, a merged junit.xml); exit: the worst."""
    from harness.aggregate import RunOutcome, counts_line, write_aggregate
    from harness.outdir import prepare_run_dir
    from harness.run import default_run_dir, main_sync

    base = opts.out.resolve() if opts.out is not None else default_run_dir(variants[0].scenario)
    prepare_run_dir(base, force=opts.force)
    plan = [(v, i) for v in variants for i in range(1, n + 1)]
    outcomes: list[RunOutcome] = []
    for k, (v, i) in enumerate(plan, 1):
        name = "/".join(x for x in (v.label, f"repeat-{i}" if n > 1 else None) if x)
        seed = v.scenario.seed + i - 1
        print(f"[{k}/{len(plan)}] {name} (seed {seed})", file=sys.stderr)
        scenario = v.scenario.model_copy(update={"seed": seed})
        result = main_sync(replace(opts, scenario=scenario, variant=v.label, seed=seed, out=base / name, force=False))
        tell(result)
        outcomes.append(RunOutcome(name, result.run_dir, result.exit_code, result.summary, v.label, v.value))
        if result.exit_code in (2, 3, 130):
            break
    param = variants[0].param
    write_aggregate(base, outcomes, "sweep" if param else "repeat", param=param)
    print(counts_line(outcomes), file=sys.stderr)
    print(base / "aggregate.md")
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

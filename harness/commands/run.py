"""`invoice-chaos run`: one scenario end to end (CONTRACT §4)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.run import RunOptions

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
    p.add_argument("--out", type=Path, metavar="DIR", help="run directory (default reports/<UTC time>-<scenario>/)")
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
                      toxiproxy_image=args.toxiproxy_image, pull=args.pull)
    if args.repeat == 1:
        return _one(opts)
    return _repeat(opts, args.repeat)


def _repeat(opts: RunOptions, n: int) -> int:
    """N runs into one folder, seeds derived from the first; exit code: the worst of them."""
    from dataclasses import replace

    from harness.scenario import load_scenario

    scenario = load_scenario(opts.scenario_path, seed=opts.seed, time_scale=opts.time_scale)
    if opts.out is None:
        from harness.run import default_run_dir

        base = default_run_dir(scenario)
    else:
        base = opts.out
    codes = []
    for i in range(1, n + 1):
        print(f"repeat {i} of {n} (seed {scenario.seed + i - 1})", file=sys.stderr)
        code = _one(replace(opts, seed=scenario.seed + i - 1, out=base / f"repeat-{i}"))
        codes.append(code)
        if code in (2, 3, 130):
            return code
    print(base.resolve())
    return max(codes)


def _one(opts: RunOptions) -> int:
    from harness.run import main_sync

    result = main_sync(opts)
    summary = result.summary or {}
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if summary:
        anomalies = ", ".join(f"{k} {len(v)}" for k, v in summary["anomalies"].items())
        failed = [g["name"] for g in summary["gates"] if not g["passed"]]
        print(f"verdict: {summary['verdict']}" + (" (compromised)" if summary.get("compromised") else ""), file=sys.stderr)
        print(f"anomalies: {anomalies}", file=sys.stderr)
        if failed:
            print(f"failed gates: {', '.join(failed)}", file=sys.stderr)
    print((result.report or result.run_dir).resolve())
    return result.exit_code

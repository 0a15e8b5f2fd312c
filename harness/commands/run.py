"""`invoice-chaos run`: one scenario end to end (CONTRACT §4)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run a scenario against a SUT and write the run directory"
EXAMPLE = "invoice-chaos run scenarios/smoke.yaml --sut reference:resilient --seed 7"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    sut = p.add_mutually_exclusive_group()
    sut.add_argument("--sut", help="reference:naive | reference:retrying | reference:resilient (default)")
    sut.add_argument("--sut-cmd", metavar="CMD", help="start any command as the SUT (environment of CONTRACT §3)")
    sut.add_argument("--sut-url", metavar="URL", help="audit an already running SUT (started with BUREAU_URL=http://<--bureau-listen>)")
    p.add_argument("--backend", default="local", choices=["local"], help="where services run (default local)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--out", type=Path, metavar="DIR", help="run directory (default reports/<UTC time>-<scenario>/)")
    p.add_argument("--time-scale", type=float, metavar="F",
                   help="stretch (F > 1) or compress (F < 1) every duration of the scenario")
    p.add_argument("--toxiproxy-url", metavar="URL", help="use this Toxiproxy server instead of the embedded one")
    p.add_argument("--bureau-listen", default="127.0.0.1:26001", metavar="HOST:PORT",
                   help="proxy address the SUT reaches the bureau on, for --sut-url (default 127.0.0.1:26001)")


def run(args: argparse.Namespace) -> int:
    from harness.errors import InputError
    from harness.run import RunOptions, main_sync

    if args.time_scale is not None and args.time_scale <= 0:
        raise InputError(f"--time-scale {args.time_scale}: must be greater than 0")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed {args.seed}: must be 0 or more")
    opts = RunOptions(scenario_path=args.scenario, sut=args.sut, sut_cmd=args.sut_cmd, sut_url=args.sut_url,
                      seed=args.seed, out=args.out, time_scale=args.time_scale,
                      toxiproxy_url=args.toxiproxy_url, bureau_listen=args.bureau_listen, backend=args.backend)
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
    print(result.report if result.report else result.run_dir)
    return result.exit_code

"""`invoice-chaos suite`: run several scenarios against one SUT and write one summary table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HELP = "run every scenario of a folder (or the files given) and write one summary table"
EXAMPLE = "invoice-chaos suite scenarios/ --sut reference:retrying --time-scale 0.5 --out reports/suite"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", type=Path, metavar="DIR|SCENARIO.yaml")
    sut = p.add_mutually_exclusive_group()
    sut.add_argument("--sut", help="reference:naive | reference:retrying | reference:resilient")
    sut.add_argument("--sut-cmd", metavar="CMD", help="start any command as the SUT")
    p.add_argument("--label", metavar="NAME", help="name the SUT in every report (e.g. a vendor's name)")
    p.add_argument("--seed", type=int, help="override every scenario's seed")
    p.add_argument("--time-scale", type=float, metavar="F", help="stretch or compress every duration")
    p.add_argument("--out", type=Path, metavar="DIR", help="suite directory, new or empty (default reports/<UTC time>-suite/)")
    p.add_argument("--force", action="store_true", help="clear an earlier invoice-chaos suite in --out instead of refusing it")
    p.add_argument("--fail-on-compromised", action="store_true",
                   help="a pass whose figures are in doubt counts as a failure (exit 1)")
    p.add_argument("--toxiproxy-url", metavar="URL", help="use this Toxiproxy server instead of the embedded one")
    p.add_argument("--toxiproxy-bin", type=Path, metavar="PATH",
                   help="start this toxiproxy-server binary as each run's fault proxy instead of the embedded one")
    p.add_argument("--sut-health-timeout", type=float, metavar="S",
                   help="seconds the SUT may take to answer GET /health after a start (default 30)")


def scenario_files(paths: list[Path]) -> list[Path]:
    from harness.errors import InputError

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.glob("*.yaml"))
        elif p.is_file():
            files.append(p)
        else:
            raise InputError(f"{p}: no such file or folder; give scenario files or a folder of them")
    if not files:
        raise InputError(f"{', '.join(map(str, paths))}: no *.yaml scenario found")
    return files


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from harness.aggregate import RunOutcome, counts_line, write_aggregate
    from harness.commands.run import tell
    from harness.outdir import prepare_run_dir
    from harness.proxy.original import check_option
    from harness.run import RunOptions, main_sync
    from harness.sweep import load_variants

    check_option(args.toxiproxy_bin, args.toxiproxy_url, "local")     # before any run
    files = scenario_files(args.paths)
    # Every file (and every variant of a sweep) is checked before anything runs.
    plan = [(f, v) for f in files for v in load_variants(f, seed=args.seed, time_scale=args.time_scale)]
    out = (args.out or Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-suite").resolve()
    prepare_run_dir(out, force=args.force)
    print(planned_time([v.scenario for _, v in plan]), file=sys.stderr)
    rows: list[dict[str, Any]] = []
    outcomes: list[RunOutcome] = []
    for i, (f, v) in enumerate(plan, 1):
        name = f"{f.stem}/{v.label}" if v.label else f.stem
        print(f"[{i}/{len(plan)}] {name}", file=sys.stderr)
        opts = RunOptions(scenario_path=f, sut=args.sut, sut_cmd=args.sut_cmd, seed=v.scenario.seed,
                          out=out / name, time_scale=args.time_scale, toxiproxy_url=args.toxiproxy_url,
                          toxiproxy_bin=args.toxiproxy_bin,
                          fail_on_compromised=args.fail_on_compromised, scenario=v.scenario, variant=v.label,
                          sut_health_timeout_s=args.sut_health_timeout, label=args.label)
        result = main_sync(opts)
        tell(result)
        rows.append(_row(name, result.exit_code, result.summary))
        outcomes.append(RunOutcome(name, result.run_dir, result.exit_code, result.summary, v.label, v.value))
        if result.exit_code == 130:
            break
    (out / "suite.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "suite.md").write_text(_markdown(rows), encoding="utf-8")
    write_aggregate(out, outcomes, "suite")
    print(_markdown(rows), file=sys.stderr)
    print(counts_line(outcomes), file=sys.stderr)
    print(out / "suite.md")
    return max(o.exit_code for o in outcomes)


# Starting the services and collecting take a few seconds a run (measured: 5-8 s here).
SETUP_S = 8.0


def planned_time(scenarios: list[Any]) -> str:
    """What the suite will take, said before it starts: the load of every run, plus its drain
    (an upper bound: it ends early once nothing is pending) and its setup."""
    from harness.load.shapes import total_duration

    load = sum(total_duration(s.scaled_load().shape) for s in scenarios)
    drain = sum(s.drain_scaled_s for s in scenarios)
    setup = SETUP_S * len(scenarios)
    low, high = (load + setup) / 60, (load + drain + setup) / 60
    return (f"suite: {len(scenarios)} run(s), about {low:.0f}-{high:.0f} min "
            f"({load / 60:.1f} min of load, drains of up to {drain / 60:.1f} min)")


def _row(name: str, code: int, s: dict[str, Any] | None) -> dict[str, Any]:
    s = s or {}
    return {
        "scenario": name, "exit_code": code, "verdict": s.get("verdict", "error"),
        "compromised": s.get("compromised"), "requests": s.get("requests"),
        "p99_ms": (s.get("latency_ms") or {}).get("p99"),
        "anomalies": {k: len(v) for k, v in (s.get("anomalies") or {}).items()},
        "recover_s": {f["id"]: f.get("time_to_recover_s") for f in s.get("faults", [])},
    }


def _markdown(rows: list[dict[str, Any]]) -> str:
    from harness.checks.invoices import ANOMALY_KINDS as kinds

    lines = ["| scenario | verdict | ok / total | p99 ms | " + " | ".join(kinds) + " | recovery s |",
             "| --- | --- | --- | --- | " + " | ".join("---" for _ in kinds) + " | --- |"]
    for r in rows:
        req = r["requests"] or {}
        rec = ", ".join(f"{k} {'-' if v is None else v}" for k, v in r["recover_s"].items()) or "-"
        verdict = r["verdict"] + (" (compromised)" if r["compromised"] else "")
        lines.append(f"| {r['scenario']} | {verdict} | {req.get('ok', '-')} / {req.get('total', '-')} | "
                     f"{r['p99_ms'] if r['p99_ms'] is not None else '-'} | "
                     + " | ".join(str(r["anomalies"].get(k, "-")) for k in kinds) + f" | {rec} |")
    return "\n".join(lines) + "\n"

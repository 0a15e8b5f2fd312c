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
    p.add_argument("--seed", type=int, help="override every scenario's seed")
    p.add_argument("--time-scale", type=float, metavar="F", help="stretch or compress every duration")
    p.add_argument("--out", type=Path, metavar="DIR", help="suite directory, new or empty (default reports/<UTC time>-suite/)")
    p.add_argument("--force", action="store_true", help="clear an earlier invoice-chaos suite in --out instead of refusing it")
    p.add_argument("--fail-on-compromised", action="store_true",
                   help="a pass whose figures are in doubt counts as a failure (exit 1)")
    p.add_argument("--toxiproxy-url", metavar="URL", help="use this Toxiproxy server instead of the embedded one")


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
    from harness.run import RunOptions, main_sync
    from harness.scenario import load_scenario

    files = scenario_files(args.paths)
    for f in files:  # every file is checked before anything runs
        load_scenario(f, seed=args.seed, time_scale=args.time_scale)
    out = (args.out or Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-suite").resolve()
    prepare_run_dir(out, force=args.force)
    rows: list[dict[str, Any]] = []
    outcomes: list[RunOutcome] = []
    for i, f in enumerate(files, 1):
        print(f"[{i}/{len(files)}] {f.stem}", file=sys.stderr)
        opts = RunOptions(scenario_path=f, sut=args.sut, sut_cmd=args.sut_cmd, seed=args.seed,
                          out=out / f.stem, time_scale=args.time_scale, toxiproxy_url=args.toxiproxy_url,
                          fail_on_compromised=args.fail_on_compromised)
        result = main_sync(opts)
        tell(result)
        rows.append(_row(f.stem, result.exit_code, result.summary))
        outcomes.append(RunOutcome(f.stem, result.run_dir, result.exit_code, result.summary))
        if result.exit_code == 130:
            break
    (out / "suite.json").write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "suite.md").write_text(_markdown(rows), encoding="utf-8")
    write_aggregate(out, outcomes, "suite")
    print(_markdown(rows), file=sys.stderr)
    print(counts_line(outcomes), file=sys.stderr)
    print(out / "suite.md")
    return max(o.exit_code for o in outcomes)


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

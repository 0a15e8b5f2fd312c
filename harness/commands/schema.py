"""`invoice-chaos schema`: print or write the JSON Schema of scenario files or of summary.json."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HELP = "print (or write with --out) the JSON Schema of scenario files or of summary.json"
EXAMPLE = "invoice-chaos schema scenario --out .schemas/scenario.schema.json"

KINDS = ("scenario", "summary")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=KINDS, help="scenario: scenario YAML files; summary: a run's summary.json")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the schema to FILE instead of standard output")


def run(args: argparse.Namespace) -> int:
    from harness.errors import InputError
    from harness.schemas import SCHEMAS

    text = json.dumps(SCHEMAS[args.kind](), ensure_ascii=False, indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
        return 0
    out: Path = args.out
    if out.is_dir():
        raise InputError(f"--out {out}: is a folder; give a file name such as {out / (args.kind + '.schema.json')}")
    if not out.parent.is_dir():
        raise InputError(f"--out {out}: the folder {out.parent} does not exist")
    out.write_text(text, encoding="utf-8")
    print(out)
    return 0

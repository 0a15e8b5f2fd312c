"""`invoice-chaos init`: scaffold a scenario and a SUT adapter skeleton for a vendor."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

HELP = ("write a starter scenario, a minimal SUT adapter (Python, standard library) and a test "
        "that checks the adapter answers the SUT contract")
EXAMPLE = "invoice-chaos init my-adapter && cd my-adapter && python -m pytest"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", type=Path, default=Path("."), metavar="DIR",
                   help="where to write the files (default: the current folder; created if missing)")
    p.add_argument("--name", metavar="NAME",
                   help="the scenario's name (default: the folder's name); 1-64 of A-Za-z0-9_.-")


def scenario_name(directory: Path, name: str | None) -> str:
    from harness.errors import InputError

    if name is not None:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise InputError(f"--name {name!r}: use 1-64 of A-Z a-z 0-9 _ . -")
        return name
    derived = re.sub(r"[^A-Za-z0-9_.-]+", "-", directory.resolve().name).strip("-.")[:64]
    return derived or "my-adapter"


def run(args: argparse.Namespace) -> int:
    from harness.errors import InputError
    from harness.testing.scaffold import files

    directory: Path = args.dir
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory}: exists and is not a folder; give a folder to write into")
    content = files(scenario_name(directory, args.name))
    for file_name in content:  # nothing is written unless every file is new
        target = directory / file_name
        if target.exists():
            raise InputError(f"{target}: already exists; init never overwrites a file "
                             "(move it away, or choose another DIR)")
    directory.mkdir(parents=True, exist_ok=True)
    for file_name, text in content.items():
        (directory / file_name).write_text(text, encoding="utf-8")
        print(directory / file_name)
    print(f"next: cd {directory} && python -m pytest   (checks the adapter, then runs scenario.yaml)",
          file=sys.stderr)
    return 0

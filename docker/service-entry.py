"""Entry point of the service images: `service-entry.py bureau|merchant|proxy [options]`.

It builds the parser of that one command only (``harness.cli.COMMANDS``), so the images need the
`service` extra alone: other commands may import pandas or numpy just to configure their parser.
Exit codes and messages as ``invoice-chaos`` (CONTRACT §4).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.cli import COMMANDS
from harness.errors import ChaosError

SERVICES = ("bureau", "merchant", "proxy")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SERVICES:
        print(f"usage: {' | '.join(SERVICES)} [options]  (--help for each)", file=sys.stderr)
        return 2
    name = argv[0]
    module = importlib.import_module(COMMANDS[name])
    parser = argparse.ArgumentParser(prog=f"invoice-chaos {name}", description=module.HELP)
    module.configure(parser)
    args = parser.parse_args(argv[1:])
    try:
        return int(module.run(args) or 0)
    except ChaosError as exc:
        print(f"invoice-chaos {name}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

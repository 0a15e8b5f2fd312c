"""Entry point of the service images: `service-entry.py bureau|merchant|proxy [options]`.

It builds the parser of that one command only (``harness.cli.COMMANDS``), so the images need the
`service` extra alone: other commands may import pandas or numpy just to configure their parser.
Exit codes and messages as ``invoice-chaos`` (CONTRACT §4).
"""

from __future__ import annotations

import sys

from harness.cli import main as cli_main

SERVICES = ("bureau", "merchant", "proxy")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in SERVICES:
        print(f"usage: {' | '.join(SERVICES)} [options]  (--help for each)", file=sys.stderr)
        return 2
    return cli_main(argv)  # builds only that command's parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

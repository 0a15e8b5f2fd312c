"""``python -m fakes.bureau``: the bureau alone, same options as ``invoice-chaos bureau``.

Used by tests and containers so the bureau starts without importing the rest of the harness.
"""

from __future__ import annotations

import argparse
import sys

from fakes.bureau import cli
from harness.errors import ChaosError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakes.bureau", description=cli.HELP)
    cli.configure(parser)
    args = parser.parse_args(argv)
    try:
        return cli.run(args)
    except ChaosError as exc:
        print(f"bureau: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

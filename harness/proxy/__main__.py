"""``python -m harness.proxy``: the same as ``invoice-chaos proxy``, without the other commands."""

from __future__ import annotations

import argparse
import sys

from harness.errors import ChaosError
from harness.proxy import cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.proxy", description=cli.HELP,
                                     epilog=f"example:\n  {cli.EXAMPLE}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.configure(parser)
    args = parser.parse_args(argv)
    try:
        return cli.run(args)
    except ChaosError as exc:
        print(f"proxy: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

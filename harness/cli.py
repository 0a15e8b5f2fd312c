"""The ``invoice-chaos`` command.

Each subcommand lives in its own module exposing ``HELP``, ``EXAMPLE``, ``configure(parser)``
and ``run(args) -> int``. Modules are imported only to configure their parser; heavy imports
(pandas, FastAPI, ...) stay inside ``run`` so ``invoice-chaos bureau`` starts fast and the
harness never imports Locust.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from harness.errors import ChaosError

# name -> module; order is the order of `invoice-chaos --help`.
COMMANDS: dict[str, str] = {
    "run": "harness.commands.run",
    "validate": "harness.commands.validate",
    "suite": "harness.commands.suite",
    "explore": "harness.commands.explore",
    "report": "harness.commands.report",
    "compare": "harness.commands.compare",
    "bureau": "fakes.bureau.cli",
    "merchant": "fakes.merchant.cli",
    "proxy": "harness.proxy.cli",
    "images": "harness.commands.images",
    "cleanup": "harness.commands.cleanup",
    "fuzz": "harness.commands.fuzz",
    "schema": "harness.commands.schema",
    "init": "harness.commands.init",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's module is imported (fast start-up, and
    one command's import problem cannot break the others)."""
    from harness import __version__

    parser = argparse.ArgumentParser(
        prog="invoice-chaos",
        description="Chaos testing for e-invoicing integrations.",
        epilog="Run `invoice-chaos COMMAND --help` for a command's options and an example.",
    )
    parser.add_argument("--version", action="version", version=f"invoice-chaos {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        if only is not None and name != only:
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=module.HELP,
            epilog=f"example:\n  {module.EXAMPLE}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first if first in COMMANDS else None)
    args = parser.parse_args(argv)
    try:
        return int(args._module.run(args) or 0)
    except ChaosError as exc:
        print(f"invoice-chaos {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"invoice-chaos {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - a bug must still end in a message, not a traceback
        if os.environ.get("INVOICE_CHAOS_DEBUG"):
            raise
        print(f"invoice-chaos {args.command}: internal error: {type(exc).__name__}: {exc}\n"
              "  This is a bug in invoice-chaos; run again with INVOICE_CHAOS_DEBUG=1 for the traceback "
              "and report it.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())

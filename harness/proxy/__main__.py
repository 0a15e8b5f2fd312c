"""``python -m harness.proxy``: exactly ``invoice-chaos proxy``, without the other commands."""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main(["proxy", *sys.argv[1:]]))

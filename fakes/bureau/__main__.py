"""``python -m fakes.bureau``: the bureau alone, exactly ``invoice-chaos bureau``.

The CLI imports only the chosen command's module, so this starts without the rest of the
harness (tests and containers use it).
"""

from __future__ import annotations

import sys

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main(["bureau", *sys.argv[1:]]))

"""Where a run writes: a new directory, never one that already holds another run.

Writing a second run into a used directory silently merges the two (operations appended to the
first run's, both runs' invoices in one ledger), so a directory that is not empty is refused,
and cleared only when the user says ``--force`` and it is recognisably invoice-chaos output.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.errors import InputError

# Files only invoice-chaos writes at the top of its output directories: run, repeat, suite.
MARKERS = ("run.json", "summary.json", "suite.json", "aggregate.json", "repeat-1")


def prepare_run_dir(path: Path, *, force: bool = False, flag: str = "--out") -> Path:
    """Create ``path`` (and its parents) empty; return it. A non-empty folder is refused, or
    with ``force`` cleared, but only when it holds a marker of earlier invoice-chaos output."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{flag} {path}: is a file; give a folder for the run (it will be created)")
    entries = sorted(path.iterdir()) if path.is_dir() else []
    if entries:
        names = ", ".join(e.name for e in entries[:3]) + (", ..." if len(entries) > 3 else "")
        if not force:
            raise InputError(f"{flag} {path}: the folder is not empty ({names}); a run needs a new folder, or "
                             "its results would mix with what is there. Choose another folder, or add --force "
                             "to clear an earlier run in it")
        if not any((path / m).exists() for m in MARKERS):
            raise InputError(f"{flag} {path}: the folder is not empty ({names}) and holds no earlier run "
                             f"(none of {', '.join(MARKERS)}); --force clears only invoice-chaos output. "
                             "Choose another folder")
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    path.mkdir(parents=True, exist_ok=True)
    return path

"""Reports of a run: report.html, report.md, junit.xml and plots, from the run directory alone.

``render(run_dir)`` is the entry point the run engine calls at the end of a run and
``invoice-chaos report RUN_DIR`` calls to re-render.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["render"]


def render(run_dir: Path) -> Path:
    """Write the report files into ``run_dir`` and return the path of report.html."""
    # Imported lazily: pandas and matplotlib cost a second at import.
    from harness.report.render import render as _render

    return _render(run_dir)

"""Reports of a run: report.html, report.md, junit.xml and plots, from the run directory alone.

``render(run_dir)`` is the entry point the run engine calls at the end of a run and
``invoice-chaos report RUN_DIR`` calls to re-render.
"""

from __future__ import annotations

# Imported eagerly on purpose: the submodule `render` shares the function's name, and importing
# it later would rebind `harness.report.render` to the module (breaking a second
# `from harness.report import render` in the same process, as `run --repeat N` does).
from harness.report.render import render

__all__ = ["render"]

"""Report fonts: Chinese text renders where a CJK font is installed (even one installed after
matplotlib's font cache was built), and nothing is printed where none is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.report import fonts

ROOT = Path(__file__).resolve().parents[3]
CHINESE = "北京的发票北京系统里没有"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, logging set up as the CLI does (warnings shown)."""
    prelude = "import logging, sys\nlogging.basicConfig(level=logging.WARNING, stream=sys.stderr)\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, check=False)


def _cjk_font_installed() -> bool:
    from matplotlib import font_manager

    files = font_manager.findSystemFonts()
    return any(any(h in Path(f).name.lower() for h in ("cjk", "wqy", "han", "droidsansfallback", "uming"))
               for f in files)


def test_pick_takes_the_first_installed_candidate() -> None:
    assert fonts.pick(("A", "B", "C"), {"C", "B"}) == "B"
    assert fonts.pick(("A",), {"DejaVu Sans"}) is None


def test_without_a_cjk_font_chinese_text_draws_without_a_word() -> None:
    proc = _python(
        "from harness.report import fonts, plots\n"
        "fonts._configured = (False, None)  # as on a machine without any CJK font\n"
        "assert fonts.configure(('No Such CJK Font',)) is None\n"
        f"png = plots.placeholder({CHINESE!r})\n"
        "import matplotlib\n"
        "print(matplotlib.rcParams['font.family'], len(png) > 1000)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no findfont lines, no missing-glyph warnings
    assert proc.stdout.strip() == "['DejaVu Sans'] True"


def test_a_run_report_renders_without_warnings(tmp_path: Path) -> None:
    """The whole report of a synthetic run, in a fresh process, as the CLI renders it."""
    proc = _python(
        "from pathlib import Path\n"
        "from harness.report.synthetic import SyntheticRun, write_run\n"
        "from harness.report import render\n"
        f"run = write_run(Path({str(tmp_path)!r}) / 'run', SyntheticRun(n_ops=300))\n"
        "print(render(run))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.skipif(not _cjk_font_installed(), reason="no CJK font installed (e.g. apt-get install fonts-wqy-microhei)")
def test_a_cjk_font_installed_after_the_cache_was_built_is_found(tmp_path: Path) -> None:
    # matplotlib's cache is redirected to an empty folder, then the CJK fonts are taken out of the
    # in-memory list: exactly what a cache written before the font was installed looks like.
    proc = _python(
        "import matplotlib, warnings\n"
        f"matplotlib.get_cachedir = lambda: {str(tmp_path)!r}\n"
        "from matplotlib import font_manager as fm\n"
        "from harness.report import fonts, plots\n"
        "cjk = {f.fname for f in fm.fontManager.ttflist if f.name in fonts.CJK_FAMILIES}\n"
        "fm.fontManager.ttflist = [f for f in fm.fontManager.ttflist if f.fname not in cjk]\n"
        "fonts._configured = (False, None)\n"
        "family = fonts.configure()\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    plots.placeholder({CHINESE!r})\n"
        "print(family, len(caught))\n"
    )
    assert proc.returncode == 0, proc.stderr
    family, missing = proc.stdout.split("\n")[0].rsplit(" ", 1)
    assert family in fonts.CJK_FAMILIES and missing == "0", proc.stdout
    assert list(tmp_path.glob("fontlist-*.json"))  # saved, so the next process finds it at once
    assert proc.stderr == ""

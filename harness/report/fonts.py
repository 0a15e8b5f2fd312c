"""Fonts for the report's plots: Chinese text where a CJK font is installed, silence where not.

matplotlib logs a ``findfont: Font family ... not found`` warning on every text it draws when
``font.family`` names a family that is not installed (hundreds of lines a report), and it
never notices fonts installed after its font cache was built. ``configure()`` runs once per
process: it names only installed families in ``font.family`` (DejaVu Sans first, for Latin
text and digits, then the first CJK family found, which matplotlib uses glyph by glyph), adds
font files the cache does not know yet (a CJK font installed after the cache was written), and,
when no CJK font exists at all, draws the missing glyphs as boxes without a warning per glyph.
"""

from __future__ import annotations

import logging
import warnings

# Before matplotlib builds its font cache (first use in a fresh environment): that build logs
# "Matplotlib is building the font cache" as a warning; the font manager's other warnings are
# the findfont ones this module exists to avoid.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

import matplotlib  # noqa: E402
from matplotlib import font_manager  # noqa: E402

LATIN_FAMILY = "DejaVu Sans"  # ships with matplotlib: always present
# Families that cover simplified Chinese, the most likely first (Debian: fonts-noto-cjk,
# fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-uming, fonts-droid-fallback).
CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
    "Noto Sans CJK JP", "Noto Sans CJK TC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Droid Sans Fallback", "AR PL UMing CN", "AR PL UKai CN", "Noto Serif CJK SC",
    "Microsoft YaHei", "SimHei", "PingFang SC", "Hiragino Sans GB", "Heiti SC",
)
MISSING_GLYPH = r"Glyph \d+ .*missing from font"

_configured: tuple[bool, str | None] = (False, None)


def installed_families() -> set[str]:
    return {f.name for f in font_manager.fontManager.ttflist}


def pick(candidates: tuple[str, ...], installed: set[str]) -> str | None:
    """The first of ``candidates`` that is installed (None when none is)."""
    return next((c for c in candidates if c in installed), None)


def add_uncached_fonts() -> int:
    """Add system font files that matplotlib's cache does not know (installed after it was
    built), and save the cache so the next process finds them at once. Returns how many."""
    manager = font_manager.fontManager
    known = {f.fname for f in manager.ttflist}
    added = 0
    for path in font_manager.findSystemFonts():
        if path in known:
            continue
        try:
            manager.addfont(path)
            added += 1
        except Exception:  # noqa: BLE001 - an unreadable font file is skipped, like matplotlib does
            continue
    if added:
        try:
            cache = f"{matplotlib.get_cachedir()}/fontlist-v{font_manager.FontManager.__version__}.json"
            font_manager.json_dump(manager, cache)
        except Exception:  # noqa: BLE001 - a read-only cache only costs the next process this scan
            pass
    return added


def configure(candidates: tuple[str, ...] = CJK_FAMILIES) -> str | None:
    """Set ``font.family`` once per process; returns the CJK family in use, or None."""
    global _configured
    done, family = _configured
    if done:
        return family
    family = pick(candidates, installed_families())
    if family is None and add_uncached_fonts():
        family = pick(candidates, installed_families())
    if family is None:
        # No font has these glyphs: they show as boxes; one warning per glyph helps nobody.
        warnings.filterwarnings("ignore", message=MISSING_GLYPH, category=UserWarning)
    matplotlib.rcParams["font.family"] = [LATIN_FAMILY] + ([family] if family else [])
    _configured = (True, family)
    return family

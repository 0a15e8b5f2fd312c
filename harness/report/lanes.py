"""Fault lanes above a timeline: one row per fault, so eleven back-to-back faults stay readable.

A timeline figure is a strip of lanes on top of the data axes, sharing its x axis: each fault
is a coloured bar over its window in its own row, labelled beside the bar (right of it, or left
when the bar ends near the right edge), and its window is shaded in the data below. Labels can
never overlap, since no two share a row; the figure grows by one small row per fault. Sizes are
in inches, so stacked timelines of one report keep the same x pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import matplotlib.transforms as mtransforms
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from harness.report.facts import FaultFacts

# Twelve colours without the outcome colours' green and red, distinct next to each other.
FAULT_COLOURS = ("#7b61ff", "#ff7f0e", "#1f9fd4", "#c2185b", "#607d8b", "#8d6e63",
                 "#00897b", "#c49000", "#3949ab", "#e64a19", "#6d4c41", "#8e24aa")
WIDTH_IN = 12.0         # every report figure: stacked in the page, they share x pixels
LANE_IN = 0.19          # height of one lane
LEFT, RIGHT = 0.065, 0.985  # axes extent in figure fractions (as every timeline of the report)
TITLE_IN = 0.42         # room for the title above the top axes


def colour(i: int) -> str:
    return FAULT_COLOURS[i % len(FAULT_COLOURS)]


def drawn(faults: Sequence[FaultFacts]) -> list[tuple[int, FaultFacts]]:
    """The faults that have a window to draw, by start time, each with its colour index (its
    place in the run's list, so a fault keeps its colour in every plot)."""
    return sorted(((i, f) for i, f in enumerate(faults) if f.start_s is not None),
                  key=lambda x: (x[1].start_s, x[0]))


def timeline_figure(title: str, ylabel: str, data_in: float, bottom_in: float,
                    faults: Sequence[FaultFacts]) -> tuple[Figure, Axes, Axes | None]:
    """A figure with a ``data_in`` inch tall data axes, a lane strip above it (None without
    faults), ``bottom_in`` inches below for the x label and a legend, and the title on top."""
    n = len(drawn(faults))
    lanes_in = LANE_IN * n + (0.1 if n else 0.0)
    height = TITLE_IN + lanes_in + data_in + bottom_in
    fig = plt.figure(figsize=(WIDTH_IN, height))
    ax = fig.add_axes((LEFT, bottom_in / height, RIGHT - LEFT, data_in / height))
    lanes = None
    if n:
        lanes = fig.add_axes((LEFT, (bottom_in + data_in + 0.1) / height, RIGHT - LEFT,
                              LANE_IN * n / height), sharex=ax)
        lanes.set_title(title, pad=8)
    else:
        ax.set_title(title, pad=8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("seconds since load start")
    ax.grid(axis="y", alpha=0.3)
    return fig, ax, lanes


def shade(ax: Axes, faults: Sequence[FaultFacts], span: float) -> None:
    """Shade each fault window in the data axes, with a thin line where it began."""
    for i, f in drawn(faults):
        end = f.end_s if f.end_s is not None else span
        ax.axvspan(f.start_s, end, color=colour(i), alpha=0.11, lw=0, zorder=0)
        ax.axvline(f.start_s, color=colour(i), lw=1, alpha=0.6, zorder=0)


def draw_lanes(lanes: Axes, faults: Sequence[FaultFacts], span: float) -> None:
    """One row per fault: its window as a bar and its label beside it, inside the strip."""
    rows = drawn(faults)
    lanes.set_ylim(len(rows), 0)
    lanes.set_yticks([])
    lanes.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("left", "right", "top", "bottom"):
        lanes.spines[side].set_visible(False)
    renderer = lanes.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    box = lanes.get_window_extent(renderer)
    to_px = lanes.transData
    for row, (i, f) in enumerate(rows):
        assert f.start_s is not None
        end = f.end_s if f.end_s is not None else span
        lanes.broken_barh([(f.start_s, max(end - f.start_s, span * 0.002))], (row + 0.18, 0.64),
                          color=colour(i), alpha=0.75, lw=0)
        label = f.label if f.end_s is not None else f"{f.label} (never reverted)"
        trans = mtransforms.offset_copy(lanes.transData, fig=lanes.figure, x=4, units="points")
        text = lanes.text(end, row + 0.5, label, transform=trans, va="center", ha="left",
                          fontsize=8, color=colour(i), fontweight="bold", clip_on=False)
        # No room right of the bar: put the label left of its start instead.
        if text.get_window_extent(renderer).x1 > box.x1 + 2:
            text.set_transform(mtransforms.offset_copy(lanes.transData, fig=lanes.figure, x=-4,
                                                       units="points"))
            text.set_x(f.start_s)
            text.set_ha("right")
            if text.get_window_extent(renderer).x0 < to_px.transform((0, 0))[0] - 2:
                # Neither side fits (a window over nearly the whole run): inside the bar.
                text.set_transform(lanes.transData)
                text.set_x((f.start_s + end) / 2)
                text.set_ha("center")
                text.set_color("white")

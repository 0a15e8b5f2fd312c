"""Charts stay readable: every label inside its figure, fault labels never on top of each other
(full-gauntlet has eleven faults back to back), legends outside the data, numbers rounded."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from harness.report import compare_output, plots
from harness.report.compare import RunSet, measure
from harness.report.facts import FaultFacts
from harness.report.rundir import load_run

# full-gauntlet's windows (s) at its time scale: short, adjacent, two overlapping, a spike.
GAUNTLET = [("slow", "latency", "bureau", 3.4, 7.8), ("jitter", "latency", "bureau", 8.6, 12.9),
            ("ghost", "ghost_commit", "bureau", 13.7, 18.8), ("down", "down", "bureau", 19.6, 23.0),
            ("broken", "malformed_response", "bureau", 23.9, 28.1), ("lag", "visibility_lag", "bureau", 23.9, 32.4),
            ("maint", "maintenance", "bureau", 28.9, 33.2), ("throttle", "rate_limit", "bureau", 34.0, 40.9),
            ("policy", "policy_change", "bureau", 42.5, 47.7), ("bcrash", "kill", "bureau", 49.3, 52.3),
            ("mcrash", "kill", "sut", 56.1, 59.2), ("load-spike", "spike", "sut", 34.0, 39.1)]
SPAN = 69.0


def faults() -> list[FaultFacts]:
    return [FaultFacts(i, k, t, s, e, 1.0, None if i == "throttle" else 2.5, 0.4) for i, k, t, s, e in GAUNTLET]


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures the plot functions draw, kept instead of encoded."""
    kept: list[Figure] = []
    monkeypatch.setattr(plots, "_png", lambda fig: kept.append(fig) or b"")
    return kept


def texts(fig: Figure) -> list[tuple[Text, Any]]:
    """Every text the figure draws (tick labels only inside the axis limits), with its extent."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    found: list[Text] = []
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            lo, hi = sorted(lim)
            for tick in axis.get_major_ticks():
                if lo - 1e-9 <= tick.get_loc() <= hi + 1e-9:
                    found += [lab for lab in (tick.label1, tick.label2) if lab.get_visible()]
            found.append(axis.label)
        found += [ax.title, *ax.texts]
        if ax.get_legend() is not None:
            found += ax.get_legend().get_texts()
    for legend in fig.legends:
        found += legend.get_texts()
    found += fig.texts
    if getattr(fig, "_suptitle", None) is not None:
        found.append(fig._suptitle)  # type: ignore[attr-defined]
    return [(t, t.get_window_extent(renderer)) for t in found if t.get_visible() and t.get_text().strip()]


def assert_inside(fig: Figure) -> None:
    box = fig.bbox
    for t, ext in texts(fig):
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, \
            f"{t.get_text()!r} is cut off: {ext} outside {box}"


def test_eleven_faults_get_a_lane_each_and_no_label_overlaps(figures: list[Figure]) -> None:
    tp = pd.DataFrame({"issued": np.full(138, 10.0)}, index=np.arange(0, SPAN, 0.5))
    plots.throughput_plot(tp, pd.Series(np.full(138, 10.0), index=tp.index), 0.5, faults(), SPAN)
    (fig,) = figures
    lanes = [ax for ax in fig.axes if not ax.get_yticks().size]
    assert len(lanes) == 1
    labels = [(t, ext) for t, ext in texts(fig) if t in lanes[0].texts]
    assert len(labels) == len(GAUNTLET)
    for (a, ea), (b, eb) in combinations(labels, 2):
        assert not ea.overlaps(eb), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    assert_inside(fig)
    # The fault lanes sit above the data, not in it.
    data = [ax for ax in fig.axes if ax is not lanes[0]][0]
    assert lanes[0].get_position().y0 >= data.get_position().y1


def test_every_timeline_keeps_its_labels_inside(figures: list[Figure]) -> None:
    lat = pd.DataFrame({"p50": [5.0] * 10, "p95": [9.0] * 10, "p99": [20.0] * 10}, index=np.arange(10.0) * 7)
    plots.latency_plot(lat, faults(), SPAN)
    plots.error_plot(pd.DataFrame({"http_503": [1.0] * 10}, index=np.arange(10.0) * 7), 7.0, faults(), SPAN)
    plots.backlog_plot(pd.DataFrame({"t_s": np.arange(10.0) * 7, "sut_pending": [3] * 10,
                                     "machine_cpu": [50.0] * 10}), faults(), SPAN)
    for fig in figures:
        assert_inside(fig)


def test_recovery_labels_fit_and_the_legend_is_outside_the_bars(figures: list[Figure]) -> None:
    plots.recovery_plot(faults())
    (fig,) = figures
    assert_inside(fig)  # "broken malformed_response @bureau" was cut at the left edge
    (ax,) = fig.axes
    assert ax.get_legend() is None and fig.legends  # a figure legend, below the axes
    legend = fig.legends[0].get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    assert legend.y1 <= ax.get_window_extent().y0


def test_compare_labels_are_not_clipped(run_dir: Path, figures: list[Figure]) -> None:
    rep = measure(load_run(run_dir))
    long = ["cmd:python3 app.py --port $PORT (vendor-a)", "cmd:./start-adapter.sh --profile b (vendor-b)",
            "航天信息 3.2", "url:http://10.0.0.7:8080 (staging build 2024-06-01)", "reference:resilient"]
    sets = [RunSet(run_dir, label, [rep]) for label in long]
    st = compare_output.Settings(alpha=0.05, min_change=0.05, rank_by=("anomalies",), n_boot=100, seed=0)
    compare_output.metrics_plot(sets, st)
    compare_output.timeline_plot(sets)
    for fig in figures:
        assert_inside(fig)
    shown = {t.get_text() for t, _ in texts(figures[0])}
    assert set(long) <= shown  # every run set named in full


def test_numbers_carry_the_precision_that_matters() -> None:
    fmt = compare_output.fmt
    assert fmt("anomalies", 73 / 3) == "24.3"
    assert fmt("anomalies", 24.0) == "24"
    assert fmt("p99_ms", 1005.37) == "1,005 ms" and fmt("p50_ms", 4.46) == "4.5 ms"
    assert fmt("recover_s", 2.3333) == "2.3 s"
    assert fmt("error_rate", 0.05) == "5.00%"

"""The report's plots (matplotlib, Agg). Each returns PNG bytes; none of them raises on empty data.

Timeline plots share an x axis (seconds from the start of the load) and shade every fault
window, labelled with its id and kind, as Jepsen's perf checker does: the eye goes from the
shaded band to what the SUT did inside it and after it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from harness.report import fonts  # noqa: E402 - before pyplot builds a font cache, to quieten it
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from harness.report import lanes  # noqa: E402
from harness.report.facts import FaultFacts  # noqa: E402

OUTCOME_COLOURS = {"issued": "#3a9a5b", "deferred": "#9fd8b0", "ok": "#3a9a5b",
                   "fail": "#d64541", "info": "#f0a030"}
OUTCOME_LABELS = {"issued": "issued (201)", "deferred": "deferred (202)", "ok": "ok",
                  "fail": "failed (4xx/5xx)", "info": "indeterminate (timeout, reset)"}
WIDTH_IN = lanes.WIDTH_IN

plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False,
                     "axes.titlelocation": "left", "axes.titleweight": "bold"})
fonts.configure()  # Chinese text where a CJK font is installed; no findfont warnings anywhere


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # Fixed margins, not bbox "tight": timeline plots stacked in the report then share x pixels.
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def _empty(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")


def placeholder(text: str) -> bytes:
    """A small image standing in for a plot that could not be drawn, saying why."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.2))
    ax.axis("off")
    ax.text(0.01, 0.5, text[:200], va="center", ha="left", color="#c0392b",
            transform=ax.transAxes)
    return _png(fig)


def shade_faults(ax: Axes, lanes_ax: Axes | None, faults: Sequence[FaultFacts],
                 span: float) -> None:
    """Shade each fault window in the data and draw its lane above (``lanes.py``); call after
    the x limits are set."""
    lanes.shade(ax, faults, span)
    if lanes_ax is not None:
        lanes.draw_lanes(lanes_ax, faults, span)


def _stacked(ax: Axes, starts: np.ndarray, width: float, bottom: np.ndarray,
             vals: np.ndarray, colour: Any, label: str) -> None:
    """One stacked layer of a histogram as a single filled step patch (not one bar per bin:
    a day-long run has hundreds of bins per layer)."""
    if len(starts) == 0:
        return
    edges = np.append(starts, starts[-1] + width)
    ax.stairs(bottom + vals, edges, baseline=bottom, fill=True, color=colour, lw=0,
              label=label)


def _legend(fig: Figure, ax: Axes, ncol: int) -> None:
    # Below the x label in figure coordinates, so it never covers data, title or fault labels.
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False, fontsize=9,
               bbox_to_anchor=(0.5, 0.0))


def _fit_left(fig: Figure, ax: Axes, pad_in: float = 0.2) -> None:
    """Widen the left margin to the longest y tick label, so no label is cut off."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    widths = [t.get_window_extent(renderer).width for t in ax.get_yticklabels() if t.get_text()]
    if widths:
        left = (max(widths) / fig.dpi + pad_in) / fig.get_figwidth()
        fig.subplots_adjust(left=min(max(left, 0.08), 0.5))


def _timeline_axes(title: str, ylabel: str, data_in: float, bottom_in: float,
                   faults: Sequence[FaultFacts]) -> tuple[Figure, Axes, Axes | None]:
    return lanes.timeline_figure(title, ylabel, data_in, bottom_in, faults)


def throughput_plot(tp: pd.DataFrame, commits: pd.Series, width: float,
                    faults: Sequence[FaultFacts], span: float,
                    anomalous_s: Sequence[float] = ()) -> bytes:
    """Stacked outcomes per second, the bureau's commits as a line, anomalous orders as a rug."""
    # Room under the axis for the rug of anomalous orders only when there are some.
    fig, ax, lanes_ax = _timeline_axes("Throughput: operations on the SUT per second, by outcome",
                                       "ops / s", 2.3, 1.3 if len(anomalous_s) else 0.95, faults)
    bottom = np.zeros(len(tp))
    if tp.to_numpy().sum() == 0 and commits.sum() == 0:
        _empty(ax, "no operations recorded")
    for col in [c for c in ("issued", "deferred", "ok", "fail", "info") if c in tp]:
        vals = tp[col].to_numpy()
        _stacked(ax, tp.index.to_numpy(dtype=float), width, bottom, vals,
                 OUTCOME_COLOURS[col], OUTCOME_LABELS[col])
        bottom = bottom + vals
    if commits.sum() > 0:
        ax.step(commits.index, commits.to_numpy(), where="post", color="#222", lw=1.4,
                label="invoices committed at the bureau / s")
    top = max(float(bottom.max(initial=0)), float(commits.max()) if len(commits) else 0.0)
    ax.set_ylim(0, top * 1.25 + 1)
    if len(anomalous_s):
        # Just under the axis: where in time the anomalous orders were placed.
        trans = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(anomalous_s, [-0.035] * len(anomalous_s), "|", color="#8b0000", ms=9, mew=1.2,
                transform=trans, clip_on=False, label="anomalous order placed")
        ax.tick_params(axis="x", pad=12)  # room for the rug above the tick labels
    ax.set_xlim(0, span)
    shade_faults(ax, lanes_ax, faults, span)
    _legend(fig, ax, 5)
    return _png(fig)


def latency_plot(lat: pd.DataFrame, faults: Sequence[FaultFacts], span: float) -> bytes:
    fig, ax, lanes_ax = _timeline_axes("Latency of answered operations (by invocation time)",
                                       "ms, log", 1.85, 0.95, faults)
    if lat.dropna(how="all").empty:
        _empty(ax, "no answered operations")
    else:
        for col, colour in (("p50", "#3a7bd5"), ("p95", "#f0a030"), ("p99", "#d64541")):
            ax.plot(lat.index, lat[col], color=colour, lw=1.4, label=col,
                    drawstyle="steps-post")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        _legend(fig, ax, 3)
    ax.set_xlim(0, span)
    shade_faults(ax, lanes_ax, faults, span)
    return _png(fig)


def error_plot(errs: pd.DataFrame, width: float, faults: Sequence[FaultFacts],
               span: float) -> bytes:
    fig, ax, lanes_ax = _timeline_axes("Errors by kind (failed and indeterminate operations)",
                                       "ops / s", 1.85, 0.95, faults)
    if errs.empty or errs.to_numpy().sum() == 0:
        _empty(ax, "no failed or indeterminate operations")
    else:
        cmap = plt.get_cmap("tab10")
        bottom = np.zeros(len(errs))
        for i, col in enumerate(errs.columns):
            vals = errs[col].to_numpy()
            _stacked(ax, errs.index.to_numpy(dtype=float), width, bottom, vals,
                     cmap(i % 10), str(col))
            bottom = bottom + vals
        ax.set_ylim(0, float(bottom.max()) * 1.25 + 0.5)
        _legend(fig, ax, 8)
    ax.set_xlim(0, span)
    shade_faults(ax, lanes_ax, faults, span)
    return _png(fig)


def backlog_plot(probes: pd.DataFrame, faults: Sequence[FaultFacts], span: float) -> bytes:
    fig, ax, lanes_ax = _timeline_axes("SUT backlog: orders pending (accepted with 202, not yet "
                                       "issued) · dashed: machine CPU %", "orders", 1.6, 0.6, faults)
    pts = probes.dropna(subset=["sut_pending"]) if len(probes) else probes
    if pts.empty:
        _empty(ax, "no backlog probes recorded")
    else:
        ax.fill_between(pts["t_s"], pts["sut_pending"], step="post", color="#7b61ff", alpha=0.35)
        ax.step(pts["t_s"], pts["sut_pending"], where="post", color="#5b41df", lw=1.3)
        ax.set_ylim(0, float(pts["sut_pending"].max()) * 1.25 + 1)
    cpu = probes.dropna(subset=["machine_cpu"]) if "machine_cpu" in probes else probes.iloc[:0]
    if len(cpu):
        # The machine's CPU beside the backlog: a saturated machine makes every figure suspect.
        ax2 = ax.twinx()
        ax2.plot(cpu["t_s"], cpu["machine_cpu"], color="#888", lw=1, ls="--")
        ax2.set_ylim(0, 105)
        ax2.set_yticks([0, 50, 100])
        # Tick labels inside the axes: the plot keeps the x extent of the other timelines.
        ax2.tick_params(axis="y", direction="in", pad=-24, labelsize=8, colors="#777")
        ax2.spines["right"].set_visible(True)
    ax.set_xlim(0, span)
    shade_faults(ax, lanes_ax, faults, span)
    return _png(fig)


def recovery_plot(faults: Sequence[FaultFacts]) -> bytes:
    """Per fault: seconds to detect (from apply), to recover issuance and to drain (from revert)."""
    height = 1.6 + 0.55 * max(len(faults), 1)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, height))
    fig.subplots_adjust(left=0.2, right=0.985, top=1 - 0.42 / height, bottom=0.85 / height)
    ax.set_title("Recovery per fault (seconds; detect from apply, recover and drain from revert)")
    if not faults:
        _empty(ax, "no faults in this run")
        ax.set_yticks([])
        return _png(fig)
    metrics = (("time_to_detect_s", "detect", "#3a7bd5"),
               ("time_to_recover_s", "recover issuance", "#3a9a5b"),
               ("drain_s", "drain backlog", "#7b61ff"))
    y = np.arange(len(faults))
    h = 0.26
    longest = max([getattr(f, m) or 0.0 for f in faults for m, _, _ in metrics] + [1.0])
    for j, (attr, label, colour) in enumerate(metrics):
        vals = [getattr(f, attr) for f in faults]
        pos = y + (j - 1) * h
        ax.barh(pos, [v or 0.0 for v in vals], height=h, color=colour, label=label)
        for p, v in zip(pos, vals):
            text = "never" if v is None else f"{v:.1f}s"
            ax.text((v or 0.0) + longest * 0.01, p, text, va="center", fontsize=8,
                    color="#d64541" if v is None else "#333")
    ax.set_yticks(y, [f.label for f in faults])
    ax.invert_yaxis()
    ax.set_xlim(0, longest * 1.15)
    ax.set_xlabel("seconds")
    ax.grid(axis="x", alpha=0.3)
    _fit_left(fig, ax)
    _legend(fig, ax, 3)
    return _png(fig)


def anomaly_plot(counts: pd.Series) -> bytes:
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 2.6))
    fig.subplots_adjust(left=0.1, right=0.985, top=0.85, bottom=0.12)
    ax.set_title("Anomalies (orders)")
    vals = counts.to_numpy()
    colours = ["#d64541" if v else "#3a9a5b" for v in vals]
    ax.barh(list(counts.index), vals, color=colours)
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(int(vals.max(initial=0)), 1) * 1.2)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    _fit_left(fig, ax)
    return _png(fig)

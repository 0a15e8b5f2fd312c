"""compare.html, compare.md, compare.json and plots for `invoice-chaos compare`."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

import matplotlib

matplotlib.use("Agg")  # before pyplot: never a GUI backend, also when DISPLAY is set
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from harness.report import bootstrap, frames, plots  # noqa: E402
from harness.report.compare import METRICS, Comparison, RunSet, mismatches  # noqa: E402
# No green and red: a run set's colour must not read as good or bad whatever its rank.
SET_COLOURS = ("#3a7bd5", "#f0a030", "#7b61ff", "#00897b", "#8d6e63", "#607d8b", "#c2185b")
PANEL_METRICS = ("anomalies", "recover_s", "error_rate", "p99_ms")
LEGEND_COLUMNS = 3


@dataclass(frozen=True)
class Settings:
    alpha: float
    min_change: float
    rank_by: tuple[str, ...]
    n_boot: int
    seed: int


def fmt(metric: str, v: float | None) -> str:
    if v is None or v != v:
        return "–"
    if metric.endswith("_rate"):
        return f"{100 * v:.2f}%"
    if metric.endswith("_ms"):  # three significant figures is all a latency percentile carries
        return f"{v:,.0f} ms" if abs(v) >= 100 else f"{v:.1f} ms"
    if metric.endswith("_s"):  # recovery is measured on a 1 s commit-rate grid
        return f"{v:.1f} s"
    # Counts (anomalous orders), means over repeats: whole when whole, else one decimal.
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _ci_text(metric: str, s: RunSet, st: Settings) -> str:
    iv = bootstrap.mean_interval(s.values(metric), alpha=st.alpha, n_boot=st.n_boot, seed=st.seed)
    return "" if iv is None else f"[{fmt(metric, iv[0])}, {fmt(metric, iv[1])}]"


def metrics_plot(sets: list[RunSet], st: Settings) -> bytes:
    """One panel per headline metric: a bar per run set with its value written on it, and one
    legend of run-set labels below the panels (labels never fit under four narrow panels)."""
    rows = math.ceil(len(sets) / LEGEND_COLUMNS) if sets else 1
    bottom_in = 0.3 + 0.24 * rows
    height = 2.7 + bottom_in
    fig, axes = plt.subplots(1, len(PANEL_METRICS), figsize=(plots.WIDTH_IN, height))
    fig.subplots_adjust(left=0.06, right=0.99, top=1 - 0.75 / height, bottom=bottom_in / height,
                        wspace=0.35)
    fig.suptitle("Per run set: mean over repeats (bar), each repeat (dot); lower is better",
                 x=0.05, ha="left", fontweight="bold")
    x = np.arange(len(sets))
    colours = [SET_COLOURS[i % len(SET_COLOURS)] for i in range(len(sets))]
    bars = None
    for ax, metric in zip(axes, PANEL_METRICS):
        means = [s.mean(metric) for s in sets]
        heights = [0 if m != m else m for m in means]
        bars = ax.bar(x, heights, color=colours, alpha=0.8)
        tops = list(heights)
        for i, s in enumerate(sets):
            vals = s.values(metric)
            ax.scatter([i] * len(vals), vals, color="#222", s=10, zorder=3)
            tops[i] = max([tops[i], *vals])
        for i, m in enumerate(means):
            ax.annotate(fmt(metric, m), (i, tops[i]), xytext=(0, 3), textcoords="offset points",
                        ha="center", va="bottom", fontsize=8)
        ax.set_ylim(0, max(tops + [0.0]) * 1.25 or 1.0)
        ax.set_title(METRICS[metric].split(" (")[0], fontsize=9.5)
        ax.set_xticks([])
        ax.yaxis.set_major_formatter(_axis_formatter(metric))
        ax.grid(axis="y", alpha=0.3)
    if bars is not None and sets:
        fig.legend(list(bars), [s.label for s in sets], loc="lower center", frameon=False,
                   ncol=min(len(sets), LEGEND_COLUMNS), fontsize=9, bbox_to_anchor=(0.5, 0.0))
    return plots._png(fig)


def _axis_formatter(metric: str) -> matplotlib.ticker.Formatter:
    if metric.endswith("_rate"):  # "10%", "2.5%": no trailing zeros on a tick
        return matplotlib.ticker.FuncFormatter(lambda v, _: f"{100 * v:.10g}%")
    return matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.10g}")


def timeline_plot(sets: list[RunSet]) -> bytes:
    """Invoices committed at the bureau per second, first repeat of each set, faults shaded."""
    faults = sets[0].repeats[0].facts.faults if sets and sets[0].repeats else []
    rows = math.ceil(len(sets) / LEGEND_COLUMNS) if sets else 1
    fig, ax, lanes_ax = plots._timeline_axes(
        "Real issuance: invoices committed at the bureau per second (first repeat of each)",
        "invoices / s", 2.0, 0.7 + 0.25 * rows, faults)
    span = max([s.repeats[0].span_s for s in sets if s.repeats] + [1.0])
    width = frames.bin_width(span)
    for i, s in enumerate(sets):
        if not s.repeats:
            continue
        rate = frames.rate(s.repeats[0].commits_s, width, span)
        ax.step(rate.index, rate.to_numpy(), where="post", lw=1.4,
                color=SET_COLOURS[i % len(SET_COLOURS)], label=s.label)
    ax.set_xlim(0, span)
    plots.shade_faults(ax, lanes_ax, faults, span)
    plots._legend(fig, ax, min(len(sets), LEGEND_COLUMNS))
    return plots._png(fig)


def regression_plot(rows: list[Comparison], label: str) -> bytes:
    """Relative change of each metric against the baseline, with its interval."""
    usable = [r for r in rows if r.interval is not None and r.baseline not in (0.0,)
              and r.baseline == r.baseline]
    height = 1.0 + 0.32 * max(len(usable), 1)
    fig, ax = plt.subplots(figsize=(plots.WIDTH_IN, height))
    fig.subplots_adjust(left=0.22, right=0.98, top=1 - 0.45 / height, bottom=0.45 / height)
    ax.set_title(f"{label} against the baseline: change in % of the baseline, with interval")
    for i, r in enumerate(usable):
        iv = r.interval
        assert iv is not None
        scale = 100.0 / abs(r.baseline)
        colour = "#d64541" if r.regression else "#3a9a5b" if r.improvement else "#777"
        ax.errorbar(iv.estimate * scale, i, xerr=[[(iv.estimate - iv.low) * scale],
                                                  [(iv.high - iv.estimate) * scale]],
                    fmt="o", color=colour, capsize=3)
    ax.axvline(0, color="#222", lw=1)
    ax.set_yticks(range(len(usable)), [r.metric for r in usable])
    ax.invert_yaxis()
    ax.set_xlabel("% change (right = worse)")
    ax.grid(axis="x", alpha=0.3)
    plots._fit_left(fig, ax)  # fault ids make metric names of any length
    return plots._png(fig)


def _row(s: RunSet, rank: int, st: Settings) -> dict[str, Any]:
    verdicts = [r.facts.verdict for r in s.repeats]
    return {"rank": rank, "label": s.label, "path": str(s.path), "repeats": len(s.repeats),
            "passed": sum(v == "pass" for v in verdicts), "censored": s.censored,
            "means": {m: s.mean(m) for m in METRICS},
            "cells": {m: fmt(m, s.mean(m)) for m in METRICS},
            "cis": {m: _ci_text(m, s, st) for m in METRICS}}


def _cmp_row(c: Comparison) -> dict[str, Any]:
    iv = c.interval
    rel = c.relative
    return {"metric": c.metric, "baseline": fmt(c.metric, c.baseline),
            "candidate": fmt(c.metric, c.candidate),
            "change": "–" if rel is None else f"{100 * rel:+.1f}%",
            "interval": "–" if iv is None else
            f"[{fmt(c.metric, iv.low)}, {fmt(c.metric, iv.high)}]",
            "result": "REGRESSION" if c.regression else "improved" if c.improvement
            else "no significant change", "regression": c.regression, "note": c.note}


def _clean(v: Any) -> Any:
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


_ENV = jinja2.Environment(loader=jinja2.PackageLoader("harness.report", "templates"),
                          autoescape=jinja2.select_autoescape(["html", "j2"]),
                          undefined=jinja2.StrictUndefined)


def write_outputs(out: Path, ranked: list[RunSet], baseline: RunSet | None,
                  results: dict[str, list[Comparison]], st: Settings) -> Path:
    """Write compare.html, compare.md, compare.json and plots/ into ``out``; return the HTML."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "plots").mkdir(exist_ok=True)
    everything = ([baseline] if baseline else []) + ranked
    images = {"metrics": metrics_plot(everything, st), "timeline": timeline_plot(everything)}
    for i, (label, comparisons) in enumerate(results.items()):
        images[f"regression-{i + 1}"] = regression_plot(comparisons, label)
    for name, png in images.items():
        (out / "plots" / f"{name}.png").write_bytes(png)
    rows = [_row(s, i + 1, st) for i, s in enumerate(ranked)]
    base_row = _row(baseline, 0, st) if baseline else None
    cmp_rows = {label: [_cmp_row(c) for c in cs] for label, cs in results.items()}
    regressed = [label for label, cs in results.items() if any(c.regression for c in cs)]
    warnings = mismatches(everything)
    ctx = {"warnings": warnings, "rows": rows, "base": base_row, "cmp": cmp_rows, "regressed": regressed,
           "metrics": METRICS, "st": st, "mode": "regression" if baseline else "vendors",
           "img": {k: base64.b64encode(v).decode("ascii") for k, v in images.items()},
           "regression_imgs": [f"regression-{i + 1}" for i in range(len(results))]}
    html = out / "compare.html"
    html.write_text(_ENV.get_template("compare.html.j2").render(**ctx), encoding="utf-8")
    (out / "compare.md").write_text(_ENV.get_template("compare.md.j2").render(**ctx),
                                    encoding="utf-8")
    (out / "compare.json").write_text(json.dumps(_clean({
        "mode": ctx["mode"], "alpha": st.alpha, "min_change": st.min_change,
        "rank_by": list(st.rank_by), "bootstrap": {"resamples": st.n_boot, "seed": st.seed},
        "baseline": base_row, "ranking": rows, "comparisons": cmp_rows,
        "regressed": regressed, "warnings": warnings}), indent=1, ensure_ascii=False), encoding="utf-8")
    return html

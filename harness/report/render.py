"""``render(run_dir)``: every report file of one run, from the stored data alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.report import attribution, frames, plots
from harness.report.facts import Facts, build_facts
from harness.report.findings import load_findings
from harness.report.findings import markdown as findings_markdown
from harness.report.html import render_html
from harness.report.junit import render_junit
from harness.report.markdown import render_markdown
from harness.report.rundir import RunData, load_run


def make_plots(data: RunData, facts: Facts, kinds: list[attribution.KindSummary],
               problems: list[str] | None = None) -> dict[str, bytes]:
    """All plots as PNG bytes, keyed by their file stem in plots/.

    A plot that fails (data of a shape nobody foresaw) becomes a placeholder saying why, and the
    reason goes to ``problems``: one bad plot must not cost the run its report.
    """
    span = frames.span_s(data)
    width = frames.bin_width(span)
    anomalous = sorted(t for k in kinds for t in k.first_s)
    makers: dict[str, Callable[[], bytes]] = {
        "throughput": lambda: plots.throughput_plot(
            frames.throughput(data, width, span), frames.commit_rate(data, width, span), width,
            facts.faults, span, anomalous),
        "latency": lambda: plots.latency_plot(frames.latency(data, width, span), facts.faults,
                                              span),
        "errors": lambda: plots.error_plot(frames.error_kinds(data, width, span), width,
                                           facts.faults, span),
        "backlog": lambda: plots.backlog_plot(data.probes, facts.faults, span),
        "recovery": lambda: plots.recovery_plot(facts.faults),
        "anomalies": lambda: plots.anomaly_plot(frames.anomaly_counts(data)),
    }
    images: dict[str, bytes] = {}
    for name, make in makers.items():
        try:
            images[name] = make()
        except Exception as exc:  # noqa: BLE001 - shown in the report, never swallowed silently
            reason = f"the {name} plot failed: {type(exc).__name__}: {exc}"
            if problems is not None:
                problems.append(reason)
            images[name] = plots.placeholder(reason)
    return images


def render(run_dir: Path) -> Path:
    """Write report.html, report.md, junit.xml and plots/*.png into ``run_dir``.

    Every input file is optional (a run interrupted early has only some); the report then says
    what is missing. Returns the path of report.html.
    """
    run_dir = Path(run_dir)
    data = load_run(run_dir)
    facts = build_facts(data, frames.span_s(data))
    kinds = attribution.summarise(data, facts)
    images = make_plots(data, facts, kinds, facts.problems)
    plot_dir = run_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    for name, png in images.items():
        (plot_dir / f"{name}.png").write_bytes(png)
    what = [attribution.line(k) for k in kinds]
    found = load_findings(run_dir)
    md = render_markdown(facts, what)
    if found is not None:
        md = md.rstrip("\n") + "\n" + "\n".join(findings_markdown(found)) + "\n"
    (run_dir / "report.md").write_text(md, encoding="utf-8")
    explained = {k.kind: attribution.line(k) for k in kinds}
    (run_dir / "junit.xml").write_text(render_junit(facts, explained), encoding="utf-8")
    html_path = run_dir / "report.html"
    html_path.write_text(render_html(facts, images, data.load_ops, data.run, run_dir,
                                     frames.malformed(data).to_dict("records"), what, found),
                         encoding="utf-8")
    return html_path

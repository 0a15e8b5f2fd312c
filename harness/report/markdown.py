"""report.md: short enough for a CI job summary (GitHub caps one at 1 MiB), tables only.

Plots are not embedded: a job summary cannot show files from the run directory, so it points
to report.html and plots/ instead.
"""

from __future__ import annotations

from harness.report import story
from harness.report.facts import Facts

MAX_ORDERS_PER_KIND = 10
ICON = {"pass": "✅", "fail": "❌", "unknown": "❔"}


def _esc(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(facts: Facts, what_went_wrong: list[str] | None = None) -> str:
    lines: list[str] = [
        f"## {ICON.get(facts.verdict, '')} {facts.verdict.upper()} · `{_esc(facts.scenario)}`"
        f" · SUT `{_esc(facts.sut or 'unknown')}` · seed {facts.seed}",
        "",
    ]
    reasons = story.headline(facts)
    if reasons:
        lines += [f"**{story.REASONS_INTRO.get(facts.verdict, 'Because')}:**", ""] + [f"- {_esc(r)}" for r in reasons] + [""]
    lines += [f"**{story.verdict_line(facts)}** {story.load_line(facts)}", ""]
    lines += [f"> ⚠️ {_esc(w)}" for w in story.warnings(facts)]
    if what_went_wrong:
        lines += ["", "### What went wrong", ""]
        lines += [f"- {_esc(w)}" for w in what_went_wrong]
    if facts.hints:
        lines += ["", "### Likely causes", ""]
        lines += [f"- {_esc(story.hint_line(h))}" for h in facts.hints]
    if facts.faults:
        lines += ["", "### Faults and recovery", ""]
        lines += [f"- {_esc(story.fault_line(f))}" for f in facts.faults]
        lines += ["", "| fault | target | window (s) | detect | recover issuance | drain |",
                  "| --- | --- | --- | ---: | ---: | ---: |"]
        lines += [f"| {f.id} {_esc(f.kind)} | {_esc(f.target)} | {story.window(f)} | "
                  f"{story.fmt_s(f.time_to_detect_s)} | {story.fmt_s(f.time_to_recover_s)} | "
                  f"{story.fmt_s(f.drain_s)} |" for f in facts.faults]
    if facts.gates:
        lines += ["", "### Gates", "", "| | gate | metric | value | must be |",
                  "| --- | --- | --- | ---: | --- |"]
        for g in sorted(facts.gates, key=lambda g: bool(g.get("passed"))):
            lines.append(f"| {'✅' if g.get('passed') else '❌'} | {_esc(g.get('name', ''))} | "
                         f"`{_esc(g.get('metric', ''))}` | {story.fmt_value(g.get('value'))} | "
                         f"{_esc(g.get('op', ''))} {story.fmt_value(g.get('threshold'))} |")
    lines += ["", "### Anomalies", "", "| kind | orders | examples |", "| --- | ---: | --- |"]
    for kind, ids in facts.anomalies.items():
        shown = ", ".join(f"`{_esc(o)}`" for o in ids[:MAX_ORDERS_PER_KIND])
        more = f" … +{len(ids) - MAX_ORDERS_PER_KIND}" if len(ids) > MAX_ORDERS_PER_KIND else ""
        lines.append(f"| {'❌ ' if ids else ''}{kind} | {len(ids)} | {shown}{more} |")
    # No image links: a job summary cannot resolve a path inside the run directory.
    lines += ["", "Full report with plots and per-order evidence: `report.html` in the run "
              "directory (plots also in `plots/`).", ""]
    return "\n".join(lines)

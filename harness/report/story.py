"""Plain sentences that say what failed, how, and how fast the SUT recovered.

Shared by the HTML and Markdown reports so both open with the same few lines.
"""

from __future__ import annotations

from typing import Any

from harness.report.facts import Facts, FaultFacts

ANOMALY_MEANING = {
    "lost": "the SUT said issued, but the bureau has no invoice",
    "duplicate": "the bureau issued more than one invoice for the order",
    "phantom": "the bureau has an invoice the SUT does not know about (a tax liability)",
    "mismatch": "the invoice differs from the order or from what the SUT reported",
    "stuck": "still pending at the SUT when the drain period ended",
    "unexpected": "an invoice at the bureau for an order the harness never placed as valid",
    "dropped": "the SUT gave up on an order it owed an invoice for (no invoice, no refusal of the order)",
}


def fmt_s(v: float | None) -> str:
    return "never" if v is None else f"{v:.1f} s"


def fmt_ms(v: Any) -> str:
    return f"{float(v):,.0f} ms" if isinstance(v, (int, float)) else "–"


def fmt_value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, list):
        return str(len(v))
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(v)


def window(f: FaultFacts) -> str:
    start = "?" if f.start_s is None else f"{f.start_s:.1f}"
    end = "not reverted" if f.end_s is None else f"{f.end_s:.1f} s"
    return f"{start}–{end}"


MAX_HEADLINE_REASONS = 5


def verdict_reasons(facts: Facts) -> list[str]:
    """Why the run got its verdict, for the headline: summary.json's ``verdict_reasons``; for
    run directories written before that key (or a verdict without reasons), the failed gates
    and, when the figures are compromised, why. Empty for a plain pass."""
    if facts.verdict_reasons:
        return list(facts.verdict_reasons)
    reasons = [f"gate {g.get('name') or g.get('metric')}: {g.get('metric')} is "
               f"{fmt_value(g.get('value'))}, must be {g.get('op', '')} "
               f"{fmt_value(g.get('threshold'))}" for g in facts.failed_gates]
    if facts.compromised or facts.verdict == "unknown":
        reasons += facts.compromised_reasons
    if not reasons and facts.verdict == "unknown":
        reasons.append("the run cannot support a verdict (no reason recorded)")
    return reasons


REASONS_INTRO = {"fail": "Failed because", "unknown": "No verdict because", "pass": "Passed, but"}


def headline(facts: Facts) -> list[str]:
    """The headline's reasons, at most a few (the rest are in the tables below)."""
    reasons = verdict_reasons(facts)
    if len(reasons) <= MAX_HEADLINE_REASONS:
        return reasons
    shown = reasons[:MAX_HEADLINE_REASONS - 1]
    return shown + [f"… and {len(reasons) - len(shown)} more (gates and warnings below)"]


def verdict_line(facts: Facts) -> str:
    parts: list[str] = []
    if facts.gates and not facts.failed_gates:
        parts.append(f"all {len(facts.gates)} gates passed")
    elif facts.gates:
        parts.append(f"{len(facts.failed_gates)} of {len(facts.gates)} gates failed")
    bad = {k: len(v) for k, v in facts.anomalies.items() if v}
    if bad:
        detail = ", ".join(f"{n} {k}" for k, n in bad.items())
        parts.append(f"{facts.anomaly_total} anomalous orders ({detail})")
    else:
        parts.append("no anomalous orders")
    text = "; ".join(parts) + "."
    return text[0].upper() + text[1:]


def load_line(facts: Facts) -> str:
    r, lat = facts.requests, facts.latency_ms
    total = max(int(r.get("total", 0)), 1)
    return (f"{r.get('total', 0):,} operations: {r.get('ok', 0):,} ok, "
            f"{r.get('fail', 0):,} failed ({100 * r.get('fail', 0) / total:.1f}%), "
            f"{r.get('info', 0):,} indeterminate ({100 * r.get('info', 0) / total:.1f}%). "
            f"Latency p50 {fmt_ms(lat.get('p50'))}, p99 {fmt_ms(lat.get('p99'))}.")


def fault_line(f: FaultFacts) -> str:
    target = f" on {f.target}" if f.target else ""
    rec = ("issuance never got back to 90% of its pre-fault rate"
           if f.time_to_recover_s is None
           else f"issuance back to normal {fmt_s(f.time_to_recover_s)} after the revert")
    drain = ("the backlog never drained" if f.drain_s is None
             else f"backlog drained in {fmt_s(f.drain_s)}")
    detect = ("the SUT's answers never showed it" if f.time_to_detect_s is None
              else f"first visible in the SUT's answers after {fmt_s(f.time_to_detect_s)}")
    return f"{f.name}{target} ({window(f)}): {detect}; {rec}; {drain}."


def warnings(facts: Facts) -> list[str]:
    out: list[str] = []
    if not facts.audited:
        out.append("No summary.json: the run ended before its audit. Anomalies and gates are "
                   "unknown; figures below come from what was recorded.")
    if facts.interrupted:
        out.append("The run was interrupted; it covers only part of the scenario.")
    said = set(verdict_reasons(facts))  # the headline already gives these
    if facts.compromised and not (facts.compromised_reasons and set(facts.compromised_reasons) <= said):
        reasons = "; ".join(facts.compromised_reasons) or "no reason given"
        out.append(f"Figures are compromised and cannot be trusted: {reasons}.")
    for err in facts.fault_errors:
        out.append(f"A fault did not act as scheduled ({err}); its window may not have happened.")
    out += [f"Part of this report could not be drawn: {p}." for p in facts.problems]
    if facts.missing:
        out.append("Missing from the run directory: " + ", ".join(facts.missing) + ".")
    return out


def hint_line(hint: dict[str, Any]) -> str:
    """One likely cause: "12 duplicate: the SUT resubmitted ... (e.g. O-17)"."""
    return f"{hint.get('orders')} {hint.get('kind')}: {hint.get('hint')} (e.g. {hint.get('example')})"

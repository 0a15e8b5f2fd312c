"""A run's summary figures in the Prometheus text exposition format (``metrics.prom``).

``to_prometheus(summary)`` is pure: summary.json (CONTRACT §4) in, text out. Every sample
carries ``scenario`` and ``seed`` labels so the files of several runs can be merged (for example
by node_exporter's textfile collector, or pushed to a Pushgateway). Durations are in seconds,
the Prometheus base unit. A figure that is ``null`` in the summary (a fault that never
recovered, a gate whose metric is missing) is written as ``NaN``, never left out, so a
dashboard can tell "not reached" from "not measured".

Families (all gauges; see docs/ci.md)::

    invoice_chaos_verdict_pass{scenario,seed}                  1 pass, 0 fail or unknown
    invoice_chaos_verdict_unknown{scenario,seed}               1 when no verdict could be given
    invoice_chaos_compromised{scenario,seed}                   1 when the figures are not trusted
    invoice_chaos_requests{scenario,seed,outcome}              ok | fail | info | total
    invoice_chaos_latency_seconds{scenario,seed,quantile}      0.5, 0.95, 0.99, 1 (max)
    invoice_chaos_anomalies{scenario,seed,kind}                orders per anomaly list
    invoice_chaos_fault_seconds{scenario,seed,fault,kind,figure}
                                                 figure: time_to_detect | time_to_recover | drain
    invoice_chaos_gate_passed{scenario,seed,gate,metric}       1 / 0
    invoice_chaos_gate_value{scenario,seed,gate,metric}        the gate's measured value
    invoice_chaos_bureau_issue_calls_per_order{scenario,seed}  retry amplification
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PREFIX = "invoice_chaos_"
FILE_NAME = "metrics.prom"
_FAULT_FIGURES = (("time_to_detect_s", "time_to_detect"), ("time_to_recover_s", "time_to_recover"),
                  ("drain_s", "drain"))
_QUANTILES = (("p50", "0.5"), ("p95", "0.95"), ("p99", "0.99"), ("max", "1"))

Sample = tuple[Mapping[str, str], Any]


def to_prometheus(summary: Mapping[str, Any]) -> str:
    """The summary's figures as Prometheus text exposition format (version 0.0.4)."""
    base = {"scenario": str(summary.get("scenario", "")), "seed": str(summary.get("seed", ""))}
    out: list[str] = []

    def family(name: str, help_text: str, samples: Sequence[Sample]) -> None:
        out.append(f"# HELP {PREFIX}{name} {_escape_help(help_text)}")
        out.append(f"# TYPE {PREFIX}{name} gauge")
        for labels, value in samples:
            out.append(f"{PREFIX}{name}{_labels({**base, **labels})} {_number(value)}")

    family("verdict_pass", "1 when the run passed (every fault applied and reverted, every gate held), 0 otherwise",
           [({}, summary.get("verdict") == "pass")])
    family("verdict_unknown", "1 when the run could not support a verdict (see verdict_reasons), 0 otherwise",
           [({}, summary.get("verdict") == "unknown")])
    family("compromised", "1 when the run's figures cannot be trusted (see compromised_reasons)",
           [({}, bool(summary.get("compromised")))])
    requests = summary.get("requests") or {}
    family("requests", "operations of the load on the SUT by outcome (ok 201/202, fail 4xx/5xx, "
                       "info indeterminate)",
           [({"outcome": k}, requests.get(k)) for k in ("total", "ok", "fail", "info")])
    latency = summary.get("latency_ms") or {}
    family("latency_seconds", "SUT answer latency over ok and fail operations (quantile 1 = max)",
           [({"quantile": q}, _seconds(latency.get(k))) for k, q in _QUANTILES])
    anomalies = summary.get("anomalies") or {}
    family("anomalies", "orders in each anomaly list of the audit",
           [({"kind": k}, len(v or [])) for k, v in anomalies.items()])
    fault_samples: list[Sample] = []
    for f in summary.get("faults") or []:
        for key, figure in _FAULT_FIGURES:
            fault_samples.append(({"fault": str(f.get("id")), "kind": str(f.get("kind")), "figure": figure},
                                  f.get(key)))
    family("fault_seconds", "per-fault figures in seconds (NaN: not reached within the run)", fault_samples)
    gates = summary.get("gates") or []
    family("gate_passed", "1 when the gate passed",
           [(_gate_labels(g), bool(g.get("passed"))) for g in gates])
    family("gate_value", "the value a gate measured (NaN when absent)",
           [(_gate_labels(g), g.get("value")) for g in gates])
    if "bureau_calls" in summary:
        calls = (summary.get("bureau_calls") or {}).get("issue_calls_per_order")
        family("bureau_issue_calls_per_order", "bureau issue calls per order placed (retry amplification)",
               [({}, calls)])
    return "\n".join(out) + "\n"


def write_metrics(run_dir: Path, summary: Mapping[str, Any]) -> Path:
    """Write ``metrics.prom`` into ``run_dir`` (atomically) and return its path."""
    path = Path(run_dir) / FILE_NAME
    tmp = path.with_suffix(".prom.tmp")
    tmp.write_text(to_prometheus(summary), encoding="utf-8")
    tmp.replace(path)
    return path


def _gate_labels(gate: Mapping[str, Any]) -> dict[str, str]:
    return {"gate": str(gate.get("name")), "metric": str(gate.get("metric"))}


def _seconds(ms: Any) -> float | None:
    return None if ms is None else float(ms) / 1000.0


def _number(value: Any) -> str:
    """A sample value: bools as 1/0, None and non-numbers as NaN, integers without a point."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "+Inf" if value > 0 else "-Inf"
        return f"{value:.12g}"
    if isinstance(value, (list, tuple)):
        return str(len(value))
    return "NaN"


def _labels(labels: Mapping[str, str]) -> str:
    body = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())
    return "{" + body + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")

"""metrics.prom: the summary as Prometheus text exposition format, checked by a small parser."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from harness.metrics import to_prometheus, write_metrics

ROOT = Path(__file__).resolve().parents[3]
REAL_SUMMARY = ROOT / "tests" / "data" / "runs" / "ghost-small-retrying" / "summary.json"

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse exposition format 0.0.4 strictly enough to catch what Prometheus would refuse."""
    assert text.endswith("\n"), "the last line must end with a newline"
    types: dict[str, str] = {}
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("# HELP "):
            assert re.fullmatch(rf"# HELP {_NAME} .*", line), f"line {n}: {line!r}"
            continue
        if line.startswith("# TYPE "):
            m = re.fullmatch(rf"# TYPE ({_NAME}) (counter|gauge|histogram|summary|untyped)", line)
            assert m, f"line {n}: {line!r}"
            assert m.group(1) not in types, f"line {n}: second TYPE for {m.group(1)}"
            types[m.group(1)] = m.group(2)
            continue
        m = _SAMPLE.match(line)
        assert m, f"line {n}: not a sample: {line!r}"
        name, body, value = m.group(1), m.group(3) or "", m.group(4)
        assert name in types, f"line {n}: {name} has no TYPE line before it"
        labels: list[tuple[str, str]] = []
        pos = 0
        while pos < len(body):
            lm = _LABEL.match(body, pos)
            assert lm, f"line {n}: bad labels at {body[pos:]!r}"
            labels.append((lm.group(1), lm.group(2).replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")))
            pos = lm.end()
        key = (name, tuple(sorted(labels)))
        assert key not in samples, f"line {n}: duplicate series {key}"
        samples[key] = float(value)   # accepts NaN, +Inf, -Inf
    return samples


def series(samples: dict[Any, float], name: str, **labels: str) -> float:
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)]
    assert len(found) == 1, f"{name} {labels}: {len(found)} series"
    return found[0]


def test_a_real_summary_parses_and_keeps_its_figures(tmp_path: Path) -> None:
    summary = json.loads(REAL_SUMMARY.read_text(encoding="utf-8"))
    path = write_metrics(tmp_path, summary)
    assert path == tmp_path / "metrics.prom"
    samples = parse(path.read_text(encoding="utf-8"))
    p = "invoice_chaos_"
    assert series(samples, p + "verdict_pass") == (1.0 if summary["verdict"] == "pass" else 0.0)
    assert series(samples, p + "requests", outcome="ok") == summary["requests"]["ok"]
    assert math.isclose(series(samples, p + "latency_seconds", quantile="0.99"), summary["latency_ms"]["p99"] / 1000)
    assert series(samples, p + "anomalies", kind="duplicate") == len(summary["anomalies"]["duplicate"])
    f1 = summary["faults"][0]
    assert series(samples, p + "fault_seconds", fault=f1["id"], figure="time_to_detect") == f1["time_to_detect_s"]
    for g in summary["gates"]:
        assert series(samples, p + "gate_passed", gate=g["name"]) == float(g["passed"])
    assert all(dict(ls)["scenario"] == summary["scenario"] for (_, ls) in samples)


def test_nulls_become_nan_and_labels_are_escaped() -> None:
    summary = {
        "scenario": "s", "seed": 1, "verdict": "fail", "compromised": True,
        "requests": {"total": 0, "ok": 0, "fail": 0, "info": 0},
        "latency_ms": {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0},
        "anomalies": {"lost": ["o1"], "stuck": []},
        "faults": [{"id": "f1", "kind": "down", "time_to_detect_s": None, "time_to_recover_s": None, "drain_s": 1.5}],
        "gates": [{"name": 'odd "gate"\\ with\nnewline', "metric": "faults.f1.time_to_recover_s", "op": "<=",
                   "threshold": 5, "value": None, "passed": False}],
    }
    samples = parse(to_prometheus(summary))
    assert math.isnan(series(samples, "invoice_chaos_fault_seconds", figure="time_to_recover"))
    assert series(samples, "invoice_chaos_fault_seconds", figure="drain") == 1.5
    assert math.isnan(series(samples, "invoice_chaos_gate_value", gate='odd "gate"\\ with\nnewline'))
    assert series(samples, "invoice_chaos_compromised") == 1.0
    assert series(samples, "invoice_chaos_anomalies", kind="lost") == 1.0


def test_an_empty_summary_still_gives_valid_text() -> None:
    parse(to_prometheus({}))

"""The JSON Schema of ``summary.json`` (CONTRACT §4 and §5.7, ``schema_version`` 2), by hand.

Strict on the keys CI relies on (names, types, the closed sets of verdicts, anomaly kinds and
gate operators); open to additions (``additionalProperties`` is allowed at every level) so a
backward-compatible new key does not break a consumer's validation.

It is also the map of what a gate can address: ``harness.checks.gates.metric_problem`` walks
it, so a metric that names no field here is refused by ``validate`` before any run.
"""

from __future__ import annotations

from typing import Any

from harness.checks.invoices import ANOMALY_KINDS

SCHEMA_VERSION = 2
VERDICTS = ("pass", "fail", "unknown")

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_INT = {"type": "integer", "minimum": 0}
_ORDER_IDS = {"type": "array", "items": {"type": "string"}}
_ANSWERS: dict[str, Any] = {
    "type": "object",
    "properties": {k: _INT for k in ("issued", "pending", "refused_4xx", "error_5xx", "no_answer")},
}

_FAULT: dict[str, Any] = {
    "type": "object",
    "required": ["id", "kind", "start_s", "end_s", "time_to_detect_s", "time_to_recover_s", "drain_s"],
    "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string"},
        "family": {"type": ["string", "null"]},
        "target": {"type": ["string", "null"]},
        "start_s": {**_NUM_OR_NULL, "description": "apply time, seconds from the start of the load"},
        "end_s": {**_NUM_OR_NULL, "description": "revert time; null when never reverted in the run"},
        "time_to_detect_s": _NUM_OR_NULL,
        "time_to_recover_s": _NUM_OR_NULL,
        "drain_s": _NUM_OR_NULL,
    },
}

_GATE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "metric", "op", "threshold", "value", "passed"],
    "properties": {
        "name": {"type": "string"},
        "metric": {"type": "string", "description": "dotted path into this summary"},
        "op": {"enum": ["==", "!=", "<", "<=", ">", ">="]},
        "threshold": {"type": ["number", "boolean"]},
        "value": {"type": ["number", "boolean", "null"], "description": "null fails the gate"},
        "passed": {"type": "boolean"},
    },
}

_MALFORMED: dict[str, Any] = {
    "type": "object",
    "description": "present when the scenario has a malformed: phase (docs/malformed.md)",
    "properties": {
        **{k: {"type": ["integer", "null"], "minimum": 0}
           for k in ("sent", "rejected", "suspects", "findings", "not_reproduced")},
        "by_family": {"type": "object"},
        "finding_families": {"type": "array", "items": {"type": "string"}},
    },
}

_MALFORMED_RESPONSE: dict[str, Any] = {
    "type": "object",
    "description": "per malformed_response fault, the SUT's answers to orders invoked in its window",
    "properties": {
        "id": {"type": "string"},
        "operations": _INT,
        "answers": _ANSWERS,
        "broken": {"type": "object", "properties": {"operations": _INT, "answers": _ANSWERS, "lookups": _INT}},
    },
}

SUMMARY_SCHEMA: dict[str, Any] = {
    "title": "invoice-chaos summary.json",
    "description": "The verdict and figures of one run (CONTRACT §4, §5.7; docs/run-directory.md).",
    "type": "object",
    "required": ["schema_version", "scenario", "seed", "verdict", "verdict_reasons", "compromised",
                 "compromised_reasons", "requests", "latency_ms", "anomalies", "faults", "gates"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "scenario": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "verdict": {"enum": list(VERDICTS),
                    "description": "pass: every fault applied and reverted, the load ran, every ledger read, every "
                                   "gate held; unknown: the run cannot support a verdict; fail: otherwise"},
        "verdict_reasons": {"type": "array", "items": {"type": "string"},
                            "description": "why the verdict is fail or unknown, most important first; empty on pass"},
        "compromised": {"type": "boolean"},
        "compromised_reasons": {"type": "array", "items": {"type": "string"},
                                "description": "every doubt about the figures: the reasons for unknown, then soft "
                                               "ones (a saturated machine, a lagging load) that keep the verdict"},
        "requests": {
            "type": "object",
            "required": ["total", "ok", "fail", "info"],
            "properties": {k: _INT for k in ("total", "ok", "fail", "info")},
        },
        "latency_ms": {
            "type": "object",
            "required": ["p50", "p95", "p99", "max"],
            "properties": {k: {**_NUM, "minimum": 0} for k in ("p50", "p95", "p99", "max")},
        },
        "anomalies": {
            "type": "object",
            "required": list(ANOMALY_KINDS),
            "properties": {k: _ORDER_IDS for k in ANOMALY_KINDS},
        },
        "faults": {"type": "array", "items": _FAULT},
        "gates": {"type": "array", "items": _GATE},
        "availability": {"type": "array", "items": {"type": "object"}},
        "bureau_calls": {
            "type": "object",
            "properties": {"issue_calls": _INT, "lookup_calls": _INT, "issue_calls_per_order": _NUM_OR_NULL,
                           "max_issue_calls_one_order": _INT},
        },
        "evidence": {"type": "object", "additionalProperties": {"type": "object"}},
        "hints": {"type": "array", "description": "likely root causes, from the evidence (harness/checks/hints.py)",
                  "items": {"type": "object", "required": ["kind", "pattern", "orders", "example", "hint"]}},
        "malformed": _MALFORMED,
        "malformed_responses": {"type": "array", "items": _MALFORMED_RESPONSE},
    },
}

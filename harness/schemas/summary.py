"""The JSON Schema of ``summary.json`` (CONTRACT §4, ``schema_version`` 1), by hand.

Strict on the keys CI relies on (names, types, the closed sets of verdicts, anomaly kinds and
gate operators); open to additions (``additionalProperties`` is allowed at every level) so a
backward-compatible new key does not break a consumer's validation.
"""

from __future__ import annotations

from typing import Any

ANOMALY_KINDS = ("lost", "duplicate", "phantom", "mismatch", "stuck", "unexpected")

_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_ORDER_IDS = {"type": "array", "items": {"type": "string"}}

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

SUMMARY_SCHEMA: dict[str, Any] = {
    "title": "invoice-chaos summary.json",
    "description": "The verdict and figures of one run (CONTRACT §4; docs/run-directory.md).",
    "type": "object",
    "required": ["schema_version", "scenario", "seed", "verdict", "compromised", "compromised_reasons",
                 "requests", "latency_ms", "anomalies", "faults", "gates"],
    "properties": {
        "schema_version": {"const": 1},
        "scenario": {"type": "string"},
        "seed": {"type": "integer", "minimum": 0},
        "verdict": {"enum": ["pass", "fail"]},
        "compromised": {"type": "boolean"},
        "compromised_reasons": {"type": "array", "items": {"type": "string"}},
        "requests": {
            "type": "object",
            "required": ["total", "ok", "fail", "info"],
            "properties": {k: {"type": "integer", "minimum": 0} for k in ("total", "ok", "fail", "info")},
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
        "bureau_calls": {"type": "object"},
        "evidence": {"type": "object", "additionalProperties": {"type": "object"}},
    },
}

"""Gates (CONTRACT §4): thresholds on dotted paths into ``summary.json``.

``faults.f1.time_to_recover_s`` addresses the fault whose ``id`` is ``f1`` in the ``faults``
list; a list value counts as its length; a ``null`` value fails its gate.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.checks.invoices import ANOMALY_KINDS

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_MISSING = object()


def resolve_metric(summary: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path, or ``None`` when the path leads nowhere."""
    node: Any = summary
    for part in path.split("."):
        if isinstance(node, Mapping):
            node = node.get(part, _MISSING)
        elif isinstance(node, list):
            node = next((x for x in node if isinstance(x, Mapping) and x.get("id") == part), _MISSING)
        else:
            node = _MISSING
        if node is _MISSING:
            return None
    if isinstance(node, (list, tuple)):
        return len(node)
    return node


def default_gates() -> list[dict[str, Any]]:
    """A scenario without gates gets one per anomaly list: it must be empty."""
    return [
        {"name": f"no-{kind}-invoices", "metric": f"anomalies.{kind}", "op": "==", "threshold": 0}
        for kind in ANOMALY_KINDS
    ]


def evaluate_gates(summary: Mapping[str, Any], gates: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for gate in gates:
        value = resolve_metric(summary, gate["metric"])
        passed = False
        if value is not None and not isinstance(value, Mapping):
            try:
                passed = bool(OPS[gate["op"]](value, gate["threshold"]))
            except TypeError:
                passed = False
        results.append({
            "name": gate["name"],
            "metric": gate["metric"],
            "op": gate["op"],
            "threshold": gate["threshold"],
            "value": value,
            "passed": passed,
        })
    return results


def metric_problem(metric: str, fault_ids: Mapping[str, str], has_malformed_phase: bool) -> str | None:
    """Why a gate's metric can never be measured, or ``None`` when it names a number.

    Walks the summary.json schema (``harness.schemas.summary``), so a typo
    (``anomalies.duplcate``), an unknown fault id (``faults.f9.time_to_recover_s``) or a metric
    of a phase the scenario lacks is refused before a run rather than failing as ``null`` after
    it. ``fault_ids`` maps each fault id of the scenario to its kind."""
    from harness.schemas.summary import SUMMARY_SCHEMA

    node: Mapping[str, Any] = SUMMARY_SCHEMA
    walked: list[str] = []
    for part in metric.split("."):
        here = ".".join(walked) or "summary.json"
        if node.get("type") == "array" and "id" in node.get("items", {}).get("properties", {}):
            ids = [i for i, kind in fault_ids.items() if walked != ["malformed_responses"] or kind == "malformed_response"]
            if part not in ids:
                return (f"{here} has no entry {part!r}: the scenario's fault ids are {', '.join(ids) or '(none)'}")
            node = node["items"]
        elif "properties" in node:
            if part not in node["properties"]:
                return f"{here} has no field {part!r}; use one of {', '.join(node['properties'])}"
            node = node["properties"][part]
        else:
            return f"{here} has no field a gate can address (got {part!r})"
        walked.append(part)
    if walked[0] == "malformed" and not has_malformed_phase:
        return "malformed.* exists only when the scenario has a malformed: phase"
    kinds = node.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if "array" in kinds or kinds & {"number", "integer", "boolean"}:
        return None
    if "object" in kinds:
        return f"{metric} is a group of figures; name one of them: {', '.join(node.get('properties', {})) or '(none)'}"
    return f"{metric} is not a number; gates compare numbers, booleans and list lengths"

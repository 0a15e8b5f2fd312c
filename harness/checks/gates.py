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

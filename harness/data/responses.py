"""What the SUT did while the bureau answered garbage (``malformed_response`` faults).

A good SUT treats a truncated, HTML, mis-typed or empty bureau answer as indeterminate: it
neither reports the order issued on the strength of it nor crashes; it answers 202 (pending) or
a 5xx and finds out later. ``response_breakdown`` counts the SUT's answers to the load's orders
invoked inside each such fault window, for ``summary.json: malformed_responses``. Pure: it
reads recorded operations and fault windows only.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

MALFORMED_GATES: list[dict[str, Any]] = [
    {"name": "no-malformed-findings", "metric": "malformed.findings", "op": "==", "threshold": 0},
]


def _answer(op: Mapping[str, Any]) -> str:
    status = op.get("http_status")
    if status in (201, 202):
        return "issued" if status == 201 else "pending"
    if isinstance(status, int):
        return "refused_4xx" if status < 500 else "error_5xx"
    return "no_answer"


def response_breakdown(ops: Sequence[Mapping[str, Any]], faults: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per ``malformed_response`` fault: the SUT's answers to orders invoked in its window.

    ``answers`` counts ``issued`` (201), ``pending`` (202), ``refused_4xx``, ``error_5xx`` and
    ``no_answer``; ``statuses`` the exact statuses and transport errors."""
    out = []
    for f in faults:
        if f.get("kind") != "malformed_response" or not f.get("applied_at"):
            continue
        start = float(f["applied_at"])
        end = float(f["reverted_at"]) if f.get("reverted_at") else math.inf
        inside = [op for op in ops if start <= op.get("invoke_at", -1.0) < end]
        answers = Counter(_answer(op) for op in inside)
        statuses = Counter(str(op.get("http_status") or op.get("error") or "unknown") for op in inside)
        params = f.get("params") or {}
        out.append({
            "id": f.get("id"), "mode": params.get("mode"), "when": params.get("when", "after"),
            "probability": params.get("probability", 1), "operations": len(inside),
            "answers": {k: answers.get(k, 0) for k in ("issued", "pending", "refused_4xx", "error_5xx", "no_answer")},
            "statuses": dict(sorted(statuses.items())),
        })
    return out

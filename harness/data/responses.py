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


def _broken(requests: Sequence[Mapping[str, Any]]) -> tuple[set[str], Counter[str]]:
    """Orders that got at least one broken bureau answer, and GET lookups per order."""
    hit: set[str] = set()
    lookups: Counter[str] = Counter()
    for req in requests:
        oid = req.get("external_id")
        if not isinstance(oid, str):
            continue
        if "malformed_response" in (req.get("faults") or []):
            hit.add(oid)
        if req.get("method") == "GET":
            lookups[oid] += 1
    return hit, lookups


def response_breakdown(ops: Sequence[Mapping[str, Any]], faults: Sequence[Mapping[str, Any]],
                       bureau_requests: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Per ``malformed_response`` fault: the SUT's answers to orders invoked in its window.

    ``answers`` counts ``issued`` (201), ``pending`` (202), ``refused_4xx``, ``error_5xx`` and
    ``no_answer``; ``statuses`` the exact statuses and transport errors. From the bureau's
    request log: ``broken`` — the orders among them that really got a broken bureau answer,
    the SUT's answers to those, and how many lookups it made for them (resolving, not guessing)."""
    hit, lookups = _broken(bureau_requests)
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
            "broken": _broken_block([op for op in inside if op.get("order_id") in hit], lookups),
        })
    return out


def _broken_block(hit_ops: Sequence[Mapping[str, Any]], lookups: Counter[str]) -> dict[str, Any]:
    answers = Counter(_answer(op) for op in hit_ops)
    orders = {str(op.get("order_id")) for op in hit_ops}
    return {"operations": len(hit_ops),
            "answers": {k: answers.get(k, 0) for k in ("issued", "pending", "refused_4xx", "error_5xx", "no_answer")},
            "lookups": sum(lookups[o] for o in orders)}

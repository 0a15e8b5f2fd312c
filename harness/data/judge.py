"""Judging a receiver's answer to a malformed request (CONTRACT §1 and §3).

Expected: a 4xx whose body has the error shape ``{"error": {"code", "message", ...}}``. From the
bureau, a 422 must also name the example's field in ``details`` (§1); the SUT contract (§3) asks
only for the shape, so a SUT that names no field is counted (``rejected_unnamed``), not faulted.

Verdicts (``outcome``):

- ``rejected``          as expected
- ``rejected_unnamed``  4xx with the shape, the field not named (a finding for the bureau only)
- ``accepted``          2xx/3xx: invalid input was taken (a finding; from a SUT, a possible leak)
- ``server_error``      5xx (a finding)
- ``no_error_shape``    4xx without the error shape (a finding)
- ``no_answer``         timeout, reset, refused: indeterminate, a finding only if it reproduces
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from harness.data.record import Malformed

FINDING_OUTCOMES = frozenset({"accepted", "server_error", "no_error_shape", "no_answer"})


@dataclass(frozen=True)
class Answer:
    """What came back: a status and body, or the reason nothing did."""

    status: int | None
    body: bytes = b""
    content_type: str = ""
    error: str | None = None  # "timeout", "refused", "reset", ... when status is None
    elapsed_ms: float = 0.0

    def text(self, limit: int = 1000) -> str:
        return self.body[:limit].decode("utf-8", "replace")


@dataclass(frozen=True)
class Verdict:
    outcome: str
    finding: bool
    fields_named: tuple[str, ...] = ()
    reason: str = ""


def error_shape(body: bytes) -> dict[str, Any] | None:
    """The ``error`` object when ``body`` has the contract's error shape, else None."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None
    error = doc.get("error") if isinstance(doc, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not isinstance(error.get("message"), str):
        return None
    return error


def _fields(error: dict[str, Any]) -> tuple[str, ...]:
    details = error.get("details")
    if not isinstance(details, list):
        return ()
    return tuple(str(d["field"]) for d in details if isinstance(d, dict) and "field" in d)


def judge(example: Malformed, answer: Answer) -> Verdict:
    """The verdict on ``answer`` to ``example`` (see the module docstring)."""
    status = answer.status
    if status is None:
        return Verdict("no_answer", True, reason=f"no answer: {answer.error}")
    if status >= 500:
        return Verdict("server_error", True, reason=f"answered {status}")
    if status < 400:
        return Verdict("accepted", True, reason=f"answered {status}: the invalid input was taken")
    error = error_shape(answer.body)
    if error is None:
        return Verdict("no_error_shape", True, reason=f"answered {status} without the error shape")
    named = _fields(error)
    if example.field is None or status != 422 or example.field in named:
        return Verdict("rejected", False, named)
    strict = example.target == "bureau"
    return Verdict("rejected_unnamed", strict, named,
                   f"answered 422 naming {list(named)}, not {example.field!r}")

"""``PUT /admin/clock`` bodies (CONTRACT §5.1): any of ``now``, ``advance_s`` and ``rate``.

A bad value, an unknown key, or ``now`` with ``advance_s`` is 422 naming the field; whether
``now`` would move the clock backwards is the clock's to say (409).
"""

from __future__ import annotations

import math
from typing import Any

from fakes.bureau.clock import MAX_RATE, parse_rfc3339
from fakes.bureau.rules import Problem
from fakes.bureau.service import validation_failed

KEYS = ("now", "advance_s", "rate")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def clock_changes(body: Any) -> tuple[float | None, float | None, float | None]:
    """(now as epoch seconds, advance_s, rate), each None when not given; 422 when invalid."""
    if not isinstance(body, dict):
        raise validation_failed([Problem("clock", "TYPE", "the body must be an object with now, advance_s and/or rate")],
                                "the clock change")
    problems = [Problem(key, "UNKNOWN_PARAMETER", f"{key} is not a clock setting (give {', '.join(KEYS)})")
                for key in body if key not in KEYS]
    now = advance_s = rate = None
    if body.get("now") is not None:
        try:
            now = parse_rfc3339(body["now"])
        except ValueError as exc:
            problems.append(Problem("now", "FORMAT", f"now {exc}"))
    if body.get("advance_s") is not None:
        advance_s = _number(body["advance_s"])
        if advance_s is None or advance_s < 0:
            problems.append(Problem("advance_s", "RANGE", f"advance_s {body['advance_s']!r} must be a number >= 0"))
    if body.get("rate") is not None:
        rate = _number(body["rate"])
        if rate is None or not 0 < rate <= MAX_RATE:
            problems.append(Problem("rate", "RANGE", f"rate {body['rate']!r} must be a number above 0 and at most"
                                    f" {MAX_RATE:g} (bureau seconds per real second)"))
    if body.get("now") is not None and body.get("advance_s") is not None:
        problems.append(Problem("advance_s", "CONFLICT", "give now or advance_s, not both"))
    if problems:
        raise validation_failed(problems, "the clock change")
    return now, advance_s, rate

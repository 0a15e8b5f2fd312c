"""Fault specifications: parse and validate a ``PUT /admin/faults`` list into typed faults.

Every problem names its field (``faults[2].status``) and value, so a scenario author can fix it
from the 422 alone. The stored form has every default filled in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fakes.bureau.rules import RATE_RE, Problem

MODES = ("truncated_json", "html", "wrong_content_type", "empty")
# The 02 detail codes of the asynchronous channel (CONTRACT §5.4), in the order they are checked.
DETAIL_CODES = ("VALIDATION_FAILED", "NUMBER_NOT_ALLOCATED", "NUMBER_YEAR", "ISSUED_IN_FUTURE",
                "DEADLINE_PASSED", "MONTH_CLOSED", "QUOTA_EXCEEDED")
# Kinds drawn once per uploaded invoice (at receipt) instead of once per request.
PER_INVOICE = frozenset({"upload_stuck", "upload_reject"})
FIELD_PATH_RE = re.compile(r"[a-z_]+(\[\])?(\.[a-z_]+(\[\])?)*")
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
COMMON = ("kind", "id", "probability", "match", "after_requests", "every_n")

Check = Callable[[str, Any], "str | None"]


def _number(low: float, high: float | None = None) -> Check:
    def check(path: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{path} must be a number, got {value!r}"
        if value < low or (high is not None and value > high):
            upper = f" and at most {high}" if high is not None else ""
            return f"{path} must be at least {low}{upper}, got {value!r}"
        return None
    return check


def _integer(low: int, high: int) -> Check:
    def check(path: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"{path} must be an integer from {low} to {high}, got {value!r}"
        return None
    return check


def _one_of(*allowed: str) -> Check:
    def check(path: str, value: Any) -> str | None:
        if value not in allowed:
            return f"{path} must be one of {', '.join(allowed)}, got {value!r}"
        return None
    return check


def _optional(inner: Check) -> Check:
    def check(path: str, value: Any) -> str | None:
        return None if value is None else inner(path, value)
    return check


def _rates(path: str, value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{path} must be a non-empty list of rate strings like \"0.06\", got {value!r}"
    for i, rate in enumerate(value):
        if not isinstance(rate, str) or not RATE_RE.fullmatch(rate):
            return f"{path}[{i}] must be a rate string like \"0.06\", got {rate!r}"
    return None


def _field_path(path: str, value: Any) -> str | None:
    if not isinstance(value, str) or not FIELD_PATH_RE.fullmatch(value):
        return f"{path} must be a field path like \"buyer.tax_id\" or \"lines[].unit\", got {value!r}"
    return None


_REQUIRED = object()
# kind -> parameter -> (default or _REQUIRED, check)
KINDS: dict[str, dict[str, tuple[Any, Check]]] = {
    "latency": {"ms": (_REQUIRED, _number(0, 600_000)), "jitter_ms": (0, _number(0, 600_000))},
    "error": {"status": (500, _integer(400, 599))},
    "ghost_commit": {"status": (504, _integer(400, 599)), "hang_s": (None, _optional(_number(0, 3600)))},
    "rate_limit": {"rps": (0, _number(0)), "retry_after": (1, _integer(0, 86_400))},
    "maintenance": {"retry_after": (60, _integer(0, 86_400))},
    "visibility_lag": {"seconds": (_REQUIRED, _number(0))},
    "malformed_response": {"mode": (_REQUIRED, _one_of(*MODES)), "when": ("after", _one_of("after", "before")),
                           "status": (None, _optional(_integer(100, 599)))},
    "false_duplicate": {},
    "policy_change": {"rates": (None, _optional(_rates)), "required_field": (None, _optional(_field_path))},
    # CONTRACT §5.2 and §5.4
    "quota_exhausted": {},
    "auth_expired": {},
    "upload_stuck": {"seconds": (None, _optional(_number(0, 10**9)))},
    "upload_reject": {"code": (_REQUIRED, _one_of(*DETAIL_CODES))},
}


@dataclass(frozen=True)
class Fault:
    """One active fault: its stored form plus the fields the middleware reads on every request."""

    index: int
    kind: str
    probability: float
    method: str | None
    path: str | None
    params: Mapping[str, Any]
    stored: Mapping[str, Any]
    # Deterministic triggers (for replays that must hit the same requests): past the first
    # ``after_requests`` matching requests, the fault acts on every ``every_n``-th of the rest
    # (the every_n-th, the 2·every_n-th, ...); with ``external_ids``, only on requests carrying
    # one of those order references.
    after_requests: int = 0
    every_n: int = 1
    external_ids: frozenset[str] | None = None

    def matches(self, method: str, path: str, external_id: str | None = None) -> bool:
        if self.external_ids is not None and external_id not in self.external_ids:
            return False
        return (self.method is None or self.method == method) and (self.path is None or path.startswith(self.path))

    @property
    def key(self) -> str:
        """The fault as stored, as text: its request counter survives a PUT of the whole list."""
        return json.dumps(self.stored, sort_keys=True, default=str)

    def same_as(self, other: Fault) -> bool:
        """The same fault as stored, wherever it sits in the list (a PUT rebuilds every Fault)."""
        return self.stored == other.stored


def parse_faults(value: Any) -> tuple[list[Fault], list[Problem]]:
    """Faults from a JSON list, or the problems that make it invalid (each naming its field)."""
    if not isinstance(value, list):
        return [], [Problem("faults", "TYPE", f"the body must be a JSON list of faults, got {type(value).__name__}")]
    faults: list[Fault] = []
    problems: list[Problem] = []
    for i, item in enumerate(value):
        fault = _parse_one(i, item, problems)
        if fault is not None:
            faults.append(fault)
    return (faults if not problems else []), problems


def _parse_one(i: int, item: Any, problems: list[Problem]) -> Fault | None:
    at = f"faults[{i}]"
    before = len(problems)

    def bad(field: str, code: str, message: str) -> None:
        problems.append(Problem(f"{at}.{field}" if field else at, code, message))

    if not isinstance(item, dict):
        bad("", "TYPE", f"{at} must be an object, got {item!r}")
        return None
    kind = item.get("kind")
    if kind not in KINDS:
        bad("kind", "UNKNOWN_KIND" if kind is not None else "REQUIRED",
            f"{at}.kind {kind!r} must be one of {', '.join(KINDS)}")
        return None
    spec = KINDS[kind]
    for key in item:
        if key not in COMMON and key not in spec:
            bad(key, "UNKNOWN_PARAMETER", f"{at}.{key} is not a parameter of {kind} (it takes: {', '.join(spec) or 'none'})")
    fault_id = item.get("id")
    if fault_id is not None and not isinstance(fault_id, str):
        bad("id", "TYPE", f"{at}.id must be a string, got {fault_id!r}")
    probability = item.get("probability", 1)
    if (message := _number(0, 1)(f"{at}.probability", probability)) is not None:
        bad("probability", "RANGE", message)
    method, path, external_ids = _parse_match(at, item.get("match"), bad)
    after_requests, every_n = item.get("after_requests", 0), item.get("every_n", 1)
    if (message := _integer(0, 10**9)(f"{at}.after_requests", after_requests)) is not None:
        bad("after_requests", "RANGE", message)
    if (message := _integer(1, 10**9)(f"{at}.every_n", every_n)) is not None:
        bad("every_n", "RANGE", message)
    params: dict[str, Any] = {}
    for name, (default, check) in spec.items():
        if name not in item or (item[name] is None and default is not _REQUIRED):
            if default is _REQUIRED:
                bad(name, "REQUIRED", f"{at}.{name} is required for {kind}")
            params[name] = None if default is _REQUIRED else default
            continue
        if (message := check(f"{at}.{name}", item[name])) is not None:
            bad(name, "INVALID", message)
        params[name] = item[name]
    if kind == "policy_change" and params.get("rates") is None and params.get("required_field") is None:
        bad("rates", "REQUIRED", f"{at}: policy_change needs rates, required_field or both")
    if len(problems) > before:
        return None
    match = None if method is None and path is None and external_ids is None else {"method": method, "path": path}
    if match is not None and external_ids is not None:
        match["external_ids"] = sorted(external_ids)
    stored = {"kind": kind, "id": fault_id, "probability": probability, "match": match, **params}
    if after_requests or every_n != 1:
        stored.update(after_requests=after_requests, every_n=every_n)
    return Fault(i, kind, float(probability), method, path, params, stored, after_requests, every_n, external_ids)


def _parse_match(at: str, match: Any, bad: Callable[[str, str, str], None]
                 ) -> tuple[str | None, str | None, frozenset[str] | None]:
    if match is None:
        return None, None, None
    if not isinstance(match, dict):
        bad("match", "TYPE", f"{at}.match must be an object like {{\"method\": \"POST\", \"path\": \"/api/v1/invoices\"}}")
        return None, None, None
    for key in match:
        if key not in ("method", "path", "external_ids"):
            bad(f"match.{key}", "UNKNOWN_PARAMETER", f"{at}.match.{key} is not allowed (only method, path, external_ids)")
    ids = match.get("external_ids")
    external_ids = None
    if ids is not None:
        if not isinstance(ids, list) or not ids or not all(isinstance(x, str) for x in ids):
            bad("match.external_ids", "INVALID", f"{at}.match.external_ids must be a non-empty list of order ids, got {ids!r}")
        else:
            external_ids = frozenset(ids)
    method, path = match.get("method"), match.get("path")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in METHODS:
            bad("match.method", "INVALID", f"{at}.match.method must be one of {', '.join(METHODS)}, got {method!r}")
            method = None
        else:
            method = method.upper()
    if path is not None and (not isinstance(path, str) or not path.startswith("/")):
        bad("match.path", "INVALID", f"{at}.match.path must be a path prefix starting with /, got {path!r}")
        path = None
    return method, path, external_ids

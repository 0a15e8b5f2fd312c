"""The narrow seams through which faults reach inside handlers.

The middleware stores the faults acting on a request in its ASGI scope; handlers ask only
these questions of it, and never branch on fault kinds themselves.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from decimal import Decimal
from typing import Any

from fakes.bureau.faults.specs import Fault
from fakes.bureau.rules import rate_table
from fakes.bureau.service import Policy

ACTING = "bureau.faults"
IDS = "bureau.ids"
HOOKED = "bureau.hooked"  # kinds that acted through a hook, for the request log


def _acting(scope: MutableMapping[str, Any]) -> list[Fault]:
    faults: list[Fault] = scope.get(ACTING) or []
    return faults


def _mark(scope: MutableMapping[str, Any], kind: str) -> None:
    scope.setdefault(HOOKED, set()).add(kind)


def note_ids(scope: MutableMapping[str, Any], request_id: str | None, external_id: str | None) -> None:
    """Tell the request log which request_id / external_id this request carried."""
    scope[IDS] = (request_id, external_id)


def policy(scope: MutableMapping[str, Any], default: Policy) -> Policy:
    """The validation policy for this request: a policy_change replaces rates and adds fields."""
    rates: frozenset[Decimal] = default.rates
    required = list(default.required_fields)
    changed = False
    for fault in _acting(scope):
        if fault.kind != "policy_change":
            continue
        changed = True
        if fault.params.get("rates") is not None:
            rates = rate_table(fault.params["rates"])
        if fault.params.get("required_field") is not None:
            required.append(fault.params["required_field"])
    if not changed:
        return default
    _mark(scope, "policy_change")
    return Policy(rates, tuple(required))


def visibility_lag(scope: MutableMapping[str, Any]) -> float:
    """Seconds during which fresh records stay hidden from this read (0 when no lag acts)."""
    lag = 0.0
    for fault in _acting(scope):
        if fault.kind == "visibility_lag":
            lag = max(lag, float(fault.params["seconds"]))
    if lag > 0:
        _mark(scope, "visibility_lag")
    return lag

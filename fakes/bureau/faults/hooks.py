"""The narrow seams through which faults reach inside handlers.

The middleware stores the faults acting on a request in its ASGI scope; handlers ask only
these questions of it, and never branch on fault kinds themselves. Handlers also leave notes
here for the request log: the ids a request carried, the ``error.code`` answered, and for an
upload its id and its invoices (CONTRACT §5.4).
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
ERROR_CODE = "bureau.error_code"
UPLOAD_ID = "bureau.upload_id"  # an upload that was stored: its invoices get log lines of their own
UPLOAD_ITEMS = "bureau.upload_items"  # (invoice_number, external_id, request_id) of each invoice sent
UploadItem = tuple[str | None, str | None, str | None]


def _acting(scope: MutableMapping[str, Any]) -> list[Fault]:
    faults: list[Fault] = scope.get(ACTING) or []
    return faults


def _mark(scope: MutableMapping[str, Any], kind: str) -> None:
    scope.setdefault(HOOKED, set()).add(kind)


def note_ids(scope: MutableMapping[str, Any], request_id: str | None, external_id: str | None) -> None:
    """Tell the request log which request_id / external_id this request carried."""
    scope[IDS] = (request_id, external_id)


def note_error(scope: MutableMapping[str, Any], code: str | None) -> None:
    """Tell the request log the ``error.code`` of the answer (None: a success)."""
    scope[ERROR_CODE] = code


def note_upload_items(scope: MutableMapping[str, Any], items: list[Any]) -> None:
    """Tell the request log which invoices an upload carried (whatever their shape)."""
    scope[UPLOAD_ITEMS] = [upload_item(item) for item in items]


def note_upload(scope: MutableMapping[str, Any], upload_id: str) -> None:
    scope[UPLOAD_ID] = upload_id


def upload_item(item: Any) -> UploadItem:
    if not isinstance(item, dict):
        return (None, None, None)
    values = (item.get("invoice_number"), item.get("external_id"), item.get("request_id"))
    return tuple(v if isinstance(v, str) else None for v in values)  # type: ignore[return-value]


def quota_exhausted(scope: MutableMapping[str, Any]) -> bool:
    """Whether quota_exhausted acts on this (synchronous) request: every blue invoice is refused."""
    for fault in _acting(scope):
        if fault.kind == "quota_exhausted":
            _mark(scope, "quota_exhausted")
            return True
    return False


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

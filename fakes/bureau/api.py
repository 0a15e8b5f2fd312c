"""The public API (CONTRACT §1): ``/api/v1/invoices`` issue, reads and red-letter reversal.

Handlers only translate HTTP to ``service.Bureau`` calls. Faults reach in through narrow hooks
from ``faults.hooks``: the validation policy (policy_change), the read lag (visibility_lag) and
the suspended quota (quota_exhausted); everything else a fault does happens in the middleware
around them.

These are plain Starlette routes, not FastAPI path operations: FastAPI's per-request
machinery (dependency solving, parameter parsing) costs ~22 µs on every request, about a tenth
of an issue. Their OpenAPI document is written out in ``openapi.py``.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.bureau.errors import ApiError
from fakes.bureau.faults import hooks
from fakes.bureau.http import JSON, json_response, parse_json_object, read_body, read_json_object
from fakes.bureau.service import Bureau, Outcome

PREFIX = "/api/v1"


def _bureau(request: Request) -> Bureau:
    bureau: Bureau = request.app.state.bureau
    return bureau


def _ids(body: dict[str, Any]) -> tuple[str | None, str | None]:
    rid, ext = body.get("request_id"), body.get("external_id")
    return (rid if isinstance(rid, str) else None, ext if isinstance(ext, str) else None)


def _answer(outcome: Outcome) -> Response:
    return Response(outcome.body(), outcome.status, outcome.headers, media_type=JSON)


async def issue_invoice(request: Request) -> Response:
    bureau = _bureau(request)
    raw = await read_body(request, bureau.settings.max_body_bytes)
    return _answer(await issue_payload(bureau, request.scope, raw))


async def issue_payload(bureau: Bureau, scope: MutableMapping[str, Any], raw: bytes) -> Outcome:
    """Issue the invoice in a request body (this route, and the hot path of ``fastpath.py``)."""
    body = parse_json_object(raw)
    hooks.note_ids(scope, *_ids(body))
    # parse_json_object proved the bytes are valid UTF-8.
    return await bureau.issue(body, hooks.policy(scope, bureau.default_policy), raw.decode("utf-8"),
                              hooks.quota_exhausted(scope))


async def find_invoices(request: Request) -> Response:
    external_id = request.query_params.get("external_id")
    request_id = request.query_params.get("request_id")
    hooks.note_ids(request.scope, request_id, external_id)
    if external_id is None and request_id is None:
        raise ApiError(400, "MALFORMED_REQUEST", "give external_id, request_id or both as query parameters")
    found = _bureau(request).find(external_id, request_id, hooks.visibility_lag(request.scope))
    return json_response({"invoices": found})


async def get_invoice(request: Request) -> Response:
    number: str = request.path_params["invoice_number"]
    return json_response(_bureau(request).get(number, hooks.visibility_lag(request.scope)))


async def red_letter(request: Request) -> Response:
    bureau = _bureau(request)
    body = await read_json_object(request, bureau.settings.max_body_bytes)
    hooks.note_ids(request.scope, *_ids(body))
    return _answer(await bureau.reverse(request.path_params["invoice_number"], body))


ROUTES = [
    Route(f"{PREFIX}/invoices", issue_invoice, methods=["POST"]),
    Route(f"{PREFIX}/invoices", find_invoices, methods=["GET"]),
    Route(f"{PREFIX}/invoices/{{invoice_number}}", get_invoice, methods=["GET"]),
    Route(f"{PREFIX}/invoices/{{invoice_number}}/red-letter", red_letter, methods=["POST"]),
]

"""The public API (CONTRACT §1): ``/api/v1/invoices`` issue, reads and red-letter reversal.

Handlers only translate HTTP to ``service.Bureau`` calls. Faults reach in through two narrow
hooks from ``faults.hooks``: the validation policy (policy_change) and the read lag
(visibility_lag); everything else a fault does happens in the middleware around them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from fakes.bureau import openapi
from fakes.bureau.errors import ApiError
from fakes.bureau.faults import hooks
from fakes.bureau.http import JSON, json_response, parse_json_object, read_body, read_json_object
from fakes.bureau.service import Bureau

router = APIRouter(prefix="/api/v1", tags=["invoices"])


def _bureau(request: Request) -> Bureau:
    bureau: Bureau = request.app.state.bureau
    return bureau


def _ids(body: dict[str, Any]) -> tuple[str | None, str | None]:
    rid, ext = body.get("request_id"), body.get("external_id")
    return (rid if isinstance(rid, str) else None, ext if isinstance(ext, str) else None)


@router.post("/invoices", status_code=201, openapi_extra=openapi.ISSUE, responses=openapi.ISSUE_RESPONSES,
             summary="Issue a blue invoice")
async def issue_invoice(request: Request) -> Response:
    bureau = _bureau(request)
    raw = await read_body(request, bureau.settings.max_body_bytes)
    body = parse_json_object(raw)
    hooks.note_ids(request.scope, *_ids(body))
    # parse_json_object proved the bytes are valid UTF-8.
    outcome = await bureau.issue(body, hooks.policy(request.scope, bureau.default_policy), raw.decode("utf-8"))
    return Response(outcome.body(), outcome.status, outcome.headers, media_type=JSON)


@router.get("/invoices", responses=openapi.LIST_RESPONSES, summary="Find invoices by external_id and/or request_id")
async def find_invoices(request: Request, external_id: str | None = None, request_id: str | None = None) -> Response:
    hooks.note_ids(request.scope, request_id, external_id)
    if external_id is None and request_id is None:
        raise ApiError(400, "MALFORMED_REQUEST", "give external_id, request_id or both as query parameters")
    found = _bureau(request).find(external_id, request_id, hooks.visibility_lag(request.scope))
    return json_response({"invoices": found})


@router.get("/invoices/{invoice_number}", responses=openapi.RECORD_RESPONSES, summary="Read one invoice")
async def get_invoice(request: Request, invoice_number: str) -> Response:
    record = _bureau(request).get(invoice_number, hooks.visibility_lag(request.scope))
    return json_response(record)


@router.post("/invoices/{invoice_number}/red-letter", status_code=201, openapi_extra=openapi.RED_LETTER,
             responses=openapi.RED_RESPONSES, summary="Reverse an invoice (红字发票)")
async def red_letter(request: Request, invoice_number: str) -> Response:
    bureau = _bureau(request)
    body = await read_json_object(request, bureau.settings.max_body_bytes)
    hooks.note_ids(request.scope, *_ids(body))
    outcome = await bureau.reverse(invoice_number, body)
    return Response(outcome.body(), outcome.status, outcome.headers, media_type=JSON)

"""The asynchronous channel's public routes (CONTRACT §5.3-§5.6) and ``GET /api/v1/time`` (§5.1).

Like ``fakes.bureau.api``: plain Starlette routes that translate HTTP to the channel's parts;
faults reach in through ``faults.hooks`` only (validation policy, read lag, log notes).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fakes.bureau.clock import BureauClock
from fakes.bureau.faults import hooks
from fakes.bureau.http import JSON, json_response, parse_json, read_body, read_json_object
from fakes.bureau.lq.channel import LqChannel
from fakes.bureau.service import Bureau, Outcome

PREFIX = "/api/v1/lq"


def _lq(request: Request) -> LqChannel:
    channel: LqChannel = request.app.state.lq
    return channel


def _bureau(request: Request) -> Bureau:
    bureau: Bureau = request.app.state.bureau
    return bureau


def _answer(outcome: Outcome) -> Response:
    return Response(outcome.body(), outcome.status, outcome.headers, media_type=JSON)


async def bureau_time(request: Request) -> Response:
    clock: BureauClock = request.app.state.clock
    return json_response({"now": clock.header()})


async def allocate_range(request: Request) -> Response:
    body = await read_json_object(request, _bureau(request).settings.max_body_bytes)
    rid = body.get("request_id")
    hooks.note_ids(request.scope, rid if isinstance(rid, str) else None, None)
    return _answer(await _lq(request).ranges.allocate(body))


async def upload(request: Request) -> Response:
    bureau = _bureau(request)
    raw = await read_body(request, bureau.settings.max_body_bytes)
    body = parse_json(raw)
    channel = _lq(request)
    stored = await channel.uploads.receive(body, raw.decode("utf-8"), request.scope,
                                           hooks.policy(request.scope, bureau.default_policy))
    channel.processor.admit(stored)
    return json_response({"upload_id": stored.upload_id, "count": len(stored.invoices)}, 202)


async def upload_results(request: Request) -> Response:
    return json_response(_lq(request).uploads.results(request.path_params["upload_id"]))


async def get_invoice(request: Request) -> Response:
    lag = hooks.visibility_lag(request.scope)
    return json_response(_lq(request).invoice(request.path_params["invoice_number"], lag))


async def apply_confirmation(request: Request) -> Response:
    body = await read_json_object(request, _bureau(request).settings.max_body_bytes)
    channel = _lq(request)
    lag = hooks.visibility_lag(request.scope)
    return _answer(await channel.confirmations.apply(body, lag, channel.reds.reversed_by))


async def get_confirmation(request: Request) -> Response:
    return json_response(_lq(request).confirmations.get(request.path_params["confirmation_id"]))


ROUTES = [
    Route("/api/v1/time", bureau_time, methods=["GET"]),
    Route(f"{PREFIX}/ranges", allocate_range, methods=["POST"]),
    Route(f"{PREFIX}/uploads", upload, methods=["POST"]),
    Route(f"{PREFIX}/uploads/{{upload_id}}", upload_results, methods=["GET"]),
    Route(f"{PREFIX}/invoices/{{invoice_number}}", get_invoice, methods=["GET"]),
    Route(f"{PREFIX}/red-confirmations", apply_confirmation, methods=["POST"]),
    Route(f"{PREFIX}/red-confirmations/{{confirmation_id}}", get_confirmation, methods=["GET"]),
]

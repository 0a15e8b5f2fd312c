"""The admin API (CONTRACT §2, §5.1), for the harness: ledger, faults, request log, clock,
stats, reset.

Never faulted, never lagged. When ``BUREAU_ADMIN_TOKEN`` is set every call needs
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from fakes.bureau import clock as clocks
from fakes.bureau.admin_clock import clock_changes
from fakes.bureau.errors import ApiError
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.specs import parse_faults
from fakes.bureau.http import json_response, read_body
from fakes.bureau.lq.channel import LqChannel
from fakes.bureau.lq.requestlines import expand
from fakes.bureau.requestlog import RequestLog
from fakes.bureau.service import Bureau, validation_failed

NDJSON = "application/x-ndjson"


def require_token(request: Request) -> None:
    token = request.app.state.settings.admin_token
    if not token:
        return
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "UNAUTHORIZED", "the admin API needs the header Authorization: Bearer <BUREAU_ADMIN_TOKEN>")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_token)], include_in_schema=False)


def _parts(request: Request) -> tuple[Bureau, FaultBoard, RequestLog]:
    state = request.app.state
    return state.bureau, state.board, state.requestlog


def _ledger_line(row: tuple[Any, ...]) -> str:
    record_json, status, committed_at, channel, upload_id = row
    record = json.loads(record_json)
    record["status"] = status
    record["committed_at"] = datetime.fromtimestamp(committed_at, timezone.utc).isoformat(timespec="microseconds")
    record["channel"] = channel
    record["upload_id"] = upload_id
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@router.get("/ledger")
async def ledger(request: Request) -> Response:
    bureau = _parts(request)[0]
    lines = bureau.ledger.iter_lines("SELECT record, status, committed_at, channel, upload_id FROM invoices"
                                     " ORDER BY seq", _ledger_line)
    return StreamingResponse(lines, media_type=NDJSON)


@router.get("/requests")
async def requests(request: Request) -> Response:
    ledger_ = _parts(request)[0].ledger
    await ledger_.barrier()  # lines queued before this call are written first
    lines = ledger_.iter_lines("SELECT line FROM requests ORDER BY id", lambda row: expand(str(row[0]), ledger_))
    return StreamingResponse(lines, media_type=NDJSON)


def _clock_answer(request: Request) -> Response:
    clock = request.app.state.clock
    return json_response({"now": clocks.rfc3339(clock.now(), micro=True), "rate": clock.rate})


@router.get("/clock")
async def get_clock(request: Request) -> Response:
    return _clock_answer(request)


@router.put("/clock")
async def put_clock(request: Request) -> Response:
    """Move the bureau clock forward or change its rate (never backwards: 409 CLOCK_BACKWARDS)."""
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "MALFORMED_REQUEST", "the body must be a JSON object like {\"advance_s\": 3600}") from None
    now, advance_s, rate = clock_changes(value)
    try:
        state = request.app.state.clock.set(now, advance_s, rate)
    except clocks.ClockBackwards as exc:
        raise ApiError(409, "CLOCK_BACKWARDS", f"bureau time never goes backwards: {exc}") from None
    await _parts(request)[0].ledger.submit_statements([(clocks.SAVE, (state.anchor_real, state.anchor_bureau,
                                                                     state.rate))])
    return _clock_answer(request)


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    return json_response(_parts(request)[1].stored())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    board = _parts(request)[1]
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "MALFORMED_REQUEST", "the body must be a JSON list of faults") from None
    faults, problems = parse_faults(value)
    if problems:
        raise validation_failed(problems)
    board.replace(faults)
    return json_response(board.stored())


@router.delete("/faults", status_code=204)
async def delete_faults(request: Request) -> Response:
    _parts(request)[1].clear()
    return Response(status_code=204)


@router.get("/stats")
async def stats(request: Request) -> Response:
    bureau, board, log = _parts(request)
    lq: LqChannel = request.app.state.lq
    return json_response({
        "invoices": bureau.invoices,
        "requests": log.total,
        "endpoints": {name: dict(counter) for name, counter in log.by_endpoint.items()},
        "backlog": bureau.ledger.backlog,
        "commit_batches": bureau.ledger.batches,
        "faults_active": len(board.faults),
        "next_sequence": bureau.next_seq,
        "bureau_time": clocks.rfc3339(bureau.clock.now()),
        "lq": lq.stats(),
    })


@router.post("/reset")
async def reset(request: Request) -> Response:
    if not request.app.state.settings.allow_reset:
        raise ApiError(403, "RESET_NOT_ALLOWED", "reset is refused: start the bureau with --allow-reset")
    bureau, board, log = _parts(request)
    board.clear()
    board.reseed()
    await bureau.reset()
    await request.app.state.lq.reset()
    log.reset()
    return json_response({"reset": True})

"""HTTP plumbing shared by the public and admin routes: bounded JSON bodies and fast answers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope

from fakes.bureau.errors import ApiError, dumps

JSON = "application/json"


def json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(obj), status_code=status, headers=dict(headers or {}), media_type=JSON)


def error_response(exc: ApiError) -> Response:
    return json_response(exc.body(), exc.status, exc.headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing with 413 as soon as it grows past ``limit`` bytes."""
    return await read_asgi_body(request.scope, request.receive, limit)


async def read_asgi_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """``read_body`` on the ASGI messages themselves (no ``Request``: the hot path has none).
    A client that leaves before its body is complete raises ``ClientDisconnect``, as
    Starlette's ``Request.stream`` does."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise too_large(int(value), limit)
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(size, limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The body parsed as a JSON object; 400 MALFORMED_REQUEST for anything else."""
    return parse_json_object(await read_body(request, limit))


def parse_json(raw: bytes) -> Any:
    """Any JSON value; 400 MALFORMED_REQUEST when the bytes are not JSON (in UTF-8)."""
    try:
        # JSON on the wire is UTF-8 (RFC 8259 §8.1); one shared decoder, as json.loads with
        # arguments would build a new one per request.
        return _DECODER.decode(raw.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "MALFORMED_REQUEST", f"the body is not valid JSON: {_short(exc)}") from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise ApiError(400, "MALFORMED_REQUEST", f"the body must be a JSON object, got {type(body).__name__}")
    return body


def too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, "PAYLOAD_TOO_LARGE", f"the body is {size} bytes or more; the limit is {limit} bytes")


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[:200]

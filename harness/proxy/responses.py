"""Response shapes of Toxiproxy's API: JSON bodies, error bodies, the fixed oddities."""

from __future__ import annotations

from typing import Any

from harness.proxy.errors import ApiError
from harness.proxy.http import Response
from harness.proxy.jsonio import dumps

JSON = "application/json"
TEXT_UTF8 = "text/plain; charset=utf-8"
VERSION = "2.12.0"


def json_response(value: Any, status: int = 200) -> Response:
    return Response(status, dumps(value), JSON)


def no_content() -> Response:
    return Response(204)


def error_response(err: ApiError) -> Response:
    """Go's ``http.Error``: a JSON body, sent as text/plain, with a trailing newline."""
    body = dumps({"error": err.message, "status": err.status}) + b"\n"
    return Response(err.status, body, TEXT_UTF8, [("X-Content-Type-Options", "nosniff")])


def populate_error(err: ApiError, done: list[dict[str, Any]]) -> Response:
    """/populate errors are real JSON (no newline) and list the proxies processed so far."""
    body = dumps({"error": err.message, "status": err.status, "proxies": done or None})
    return Response(err.status, body, JSON)


def version_response() -> Response:
    return Response(200, b'{"version": "' + VERSION.encode() + b'"}\n', "application/json;charset=utf-8")


NOT_FOUND_PAGE = Response(404, b"404 page not found\n", TEXT_UTF8, [("X-Content-Type-Options", "nosniff")])
METHOD_NOT_ALLOWED = Response(405)
BROWSER_BLOCKED_BODY = b"User agent not allowed\n"
HANDLER_TIMEOUT = Response(503)

"""The bureau's error answers: one exception carrying the CONTRACT error shape.

Handlers raise ``ApiError``; one exception handler turns it into
``{"error": {"code", "message", "details"?, ...extra}}`` with its status and headers, so no
handler builds error bodies by hand and no traceback ever reaches a client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fakes.bureau.rules import Problem


class ApiError(Exception):
    """An error answer: status, machine code, human message, optional details and extras."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Problem] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.details, self.extra)


def internal_error(exc: BaseException) -> ApiError:
    """The answer to an unexpected exception: its type only, never a traceback in a body."""
    return ApiError(500, "INTERNAL_ERROR", f"internal error ({type(exc).__name__})")


def error_body(
    code: str, message: str, details: Sequence[Problem] = (), extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [p.as_dict() for p in details]
    error.update(extra or {})
    return {"error": error}


def error_bytes(code: str, message: str, extra: Mapping[str, Any] | None = None) -> bytes:
    return dumps(error_body(code, message, (), extra))


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON; lone surrogates are escaped rather than crashing the encoder."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


# The codes of injected or generic statuses, so every error answer has a meaningful code.
STATUS_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


def code_for_status(status: int) -> str:
    return STATUS_CODES.get(status, "SERVER_ERROR" if status >= 500 else "CLIENT_ERROR")

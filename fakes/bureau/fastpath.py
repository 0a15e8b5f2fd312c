"""The hot path: ``POST /api/v1/invoices`` as plain ASGI, in front of the FastAPI app.

A synchronous issue is the request every load test sends. Through FastAPI and Starlette it
crosses about a dozen layers (FastAPI's body-limit and telemetry middleware, Starlette's error
and exception middleware, the router's route matching, ``request_response`` with its exception
wrapper, a ``Request`` and a ``Response`` object), which cost ~30 µs of CPU per request, a
fifth of an issue. ``BureauApp`` answers this one route itself, through the same layers that
decide the answer (Starlette's ``ServerErrorMiddleware`` for crashes, the ``FaultMiddleware``
for faults, ``X-Bureau-Time`` and the request log) and the same handler code, and hands
everything else to FastAPI. The answer is the same, byte for byte: the Starlette
route stays registered (for the OpenAPI document, 405 answers and the equivalence test that
serves both, ``tests/unit/bureau/test_fastpath.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

from fakes.bureau.api import issue_payload
from fakes.bureau.errors import ApiError
from fakes.bureau.faults import hooks
from fakes.bureau.http import error_response, read_asgi_body
from fakes.bureau.service import Bureau

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ISSUE_PATH = "/api/v1/invoices"
_JSON = (b"content-type", b"application/json")


class BureauApp(FastAPI):
    """The FastAPI app, with ``POST /api/v1/invoices`` answered by ``fast`` when it is set."""

    fast: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast
        if fast is not None and scope["type"] == "http" and scope["path"] == ISSUE_PATH and scope["method"] == "POST":
            scope["app"] = self
            await fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


class IssueEndpoint:
    """``api.issue_invoice`` and the app's ``ApiError`` handler, without the framework around
    them. Any other exception goes up, to the ``ServerErrorMiddleware`` that ``create_app``
    puts around the fault middleware, as in FastAPI's own stack."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            bureau: Bureau = self.app.state.bureau
            raw = await read_asgi_body(scope, receive, bureau.settings.max_body_bytes)
            outcome = await issue_payload(bureau, scope, raw)
        except ApiError as exc:   # what the app's ApiError handler does (inside the fault middleware)
            hooks.note_error(scope, exc.code)   # for the request log's error_code
            await error_response(exc)(scope, receive, send)
            return
        content = outcome.body()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in outcome.headers.items()]
        headers += [(b"content-length", str(len(content)).encode()), _JSON]
        await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


"""The ASGI middleware that applies bureau faults to ``/api/v1`` and records every request.

For each public request: pick the acting faults (``board.acting``), then, in this order::

    latency (sleep) -> auth_expired | maintenance | rate_limit | error | false_duplicate
                       | malformed(before)
        (the first of these in list order answers, nothing reaches the handler)
    -> handler (commits) -> ghost_commit (hold hang_s, answer the error) -> malformed(after)

``/health`` and ``/admin`` never see a fault. Every ``/api/`` answer carries ``X-Bureau-Time``
(CONTRACT §5.1), injected ones included. Every ``/api/`` request becomes one line of the
request log, with the status actually answered (``null`` when none was), the ``error.code``
answered and the fault kinds that acted on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from fakes.bureau.clock import BureauClock
from fakes.bureau.errors import code_for_status, dumps, error_bytes
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.hooks import ACTING, note_error, note_ids, note_upload_items
from fakes.bureau.faults.specs import Fault
from fakes.bureau.requestlog import RequestLog

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
             b"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


Answer = tuple[int, list[tuple[bytes, bytes]], bytes, str | None]  # status, headers, body, error code
TIME_HEADER = b"x-bureau-time"


class FaultMiddleware:
    def __init__(self, app: ASGIApp, board: FaultBoard, log: RequestLog, rng_jitter: Callable[[], float],
                 clock: BureauClock) -> None:
        self.app = app
        self.board = board
        self.log = log
        self.jitter = rng_jitter
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        entry = self.log.begin(scope)
        public = scope["path"] == "/api/v1" or scope["path"].startswith("/api/v1/")
        external_id = None
        if public and self.board.needs_external_id:
            receive, external_id = await _peek_external_id(scope, receive)
        acting = self.board.acting(scope["method"], scope["path"], external_id) if public else []
        scope[ACTING] = acting

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
                message["headers"] = [*message.get("headers", ()), (TIME_HEADER, self.clock.header_bytes())]
            await send(message)

        try:
            if acting:
                await self._faulted(scope, receive, tracking_send, acting, entry.faults)
            else:
                await self.app(scope, receive, tracking_send)
        finally:
            self.log.finish(scope, entry)

    async def _faulted(self, scope: Scope, receive: Receive, send: Send, acting: list[Fault], kinds: list[str]) -> None:
        delay_ms = 0.0
        for fault in acting:
            if fault.kind == "latency":
                jitter = fault.params["jitter_ms"] * (2 * self.jitter() - 1)
                delay_ms += max(0.0, fault.params["ms"] + jitter)
                kinds.append("latency")
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)
        for fault in acting:
            answer = self._refusal(scope, fault)
            if answer is not None:
                kinds.append(fault.kind)
                await _note_ids_of_refused(scope, receive)
                status, headers, body, code = answer
                note_error(scope, code)
                await _respond(send, status, headers, body)
                return
        ghost = next((f for f in acting if f.kind == "ghost_commit"), None)
        broken = next((f for f in acting if f.kind == "malformed_response"), None)
        if ghost is None and broken is None:
            await self.app(scope, receive, send)
            return
        status, headers, body = await _capture(self.app, scope, receive)
        if ghost is not None:
            kinds.append("ghost_commit")
            if ghost.params["hang_s"]:
                await asyncio.sleep(ghost.params["hang_s"])
            status = ghost.params["status"]
            note_error(scope, code_for_status(status))
            body = error_bytes(code_for_status(status), "the request could not be completed (upstream timeout)")
            headers = _replace(headers, b"content-type", b"application/json")
        if broken is not None:
            kinds.append("malformed_response")
            status, headers, body = _malform(broken, status, headers, body)
        await _respond(send, status, headers, body)

    def _refusal(self, scope: Scope, fault: Fault) -> Answer | None:
        """An answer given instead of handling the request, or None when this fault lets it through."""
        kind, p = fault.kind, fault.params
        if kind == "auth_expired":
            return 401, _json_headers(), error_bytes(
                "AUTH_EXPIRED", "身份认证已失效，请重新认证: the credentials expired; re-authentication pending"), "AUTH_EXPIRED"
        if kind == "maintenance":
            return 503, _json_headers(p["retry_after"]), error_bytes(
                "MAINTENANCE", "系统升级维护中: the e-invoice service platform is under maintenance, retry later"), "MAINTENANCE"
        if kind == "rate_limit" and self.board.over_rate(fault):
            return 429, _json_headers(p["retry_after"]), error_bytes(
                "RATE_LIMITED", "当前访问请求较多，请稍后重试: too many requests, slow down"), "RATE_LIMITED"
        if kind == "error":
            status = p["status"]
            code = code_for_status(status)
            return status, _json_headers(), error_bytes(code, f"injected failure ({status})"), code
        if kind == "false_duplicate" and scope["method"] == "POST":
            return 409, _json_headers(), error_bytes(
                "DUPLICATE_REQUEST", "the request was already submitted", {"invoice_number": None}), "DUPLICATE_REQUEST"
        if kind == "malformed_response" and p["when"] == "before":
            normal = 201 if scope["method"] == "POST" else 200
            return (*_malform(fault, normal, _json_headers(), dumps({"status": "ok"})), None)
        return None


_ID_BODY_LIMIT = 1 << 20  # ids sit at the top of an invoice; a huge body is not worth reading whole


async def _peek_external_id(scope: Scope, receive: Receive) -> tuple[Receive, str | None]:
    """The order reference of a request (query, or a POST body's ``external_id``), read before
    the faults are chosen; the body is replayed to whatever handles the request next."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if scope["method"] != "POST":
        return receive, (query.get("external_id") or [None])[0]
    messages: list[Message] = []
    size = 0
    while size <= _ID_BODY_LIMIT:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    try:
        parsed = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        parsed = None
    external_id = parsed.get("external_id") if isinstance(parsed, dict) else None

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, external_id if isinstance(external_id, str) else None


async def _note_ids_of_refused(scope: Scope, receive: Receive) -> None:
    """A refused request never reaches the handler that tells the request log its ids
    (CONTRACT §2: from the body or the query, when present): read them here, best effort."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ids = {key: (query.get(key) or [None])[0] for key in ("request_id", "external_id")}
    if scope["method"] == "POST":
        chunks: list[bytes] = []
        size = 0
        while size <= _ID_BODY_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body"):
                break
        try:
            body = json.loads(b"".join(chunks).decode("utf-8"))
        except (ValueError, RecursionError):
            body = None
        if isinstance(body, dict):
            for key in ids:
                if isinstance(body.get(key), str):
                    ids[key] = body[key]
            if isinstance(body.get("invoices"), list) and scope["path"].startswith("/api/v1/lq/uploads"):
                note_upload_items(scope, body["invoices"])
    note_ids(scope, ids["request_id"], ids["external_id"])


def _json_headers(retry_after: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/json")]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    return headers


def _replace(headers: list[tuple[bytes, bytes]], name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in headers if k.lower() != name] + [(name, value)]


def _malform(fault: Fault, status: int, headers: list[tuple[bytes, bytes]], body: bytes
             ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    mode = fault.params["mode"]
    status = fault.params["status"] or status
    if mode == "truncated_json":
        body = body[: max(1, len(body) // 2)]
    elif mode == "html":
        headers, body = _replace(headers, b"content-type", b"text/html"), NGINX_502
    elif mode == "wrong_content_type":
        headers = _replace(headers, b"content-type", b"text/plain; charset=utf-8")
    elif mode == "empty":
        body = b""
    return status, headers, body


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run the app to completion, keeping its answer instead of sending it."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return int(start.get("status", 500)), headers, b"".join(chunks)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

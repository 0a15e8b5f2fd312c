"""A minimal HTTP/1.1 server on asyncio streams, so every status line, header and body byte of
the API is ours to choose (Toxiproxy's exact 404/405 bodies, error content types, no extras).

Supports keep-alive, ``Content-Length`` and chunked request bodies; nothing else is needed by
Toxiproxy clients.
"""

from __future__ import annotations

import asyncio
import email.utils
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus

MAX_BODY = 16 * 1024 * 1024
IDLE_TIMEOUT_S = 60.0        # Go's server: idle 60 s, read 15 s
READ_TIMEOUT_S = 15.0


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> Request | None:
    line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
    while line in (b"\r\n", b"\n"):     # tolerate stray CRLF between requests
        line = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT_S)
    if not line:
        return None
    parts = line.decode("latin-1").split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest()
    headers: dict[str, str] = {}
    for _ in range(200):
        raw = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_S)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, sep, value = raw.decode("latin-1").partition(":")
        if not sep:
            raise _BadRequest()
        headers[name.strip().lower()] = value.strip()
    else:
        raise _BadRequest()
    if parts[2] == "HTTP/1.0" and "connection" not in headers:
        headers["connection"] = "close"
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")   # curl waits a second without it
    body = await asyncio.wait_for(_read_body(reader, headers), READ_TIMEOUT_S)
    return Request(parts[0], parts[1], headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        out = bytearray()
        while True:
            size_line = await reader.readline()
            try:
                size = int(size_line.split(b";")[0].strip() or b"x", 16)
            except ValueError:
                raise _BadRequest() from None
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > MAX_BODY:
                raise _BadRequest()
            out += await reader.readexactly(size)
            await reader.readline()
    length_text = headers.get("content-length", "0")
    if not length_text.isdigit() or int(length_text) > MAX_BODY:
        raise _BadRequest()
    return await reader.readexactly(int(length_text)) if int(length_text) else b""


def _encode(resp: Response, keep_alive: bool) -> bytes:
    reason = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {resp.status} {reason}"]
    if resp.content_type is not None:
        lines.append(f"Content-Type: {resp.content_type}")
    lines.extend(f"{k}: {v}" for k, v in resp.headers)
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    if resp.status != 204 and resp.status >= 200:
        lines.append(f"Content-Length: {len(resp.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                           handler: Handler) -> None:
    """Answer requests on one connection until the client closes or asks to close."""
    try:
        while True:
            try:
                req = await _read_request(reader, writer)
            except (_BadRequest, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    ValueError):
                writer.write(_encode(Response(400, b"400 Bad Request", "text/plain; charset=utf-8"),
                                     False))
                break
            if req is None:
                break
            resp = await handler(req)
            keep_alive = req.headers.get("connection", "").lower() != "close"
            writer.write(_encode(resp, keep_alive))
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()

"""Sending malformed examples over HTTP, and the ``curl`` command that sends one again.

Every failure of the transport becomes an ``Answer`` without a status (timeout, refused, reset):
nothing escapes, so the malformed phase never disturbs the run that hosts it.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import httpx

from harness.data.judge import Answer
from harness.data.record import Malformed

INLINE_CURL_BYTES = 4000


async def send(client: httpx.AsyncClient, base_url: str, example: Malformed, *, timeout_s: float = 10.0) -> Answer:
    """POST the example's body to ``base_url`` + its path; the answer, or why there was none."""
    started = time.perf_counter()
    try:
        resp = await client.post(base_url.rstrip("/") + example.path, content=example.body(),
                                 headers={"Content-Type": example.content_type}, timeout=timeout_s)
        body = resp.content
    except httpx.TimeoutException:
        return Answer(None, error="timeout", elapsed_ms=_ms(started))
    except httpx.ConnectError:
        return Answer(None, error="refused", elapsed_ms=_ms(started))
    except httpx.HTTPError as exc:
        return Answer(None, error=f"reset ({type(exc).__name__})", elapsed_ms=_ms(started))
    return Answer(resp.status_code, body, resp.headers.get("content-type", ""), elapsed_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000.0, 3)


def curl_command(url: str, example: Malformed, body_file: Path | None = None) -> str:
    """A shell command that sends exactly the example's bytes to ``url`` and shows the answer.

    Small UTF-8 bodies are inlined with ``printf '%s'``; others as ``printf`` escapes, or read
    from ``body_file`` when given and the body is large."""
    body = example.body()
    head = f"curl -sS -i -X POST {shlex.quote(url)} -H {shlex.quote('Content-Type: ' + example.content_type)}"
    if body_file is not None and len(body) > INLINE_CURL_BYTES:
        return f"{head} --data-binary @{shlex.quote(str(body_file))}"
    try:
        text = body.decode("utf-8")
        printable = all(c.isprintable() or c in " " for c in text)
    except UnicodeDecodeError:
        printable = False
    if printable:
        return f"printf '%s' {shlex.quote(text)} | {head} --data-binary @-"
    escaped = "".join(_escape(b) for b in body)
    return f"printf '{escaped}' | {head} --data-binary @-"


def _escape(byte: int) -> str:
    char = chr(byte)
    if byte < 0x80 and char.isalnum() or char in " {}[]:,._-\"":
        return char
    return f"\\x{byte:02x}"

"""Sorting the 乐企 channel's answers (fakes.merchant.lq_client.classify), on literal answers."""

from __future__ import annotations

import json

import pytest

from fakes.merchant.lq_client import classify


def err(code: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": "m", "details": []}}).encode()


@pytest.mark.parametrize(("status", "raw", "retry_after", "kind", "code"), [
    (202, b'{"upload_id": "U1", "count": 2}', None, "ok", None),
    (200, b'{"results": []}', None, "ok", None),
    (201, b'[1, 2]', None, "unknown", None),
    (200, b'{"trunc', None, "unknown", None),
    (401, err("AUTH_EXPIRED"), None, "account", "AUTH_EXPIRED"),
    (403, err("QUOTA_EXCEEDED"), None, "account", "QUOTA_EXCEEDED"),
    (429, err("RATE_LIMITED"), "3", "account", "RATE_LIMITED"),
    (503, err("MAINTENANCE"), "60", "account", "MAINTENANCE"),
    (410, err("RESULT_EXPIRED"), None, "gone", "RESULT_EXPIRED"),
    (404, err("NOT_FOUND"), None, "gone", "NOT_FOUND"),
    (422, err("VALIDATION_FAILED"), None, "refused", "VALIDATION_FAILED"),
    (413, err("PAYLOAD_TOO_LARGE"), None, "refused", "PAYLOAD_TOO_LARGE"),
    (504, err("GATEWAY_TIMEOUT"), None, "unknown", "GATEWAY_TIMEOUT"),
    (502, b"<html>502 Bad Gateway</html>", None, "unknown", None),
    (500, b"", None, "unknown", None),
])
def test_classify(status: int, raw: bytes, retry_after: str | None, kind: str, code: str | None) -> None:
    answer = classify(status, raw, retry_after)
    assert (answer.kind, answer.code) == (kind, code)


def test_account_refusals_wait_at_least_retry_after() -> None:
    assert classify(503, err("MAINTENANCE"), "60").retry_after == 60
    assert classify(401, err("AUTH_EXPIRED"), None).retry_after == 1.0


def test_the_client_reads_time_from_its_time_url_and_from_every_answer() -> None:
    """Over real HTTP: ``time_url`` (BUREAU_TIME_URL) is where bureau time is asked for, and an
    error answer's X-Bureau-Time (here a 401 under auth_expired) still updates the estimate."""
    import asyncio

    from aiohttp import web

    from fakes.bureau.clock import parse_rfc3339
    from fakes.merchant.lq_client import LqClient
    from harness.net import free_port

    seen: list[str] = []

    async def clock(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"now": "2026-12-31T23:59:40+08:00"})

    async def refused(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"error": {"code": "AUTH_EXPIRED", "message": "m", "details": []}}, status=401,
                                 headers={"X-Bureau-Time": "2027-01-02T03:04:05+08:00"})

    async def go() -> tuple[float | None, float | None, str]:
        app = web.Application()
        app.router.add_get("/elsewhere/time", clock)
        app.router.add_get("/api/v1/time", clock)
        app.router.add_post("/api/v1/lq/uploads", refused)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        client = LqClient(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/elsewhere/time")
        await client.start()
        try:
            await client.bureau_time(2.0)
            first = client.time.now()
            kind = (await client.upload(b'{"invoices": []}', 2.0)).kind
            fallback = LqClient(f"http://127.0.0.1:{port}/")  # no BUREAU_TIME_URL: BUREAU_URL + /api/v1/time
            await fallback.start()
            await fallback.bureau_time(2.0)
            await fallback.close()
            return first, client.time.now(), kind
        finally:
            await client.close()
            await runner.cleanup()

    first, second, kind = asyncio.run(go())
    assert seen == ["/elsewhere/time", "/api/v1/lq/uploads", "/api/v1/time"] and kind == "account"
    assert first is not None and abs(first - parse_rfc3339("2026-12-31T23:59:40+08:00")) < 2
    assert second is not None and abs(second - parse_rfc3339("2027-01-02T03:04:05+08:00")) < 2

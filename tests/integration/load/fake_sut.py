"""A trivial endpoint that answers ``POST /invoices`` like a SUT (CONTRACT §3), for load tests.

Run as ``python fake_sut.py PORT [DELAY_MS] [STATUS]``: aiohttp on 127.0.0.1, answering
``status`` (201 by default) after ``delay_ms``, with the order id echoed and an invoice number.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

from aiohttp import web

_numbers = itertools.count(1)


def make_app(delay_ms: float = 0.0, status: int = 201) -> web.Application:
    async def invoices(request: web.Request) -> web.Response:
        body = await request.json()
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if status == 201:
            payload = {"order_id": body["order_id"], "status": "issued", "invoice_number": f"26110{next(_numbers):015d}"}
        elif status == 202:
            payload = {"order_id": body["order_id"], "status": "pending"}
        else:
            payload = {"error": {"code": "UNAVAILABLE", "message": "injected", "details": []}}
        return web.Response(status=status, text=json.dumps(payload), content_type="application/json")

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"capabilities": []})

    app = web.Application()
    app.router.add_post("/invoices", invoices)
    app.router.add_get("/health", health)
    return app


if __name__ == "__main__":
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    code = int(sys.argv[3]) if len(sys.argv) > 3 else 201
    web.run_app(make_app(delay, code), host="127.0.0.1", port=port, access_log=None, print=None)

"""Bureau faults opening and closing at the same instant must not lose each other."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import time

from harness.faults.base import FaultSpec
from harness.faults.bureau import BureauInjector


class SlowAdmin(BaseHTTPRequestHandler):
    """GET/PUT /admin/faults with a delay between read and write, to widen any race."""

    faults: list = []

    def log_message(self, *a):
        pass

    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        time.sleep(0.05)
        self._send(200, SlowAdmin.faults)

    def do_PUT(self):
        SlowAdmin.faults = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self._send(200, SlowAdmin.faults)


class Ctx:
    def __init__(self, url):
        self.bureau_admin_url = url


def test_concurrent_apply_and_revert_keep_every_fault():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowAdmin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ctx = Ctx(f"http://127.0.0.1:{server.server_address[1]}")
    inj = BureauInjector()

    async def scenario():
        first = await inj.apply(FaultSpec("a", "bureau", "visibility_lag", "bureau", 0, 1, {"seconds": 3}), ctx)
        # one window closes while two others open, all at once
        await asyncio.gather(
            first(),
            inj.apply(FaultSpec("b", "bureau", "rate_limit", "bureau", 0, 1, {"rps": 5}), ctx),
            inj.apply(FaultSpec("c", "bureau", "error", "bureau", 0, 1, {"status": 503}), ctx),
        )

    try:
        asyncio.run(scenario())
    finally:
        server.shutdown()
    assert sorted(f["id"] for f in SlowAdmin.faults) == ["b", "c"]


def test_a_later_event_loop_gets_its_own_lock():
    """`suite` runs one loop per scenario; a bureau port seen before must not reuse a lock bound
    to a finished loop (it would raise as soon as two windows contend for it)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowAdmin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ctx = Ctx(f"http://127.0.0.1:{server.server_address[1]}")
    inj = BureauInjector()

    async def contend(tag):
        await asyncio.gather(*(inj.apply(FaultSpec(f"{tag}{i}", "bureau", "error", "bureau", 0, 1, {"status": 503}), ctx)
                               for i in range(3)))

    try:
        SlowAdmin.faults = []
        asyncio.run(contend("a"))
        asyncio.run(contend("b"))  # a new loop, the same bureau URL
    finally:
        server.shutdown()
    assert sorted(f["id"] for f in SlowAdmin.faults) == ["a0", "a1", "a2", "b0", "b1", "b2"]

"""A SUT for lifeline tests (standard library only): takes every order as pending and reports
nothing pending, so the drain ends at once, then answers GET /ledger only after
``LEDGER_DELAY_S`` (default 8): the harness sits in collection long enough to be killed there.

Environment: ``HOST``, ``PORT`` (as the harness sets them), ``LEDGER_DELAY_S``.
"""

from __future__ import annotations

import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DELAY_S = float(os.environ.get("LEDGER_DELAY_S", "8"))


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/health":
            self._send(200, {"capabilities": ["stats"]})
        elif self.path == "/stats":
            self._send(200, {"pending": 0})
        elif self.path == "/ledger":
            time.sleep(DELAY_S)
            self._send(200, {"invoices": []})
        else:
            self._send(404, {"error": {"code": "NOT_FOUND", "message": self.path}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        order = json.loads(self.rfile.read(length) or b"{}")
        self._send(202, {"order_id": order.get("order_id"), "status": "pending"})


if __name__ == "__main__":
    ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()

"""A deliberately careless SUT for the malformed-data tests (standard library only).

It speaks the SUT contract (CONTRACT §3) just well enough to start, and makes two classic
mistakes the malformed phase and ``invoice-chaos fuzz`` must catch:

- it checks only that ``order_id`` is a string and ``lines`` a list, and accepts everything
  else with 202 (negative quantities, unknown rates, bad tax ids, ...);
- it crashes with a bare 500 (no error shape) on any zero-width or right-to-left character.

Environment: ``HOST``, ``PORT`` (as the harness sets them).
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ODD = set("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2067\ufeff")
orders: dict[str, dict[str, Any]] = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep the test log quiet
        pass

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        self._send(status, {"error": {"code": code, "message": message, "details": []}})

    def do_GET(self) -> None:
        if self.path == "/health":
            self._send(200, {"capabilities": []})
        elif self.path == "/ledger":
            with lock:
                self._send(200, {"invoices": list(orders.values())})
        else:
            self._error(404, "NOT_FOUND", "no such path")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            self._error(400, "MALFORMED_REQUEST", "the body must be JSON")
            return
        if any(c in ODD for c in json.dumps(body, ensure_ascii=False)):
            self._send(500, b"Internal Server Error", "text/plain")  # the careless part
            return
        if not isinstance(body, dict) or not isinstance(body.get("order_id"), str) or not isinstance(body.get("lines"), list):
            self._error(422, "VALIDATION_FAILED", "order_id and lines are required")
            return
        oid = body["order_id"]
        with lock:
            orders[oid] = {"order_id": oid, "status": "pending", "invoice_number": None, "total_with_tax": None}
        self._send(202, {"order_id": oid, "status": "pending"})


if __name__ == "__main__":
    ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()

"""A deliberately bad SUT for tests: answers the SUT contract briefly, then dies.

It accepts orders with 202 (never reaching any bureau) and exits hard after ``CRASH_AFTER``
orders, as a vendor's adapter that crashes mid-run would.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CRASH_AFTER = int(os.environ.get("CRASH_AFTER", "30"))
orders: dict[str, dict] = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep the test log quiet
        pass

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self._send(200, {"capabilities": []})
        elif self.path == "/ledger":
            with lock:
                self._send(200, {"invoices": list(orders.values())})
        else:
            self._send(404, {"error": {"code": "NOT_FOUND", "message": "no such path", "details": []}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        oid = body.get("order_id", "?")
        with lock:
            orders[oid] = {"order_id": oid, "status": "pending", "invoice_number": None, "total_with_tax": None}
            n = len(orders)
        self._send(202, {"order_id": oid, "status": "pending"})
        if n >= CRASH_AFTER:
            os._exit(17)


if __name__ == "__main__":
    ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"])), Handler).serve_forever()

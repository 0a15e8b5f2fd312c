"""The Docker backend's lifeline: a sidecar that ends a run's containers when its harness is gone.

It runs in a container of the service image, with the engine's socket mounted, and its stdin
attached to the harness (``stdin_once``: the engine closes it when the harness's connection
closes). The harness writes a byte a second. End-of-file, or ``--silence-s`` without a byte
(a connection that hangs half-open when the harness's host vanished), means the harness is
gone: the watchdog force-removes every container, volume and network labelled with the run,
then exits (the engine removes the watchdog itself: ``auto_remove``).

Standard library only: the service image holds no Docker SDK, so it speaks the engine's HTTP
API over its unix socket.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from typing import Any

SOCKET = "/var/run/docker.sock"
RUN_LABEL = "invoice-chaos.run"   # harness.backends.engine.RUN_LABEL (this module imports nothing of ours)


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self._path)


def api(method: str, path: str, sock_path: str = SOCKET) -> Any:
    conn = _UnixConnection(sock_path)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    if resp.status >= 400 and resp.status != 404:
        raise RuntimeError(f"{method} {path}: {resp.status} {body[:200]!r}")
    return json.loads(body) if body and resp.headers.get("Content-Type", "").startswith("application/json") else None


def end_run(run_id: str, self_name: str, sock_path: str = SOCKET) -> int:
    """Remove the run's containers (but this one), then its volumes and networks; how many."""
    flt = urllib.parse.quote(json.dumps({"label": [f"{RUN_LABEL}={run_id}"]}))
    removed = 0
    for c in api("GET", f"/containers/json?all=1&filters={flt}", sock_path) or []:
        if f"/{self_name}" in (c.get("Names") or []):
            continue
        api("DELETE", f"/containers/{c['Id']}?force=1&v=1", sock_path)
        removed += 1
    for v in (api("GET", f"/volumes?filters={flt}", sock_path) or {}).get("Volumes") or []:
        api("DELETE", f"/volumes/{urllib.parse.quote(v['Name'])}", sock_path)
        removed += 1
    for n in api("GET", f"/networks?filters={flt}", sock_path) or []:
        api("DELETE", f"/networks/{n['Id']}", sock_path)
        removed += 1
    return removed


def watch(stream: Any, silence_s: float) -> str:
    """Block until the harness is gone; why ("end of file" or "silence")."""
    last = [time.monotonic()]
    ended = threading.Event()

    def read() -> None:
        while stream.read(1):
            last[0] = time.monotonic()
        ended.set()

    threading.Thread(target=read, daemon=True).start()
    while not ended.wait(0.5):
        if time.monotonic() - last[0] > silence_s:
            return "silence"
    return "end of file"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.watchdog")
    p.add_argument("run_id")
    p.add_argument("--name", default=os.environ.get("HOSTNAME", ""), help="this container's name")
    p.add_argument("--silence-s", type=float, default=15.0)
    args = p.parse_args(argv)
    why = watch(sys.stdin.buffer, args.silence_s)
    print(f"watchdog: the harness of run {args.run_id} is gone ({why}); ending its containers", flush=True)
    for attempt in range(5):
        try:
            print(f"watchdog: removed {end_run(args.run_id, args.name)} object(s)", flush=True)
            return 0
        except (OSError, RuntimeError) as exc:   # the engine busy, a container still going: again
            print(f"watchdog: attempt {attempt + 1}: {exc}", flush=True)
            time.sleep(1.0)
    return 1


if __name__ == "__main__":
    sys.exit(main())

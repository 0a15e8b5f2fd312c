"""Small networking helpers shared by the harness, the services and the tests."""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it; a race is possible but rare)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """True when GET ``url`` answers 2xx within ``timeout``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_http_ok(url: str, deadline_s: float = 20.0, interval_s: float = 0.05) -> bool:
    """Poll ``url`` until it answers 2xx or ``deadline_s`` passes; True when it answered."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if http_ok(url, timeout=min(1.0, max(0.1, end - time.monotonic()))):
            return True
        time.sleep(interval_s)
    return False

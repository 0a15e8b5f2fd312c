"""`invoice-chaos proxy` as a real process (via `python -m harness.proxy`, which runs the same
module without importing the other commands), driven the way the run engine drives it."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.faults.base import FaultSpec
from harness.faults.network import NetworkInjector, ToxiproxyClient
from harness.net import free_port, wait_http_ok

pytestmark = pytest.mark.integration


@dataclass
class Ctx:
    toxiproxy_url: str
    bureau_admin_url: str = ""

    def proxy_name(self, target: str) -> str:
        return target

    def service(self, target: str) -> object:
        raise NotImplementedError


def _start(*extra: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "harness.proxy", "--port", str(port),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, port


def _echo_upstream() -> socket.socket:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    return srv


def test_engine_path_down_fault_and_sigterm() -> None:
    proc, port = _start("--seed", "7")
    upstream = _echo_upstream()
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_http_ok(url + "/version", deadline_s=15)
        client = ToxiproxyClient(url)
        listen_port = free_port()
        bound = client.create_proxy("bureau", f"127.0.0.1:{listen_port}",
                                    f"127.0.0.1:{upstream.getsockname()[1]}")
        assert bound == f"127.0.0.1:{listen_port}"
        socket.create_connection(("127.0.0.1", listen_port), timeout=2).close()
        revert = asyncio.run(NetworkInjector().apply(
            FaultSpec("f1", "network", "down", "bureau", 0.0, 1.0), Ctx(url)))
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", listen_port), timeout=2)
        asyncio.run(revert())
        socket.create_connection(("127.0.0.1", listen_port), timeout=2).close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        with pytest.raises(ConnectionRefusedError):     # the proxy went with the server
            socket.create_connection(("127.0.0.1", listen_port), timeout=2)
    finally:
        upstream.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_config_file_populates_and_bad_config_exits_2(tmp_path: Path) -> None:
    listen = free_port()
    good = tmp_path / "proxies.json"
    good.write_text(json.dumps([{"name": "b", "listen": f"127.0.0.1:{listen}",
                                 "upstream": "127.0.0.1:9"}]))
    proc, port = _start("--config", str(good))
    try:
        assert wait_http_ok(f"http://127.0.0.1:{port}/version", deadline_s=15)
        assert ToxiproxyClient(f"http://127.0.0.1:{port}").proxy("b").listen == f"127.0.0.1:{listen}"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "b", "listen": "local373", "upstream": "x:1"}]))
    proc, _ = _start("--config", str(bad))
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 2
    assert b"bad.json" in err and b"local373" in err and b"missing port" in err


def test_busy_api_port_exits_3_and_bad_port_exits_2() -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.proxy", "--port",
                               str(busy.getsockname()[1])], capture_output=True, timeout=20)
    finally:
        busy.close()
    assert proc.returncode == 3 and b"choose another --port" in proc.stderr
    bad = subprocess.run([sys.executable, "-m", "harness.proxy", "--port", "70000"],
                         capture_output=True, timeout=20)
    assert bad.returncode == 2 and b"70000" in bad.stderr

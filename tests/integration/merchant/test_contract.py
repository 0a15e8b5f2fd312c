"""The merchant as the run engine starts it, and the SUT contract's optional capabilities."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from merchant_procs import ROOT, Service, audit, bureau, clear_faults, drain, merchant, nonempty, orders, place, set_faults

from harness.net import free_port, wait_http_ok

pytestmark = pytest.mark.integration


def test_started_by_the_cli_with_the_sut_environment(shared_bureau: Service, tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), HOST="127.0.0.1", PORT=str(port), BUREAU_URL=shared_bureau.url,
               STATE_DIR=str(tmp_path / "state"), SELLER_TAX_ID="91110108551385082Q", SELLER_NAME="北京示例科技有限公司")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "merchant", "--profile", "resilient"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_http_ok(f"http://127.0.0.1:{port}/health", 20)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["capabilities"] == ["reverse", "stats"]
        order = orders("cli", 1)[0]
        r = httpx.post(f"http://127.0.0.1:{port}/invoices", json=order, timeout=10)
        assert r.status_code == 201
        assert (tmp_path / "state").is_dir()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert b"GET /health" not in out and b"POST /invoices" not in out  # access log off


def test_bad_option_exits_2_naming_it(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "harness.cli", "merchant", "--port", "eighty"], cwd=ROOT,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--port 'eighty'" in r.stderr


def test_reverse_through_the_real_bureau(shared_bureau: Service, tmp_path: Path) -> None:
    m = merchant(tmp_path, shared_bureau.url, "resilient").start()
    try:
        order = orders("rev", 1)[0]
        oid = order["order_id"]
        assert httpx.post(f"{m.url}/invoices", json=order, timeout=10).status_code == 201
        # Red-letter calls commit but answer 504 until the fault is cleared: the merchant answers
        # 202 (reversal owed), and its retries must not reverse twice.
        set_faults(shared_bureau.url, [{"kind": "ghost_commit", "match": {"method": "POST", "path": "/api/v1/invoices/"}}])
        r = httpx.post(f"{m.url}/invoices/{oid}/reverse", json={"reason": "01"}, timeout=10)
        clear_faults(shared_bureau.url)
        assert r.status_code == 202 and r.json()["reversal"] == "pending"
        assert drain_reversal(m.url, oid)
        again = httpx.post(f"{m.url}/invoices/{oid}/reverse", json={"reason": "01"}, timeout=10)
        assert again.status_code == 200 and again.json()["status"] == "reversed"
        found = httpx.get(f"{shared_bureau.url}/api/v1/invoices", params={"external_id": oid}).json()["invoices"]
        assert sorted(bool(i.get("red_for")) for i in found) == [False, True]
        unknown = httpx.post(f"{m.url}/invoices/NOPE-1/reverse", json={"reason": "01"}, timeout=10)
        assert unknown.status_code == 404
    finally:
        clear_faults(shared_bureau.url)
        m.stop()


def drain_reversal(merchant_url: str, order_id: str) -> bool:
    for _ in range(100):
        if httpx.get(f"{merchant_url}/invoices/{order_id}", timeout=5).json()["status"] == "reversed":
            return True
        time.sleep(0.1)
    return False


def test_resilient_needs_no_bureau_dedup(tmp_path: Path) -> None:
    """Against the web channel (dedup ``none``: every POST issues), lookup-first still prevents
    duplicates under ghost commits."""
    b = bureau(tmp_path, "--dedup", "none").start()
    m = merchant(tmp_path, b.url, "resilient").start()
    try:
        set_faults(b.url, [{"kind": "ghost_commit", "probability": 0.5, "match": {"method": "POST", "path": "/api/v1/invoices"}}])
        ops = place(m.url, orders("nodedup", 16))
        clear_faults(b.url)
        assert drain(m.url) == 0
        assert nonempty(audit(b.url, m.url, ops)) == {}
    finally:
        m.stop()
        b.stop()

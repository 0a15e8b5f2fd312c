"""The bureau as a process: clean SIGTERM, bad options exit 2."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from fakes.bureau.samples import sample_invoice

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def post(url: str, body: dict[str, Any]) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback
        return int(resp.status)


def test_sigterm_exits_cleanly_and_keeps_the_ledger(start_bureau: Any, tmp_path: Path) -> None:
    db = tmp_path / "term.db"
    bureau = start_bureau(db=db)
    for i in range(3):
        assert post(f"{bureau.url}/api/v1/invoices", sample_invoice(request_id=f"T{i}", external_id=f"T{i}")) == 201
    bureau.proc.send_signal(signal.SIGTERM)
    assert bureau.proc.wait(15) == 0
    stderr = bureau.proc.stderr.read().decode() if bureau.proc.stderr else ""
    assert "Traceback" not in stderr
    again = start_bureau(db=db)
    with urllib.request.urlopen(f"{again.url}/admin/ledger", timeout=5) as resp:  # noqa: S310
        assert len(resp.read().splitlines()) == 3


def test_bad_option_exits_2_naming_it(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "fakes.bureau", "--dedup", "maybe", "--db", str(tmp_path / "x.db")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--dedup 'maybe'" in done.stderr and "Traceback" not in done.stderr

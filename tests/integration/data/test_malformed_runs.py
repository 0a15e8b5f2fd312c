"""Done-when of issue 8, end to end with real processes on loopback.

- the reference ``resilient`` SUT passes a run with a malformed phase (scenarios/malformed-orders.yaml);
- a deliberately careless SUT (tests/data/careless_sut.py) is caught, in a run and by
  ``invoice-chaos fuzz``, with a shrunk payload whose curl command reproduces the finding;
- ``invoice-chaos fuzz --bureau`` finds nothing in the fake bureau with the default families.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CARELESS = ROOT / "tests" / "data" / "careless_sut.py"


def cli(*args: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def careless() -> Iterator[str]:
    port = _free_port()
    yield from _serve([sys.executable, str(CARELESS)], port, {"PORT": str(port), "HOST": "127.0.0.1"})


@pytest.fixture
def bureau(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    yield from _serve([sys.executable, "-m", "harness.cli", "bureau", "--port", str(port),
                       "--db", str(tmp_path / "b.db")], port)


def _report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_resilient_profile_passes_the_malformed_phase(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = cli("run", "scenarios/malformed-orders.yaml", "--time-scale", "0.5", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = _report(out / "summary.json")
    assert summary["malformed"]["sent"] >= 30 and summary["malformed"]["findings"] == 0
    assert summary["anomalies"]["unexpected"] == []
    assert {"no-malformed-findings", "no-unexpected-invoices"} <= {g["name"] for g in summary["gates"] if g["passed"]}
    ops = [json.loads(line) for line in (out / "operations-malformed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {op["kind"] for op in ops} == {"malformed"} and {op["worker"] for op in ops} == {"malformed-sut", "malformed-bureau"}
    assert summary["requests"]["total"] > 0 and all(op["op_id"].startswith("mal-") for op in ops)


def test_a_careless_sut_is_caught_in_a_run_with_a_shrunk_reproducer(tmp_path: Path) -> None:
    scenario = tmp_path / "careless.yaml"
    scenario.write_text("name: careless\nseed: 9\nload:\n  model: open\n  shape: {type: steady, target: 2, duration_s: 4}\n"
                        "malformed: {rate_per_s: 15, duration_s: 3, max_examples: 45, shrink_budget_s: 30}\ndrain_s: 1\n")
    out = tmp_path / "run"
    proc = cli("run", str(scenario), "--sut-cmd", f"{sys.executable} {CARELESS}", "--out", str(out))
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = _report(out / "summary.json")
    assert summary["malformed"]["findings"] >= 2
    assert not next(g for g in summary["gates"] if g["name"] == "no-malformed-findings")["passed"]
    findings = _report(out / "malformed.json")["findings"]
    outcomes = {f["outcome"] for f in findings}
    assert {"accepted", "server_error"} <= outcomes
    for f in findings:
        assert f["minimal_bytes"] < f["original_bytes"] and "curl" in f["curl"]


def test_fuzz_catches_the_careless_sut_and_its_curl_reproduces(careless: str, tmp_path: Path) -> None:
    proc = cli("fuzz", "--target", careless, "--examples", "60", "--seed", "3", "--max-time", "30", "--out", str(tmp_path))
    assert proc.returncode == 1, proc.stderr[-2000:]
    report = _report(tmp_path / "malformed.json")
    crash = next(f for f in report["findings"] if f["outcome"] == "server_error")
    assert crash["family"] == "odd_unicode" and crash["minimal_bytes"] <= 40
    again = subprocess.run(["bash", "-c", crash["curl"]], capture_output=True, text=True, timeout=20)
    assert again.stdout.startswith("HTTP/1.0 500")
    assert (tmp_path / "malformed.md").read_text(encoding="utf-8").count("## Finding") == len(report["findings"])


def test_fuzz_finds_nothing_in_the_bureau_with_the_default_families(bureau: str, tmp_path: Path) -> None:
    proc = cli("fuzz", "--target", bureau, "--bureau", "--examples", "60", "--seed", "1", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:] + (tmp_path / "malformed.md").read_text(encoding="utf-8")
    report = _report(tmp_path / "malformed.json")
    assert report["totals"]["sent"] == 60 and report["totals"]["rejected"] == 60

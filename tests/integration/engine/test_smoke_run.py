"""The smoke scenario end to end on the local backend, with real services."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from .conftest import ROOT, cli, wait_no_processes

pytestmark = pytest.mark.integration

SUMMARY_KEYS = {"schema_version", "scenario", "seed", "verdict", "compromised", "compromised_reasons",
                "requests", "latency_ms", "anomalies", "faults", "gates"}
RUN_FILES = ["summary.json", "report.html", "report.md", "junit.xml", "history.parquet", "faults.jsonl",
             "bureau-ledger.jsonl", "merchant-ledger.json", "scenario.resolved.yaml", "run.json"]


def test_smoke_scenario_passes_and_writes_the_run_directory(run_dir: Path):
    started = time.monotonic()
    proc = cli("run", "scenarios/smoke.yaml", "--out", str(run_dir), timeout=120)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert elapsed < 60, f"smoke took {elapsed:.0f} s"
    assert proc.stdout.strip().splitlines()[-1] == str(run_dir / "report.html")
    for name in RUN_FILES:
        assert (run_dir / name).exists(), name
    assert list((run_dir / "logs").glob("*.log"))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["verdict"] == "pass" and summary["scenario"] == "smoke" and summary["seed"] == 7
    assert set(summary["anomalies"]) == {"lost", "duplicate", "phantom", "mismatch", "stuck", "unexpected", "dropped"}
    assert summary["requests"]["total"] >= 300
    assert summary["requests"]["ok"] > 0
    (fault,) = summary["faults"]
    assert fault["id"] == "f1" and fault["kind"] == "down"
    assert 5.5 <= fault["start_s"] <= 7.0 and 9.5 <= fault["end_s"] <= 11.0
    assert fault["time_to_detect_s"] is not None
    ledger = [json.loads(x) for x in (run_dir / "bureau-ledger.jsonl").read_text().splitlines()]
    assert len(ledger) >= 300  # the SUT really issued through the proxy
    assert not wait_no_processes(run_dir)


def test_seed_override_and_sut_url_refuses_process_faults(tmp_path: Path):
    scenario = tmp_path / "kill.yaml"
    scenario.write_text((ROOT / "scenarios" / "smoke.yaml").read_text().replace(
        "family: network\n    kind: down\n    target: bureau", "family: process\n    kind: kill\n    target: sut"))
    proc = cli("run", str(scenario), "--sut-url", "http://127.0.0.1:9", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "process faults on the SUT" in proc.stderr


def test_repeat_runs_into_one_folder_with_derived_seeds(tmp_path: Path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("name: tiny\nseed: 40\nload:\n  model: open\n  shape: {type: steady, target: 5, duration_s: 3}\n"
                        "drain_s: 5\n")
    out = tmp_path / "rep"
    proc = cli("run", str(scenario), "--repeat", "2", "--out", str(out), timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seeds = [json.loads((out / f"repeat-{i}" / "summary.json").read_text())["seed"] for i in (1, 2)]
    assert seeds == [40, 41]
    assert proc.stdout.strip().splitlines()[-1] == str(out / "aggregate.md")


def test_toxiproxy_url_uses_that_server_and_says_so(tmp_path: Path):
    """A Toxiproxy server given by URL (here our own, started apart) carries the network faults."""
    import subprocess
    import sys

    from harness.net import free_port, wait_http_ok

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "harness.cli", "proxy", "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_http_ok(f"http://127.0.0.1:{port}/version", 30)
        scenario = tmp_path / "tiny.yaml"
        scenario.write_text("name: tiny\nseed: 2\nload:\n  shape: {type: steady, target: 5, duration_s: 4}\n"
                            "faults:\n  - {family: network, kind: down, start_s: 1, duration_s: 1}\ndrain_s: 10\n")
        out = tmp_path / "r"
        proc = cli("run", str(scenario), "--toxiproxy-url", f"http://127.0.0.1:{port}", "--out", str(out))
        assert proc.returncode == 0, proc.stderr[-3000:]
        proxy = json.loads((out / "run.json").read_text())["services"]["proxy"]
        assert proxy == {"kind": "toxiproxy-url", "url": f"http://127.0.0.1:{port}", "version": "2.12.0"}
        assert "fault proxy" in (out / "report.html").read_text()
        # the run removed its proxy entry from a server it does not own
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/proxies") as resp:
            assert json.loads(resp.read()) == {}
    finally:
        server.terminate()
        server.wait(10)


def test_sut_health_timeout_is_a_setting_and_says_where_to_listen(tmp_path: Path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("name: tiny\nload:\n  shape: {type: steady, target: 5, duration_s: 3}\ndrain_s: 2\n"
                        "services:\n  sut: {health_timeout_s: 1.5}\n")
    started = time.monotonic()
    proc = cli("run", str(scenario), "--sut-cmd", "sleep 60", "--out", str(tmp_path / "r"), timeout=60)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert time.monotonic() - started < 20
    assert "within 1.5 s" in proc.stderr and "must listen on $HOST:$PORT" in proc.stderr
    proc = cli("run", str(scenario), "--sut-cmd", "sleep 60", "--sut-health-timeout", "0.5",
               "--out", str(tmp_path / "r2"), timeout=60)
    assert proc.returncode == 3 and "within 0 s" not in proc.stderr and "--sut-health-timeout" in proc.stderr
    assert not wait_no_processes(tmp_path / "r2")

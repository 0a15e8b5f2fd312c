"""False passes found by trying the tool as a user would, each reproduced end to end.

Exit status, summary.json, junit.xml and the printed verdict must agree, and a run says pass
only when it is true (CONTRACT §5.7).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import ROOT, cli, wait_no_processes

pytestmark = pytest.mark.integration

TINY = """\
name: {name}
seed: 3
load:
  model: open
  shape: {{type: steady, target: 10, duration_s: {duration}}}
{faults}
drain_s: 6
{extra}
"""


def scenario(tmp_path: Path, name: str, *, duration: int = 6, faults: str = "", extra: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(TINY.format(name=name, duration=duration, faults=faults, extra=extra), encoding="utf-8")
    return path


def junit_problems(run_dir: Path) -> list[str]:
    root = ET.parse(run_dir / "junit.xml").getroot()
    return [c.get("name", "") for c in root.iter("testcase")
            if c.find("failure") is not None or c.find("error") is not None]


def test_a_declared_gate_does_not_drop_the_anomaly_gates(tmp_path: Path):
    """Case 1: only a p99 gate, 40% ghost commits, reference:naive: phantoms must fail the run."""
    path = scenario(
        tmp_path, "p99-only", duration=8,
        faults="faults:\n  - {family: bureau, kind: ghost_commit, start_s: 2, duration_s: 5, "
               "params: {probability: 0.4, match: {method: POST, path: /api/v1/invoices}}}",
        extra="gates:\n  - {name: p99-under-10s, metric: latency_ms.p99, op: \"<\", threshold: 10000}")
    out = tmp_path / "run"
    proc = cli("run", str(path), "--sut", "reference:naive", "--out", str(out), timeout=120)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["anomalies"]["phantom"], summary["anomalies"]
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert summary["verdict"] == "fail"
    assert {"verdict", "phantom", "no-phantom-invoices"} <= set(junit_problems(out))
    assert "verdict: fail" in proc.stderr and "no-phantom-invoices" in proc.stderr


def test_process_faults_on_a_proxy_the_harness_did_not_start_are_refused(tmp_path: Path):
    """Case 3: process/kill on the proxy with --toxiproxy-url used to vanish and pass."""
    path = scenario(tmp_path, "kill-proxy",
                    faults="faults:\n  - {family: process, kind: kill, target: proxy, start_s: 2, duration_s: 1}")
    proc = cli("run", str(path), "--toxiproxy-url", "http://127.0.0.1:9", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "process faults on the proxy" in proc.stderr and "--toxiproxy-url" in proc.stderr


def test_a_fault_after_the_load_is_refused_by_validate_and_run(tmp_path: Path):
    """Case 3: start_s 30 with 5 s of load was never applied, and validate said fine."""
    path = scenario(tmp_path, "late", duration=5,
                    faults="faults:\n  - {family: network, kind: down, start_s: 30, duration_s: 2}")
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "r")]):
        proc = cli(*command)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert "faults[0].start_s" in proc.stderr and "never be applied" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_used_run_directory_is_refused_and_force_clears_it(tmp_path: Path):
    """Case 4: a second run into the same --out merged both runs and passed."""
    path = scenario(tmp_path, "twice", duration=3)
    out = tmp_path / "run"
    first = cli("run", str(path), "--out", str(out), timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    ops_first = len((out / "operations.jsonl").read_text().splitlines())
    second = cli("run", str(path), "--out", str(out), timeout=120)
    assert second.returncode == 2 and "not empty" in second.stderr and "--force" in second.stderr
    assert len((out / "operations.jsonl").read_text().splitlines()) == ops_first   # untouched
    forced = cli("run", str(path), "--out", str(out), "--force", timeout=120)
    assert forced.returncode == 0, forced.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["requests"]["total"] == 30      # one run's orders, not two runs' merged


def test_force_never_clears_a_folder_that_holds_no_run(tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    proc = cli("run", str(scenario(tmp_path, "x", duration=3)), "--out", str(out), "--force")
    assert proc.returncode == 2 and "holds no earlier run" in proc.stderr
    assert (out / "thesis.tex").read_text() == "precious"


def test_a_relative_out_from_an_empty_folder(tmp_path: Path):
    """Case 5: --out chaos-run from a folder outside the checkout: Locust could not find its job."""
    path = scenario(tmp_path, "here", duration=3)
    work = tmp_path / "empty"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(path), "--out", "chaos-run"], cwd=work,
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (work / "chaos-run" / "summary.json").exists()
    assert proc.stdout.strip().splitlines()[-1] == str(work / "chaos-run" / "report.html")
    assert json.loads((work / "chaos-run" / "summary.json").read_text())["verdict"] == "pass"
    assert not wait_no_processes(work / "chaos-run")


def test_repeat_ends_with_one_aggregate_line_file_and_junit(tmp_path: Path):
    path = scenario(tmp_path, "rep", duration=3)
    out = tmp_path / "rep"
    proc = cli("run", str(path), "--repeat", "2", "--out", str(out), timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2 run(s): 2 passed, 0 failed, 0 unknown -> pass" in proc.stderr
    agg = json.loads((out / "aggregate.json").read_text())
    assert agg["verdict"] == "pass" and agg["counts"] == {"pass": 2, "fail": 0, "unknown": 0}
    root = ET.parse(out / "junit.xml").getroot()
    names = {s.get("name", "") for s in root.iter("testsuite")}
    assert any(n.startswith("repeat-1.") for n in names) and any(n.startswith("repeat-2.") for n in names)


def test_a_sweep_runs_one_variant_per_value_with_one_verdict(tmp_path: Path):
    """Each value runs as its own variant (its own folder, seed and verdict), with one verdict
    and table for the sweep. retrying resubmits after any 504 with a fresh id: duplicates at
    every hold, and the longer hold shows in its answers' latency."""
    path = scenario(
        tmp_path, "swept", duration=6,
        faults="faults:\n  - {id: hang, family: bureau, kind: ghost_commit, start_s: 1, duration_s: 4, "
               "params: {probability: 0.5, hang_s: 1, match: {method: POST, path: /api/v1/invoices}}}",
        extra="sweep: {param: faults.hang.params.hang_s, values: [0.5, 3]}")
    out = tmp_path / "sweep"
    proc = cli("run", str(path), "--sut", "reference:retrying", "--out", str(out), timeout=240)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == str(out / "aggregate.md")
    agg = json.loads((out / "aggregate.json").read_text())
    assert agg["kind"] == "sweep" and agg["param"] == "faults.hang.params.hang_s"
    runs = {r["value"]: r for r in agg["runs"]}
    assert set(runs) == {0.5, 3} and [r["seed"] for r in agg["runs"]] == [3, 4]
    assert all(r["anomalies"]["duplicate"] > 0 and r["verdict"] == "fail" for r in runs.values())
    p99 = {v: json.loads((out / f"hang_s={v}" / "summary.json").read_text())["latency_ms"]["p99"] for v in ("0.5", "3")}
    assert p99["3"] > p99["0.5"] + 1000, p99
    assert json.loads((out / "hang_s=3" / "run.json").read_text())["variant"] == "hang_s=3"
    assert "| faults.hang.params.hang_s | verdict |" in (out / "aggregate.md").read_text()


def test_a_scenario_that_requires_lq_refuses_a_sut_without_it(tmp_path: Path):
    path = scenario(tmp_path, "needs-lq", duration=3, extra="requires: [lq]")
    sut = f"{sys.executable} {ROOT / 'tests' / 'data' / 'slow_ledger_sut.py'}"
    proc = cli("run", str(path), "--sut-cmd", sut, "--out", str(tmp_path / "r"), timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "requires the SUT capabilities lq" in proc.stderr and "['stats']" in proc.stderr
    assert not wait_no_processes(tmp_path / "r")


def test_the_sut_gets_the_bureau_time_url_and_a_clock_jump_moves_bureau_time(tmp_path: Path):
    path = scenario(
        tmp_path, "clock", duration=5,
        faults="faults:\n  - {id: jump, family: bureau, kind: clock_jump, start_s: 2, params: {advance_s: 86400}}",
        extra='services:\n  bureau:\n    clock: {start: "2026-12-31T23:59:50+08:00"}')
    out = tmp_path / "r"
    sut = f"env | grep ^BUREAU; exec {sys.executable} {ROOT / 'tests' / 'data' / 'slow_ledger_sut.py'}"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(path), "--out", str(out), "--sut-cmd", sut],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "LEDGER_DELAY_S": "0"})
    assert proc.returncode == 1, proc.stderr[-2000:]    # its orders stay pending: stuck, but the clock is what counts
    probes = [json.loads(x) for x in (out / "probes.jsonl").read_text().splitlines()]
    during = [p["bureau_time"] for p in probes if p["t_s"] is not None and 0.5 < p["t_s"] < 1.8]
    after = [p["bureau_time"] for p in probes if p["t_s"] is not None and p["t_s"] > 2.5]
    assert during and all(t.startswith("2026-12-31T23:59:5") for t in during), during
    assert after and all(t.startswith(("2027-01-01T23:59:5", "2027-01-02T00:0")) for t in after), after
    (jump,) = json.loads((out / "summary.json").read_text())["faults"]
    assert jump["kind"] == "clock_jump" and jump["start_s"] == pytest.approx(jump["end_s"], abs=0.1)
    assert json.loads((out / "run.json").read_text())["bureau_clock"]["now"].startswith("2026-12-31T23:59:5")
    log = (out / "logs" / "sut.log").read_text()
    proxied = json.loads((out / "run.json").read_text())["services"]["bureau_via_proxy"]
    assert f"BUREAU_TIME_URL=http://{proxied}/api/v1/time" in log

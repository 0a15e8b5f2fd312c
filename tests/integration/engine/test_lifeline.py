"""A harness killed with SIGKILL leaves nothing behind (local backend), at every point of a run.

Each test kills ``invoice-chaos run`` with SIGKILL at one point (starting services, under load,
during the drain, during collection), then lists the process groups the harness had
registered: within 10 s none may be left, and `report` renders the directory as unknown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.lifeline import Registry, group_alive, reap_stale

from .conftest import ROOT, processes_of, wait_no_processes

pytestmark = pytest.mark.integration

SCENARIO = """\
name: killed
seed: 5
load:
  model: open
  shape: {type: steady, target: 10, duration_s: 12}
faults:
  - {family: network, kind: latency, start_s: 2, duration_s: 3, params: {ms: 50}}
drain_s: 15
"""


def registered_groups(state: Path) -> list[dict]:
    groups: list[dict] = []
    for path in (state / "local").glob("*.json"):
        registry = Registry.read(path)
        if registry is not None:
            groups += [{"pgid": g.pgid, "name": g.name} for g in registry.groups.values()]
    return groups


def wait_for(check: Callable[[], bool], deadline_s: float, what: str) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# An outage up to the end of the load: the resilient client drains its backlog for seconds.
BACKLOG = SCENARIO.replace("{family: network, kind: latency, start_s: 2, duration_s: 3, params: {ms: 50}}",
                           "{family: bureau, kind: error, start_s: 5, duration_s: 7, params: {status: 503}}")


def start_run(tmp_path: Path, state: Path, *extra: str, text: str = SCENARIO) -> tuple[subprocess.Popen[str], Path]:
    scenario = tmp_path / "killed.yaml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    env = {**os.environ, "INVOICE_CHAOS_STATE_DIR": str(state), "LEDGER_DELAY_S": "12"}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(scenario), "--out", str(out), *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out


def kill_and_check(proc: subprocess.Popen[str], out: Path, state: Path, seen: list[dict]) -> None:
    assert seen, "the harness registered no service before the kill"
    assert processes_of(out), "expected live services of the run before the kill"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed_at = time.monotonic()
    wait_for(lambda: not any(group_alive(g["pgid"]) for g in seen), 10, f"the groups of {seen} to end")
    print(f"every service gone {time.monotonic() - killed_at:.2f} s after the SIGKILL")
    # Independently of the registry: no process that names the run directory is left.
    assert not wait_no_processes(out, deadline_s=10 - (time.monotonic() - killed_at))
    wait_for(lambda: not list((state / "local").glob("*.json")), 5, "the registry to be removed")
    report = subprocess.run([sys.executable, "-m", "harness.cli", "report", str(out)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr[-2000:]
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "UNKNOWN" in md and "before its audit" in md


def stderr_line(proc: subprocess.Popen[str], needle: str, deadline_s: float) -> None:
    assert proc.stderr is not None
    end = time.monotonic() + deadline_s
    for line in proc.stderr:
        if needle in line:
            return
        if time.monotonic() > end:
            break
    raise AssertionError(f"never saw {needle!r} on the harness's stderr")


def test_killed_while_starting_services(tmp_path: Path):
    state = tmp_path / "state"
    proc, out = start_run(tmp_path, state)
    wait_for(lambda: any(g["name"] == "bureau" for g in registered_groups(state)), 30, "the bureau to start")
    kill_and_check(proc, out, state, registered_groups(state))


def test_killed_under_load(tmp_path: Path):
    state = tmp_path / "state"
    proc, out = start_run(tmp_path, state)
    ops = out / "operations.jsonl"
    wait_for(lambda: ops.exists() and ops.stat().st_size > 5000, 60, "the load")
    seen = registered_groups(state)
    assert {"bureau", "proxy", "sut", "load"} <= {g["name"] for g in seen}
    kill_and_check(proc, out, state, seen)


def test_killed_during_the_drain(tmp_path: Path):
    state = tmp_path / "state"
    proc, out = start_run(tmp_path, state, text=BACKLOG)
    stderr_line(proc, "draining", 90)
    kill_and_check(proc, out, state, registered_groups(state))


def test_killed_during_collection(tmp_path: Path):
    state = tmp_path / "state"
    sut = f"{sys.executable} {ROOT / 'tests' / 'data' / 'slow_ledger_sut.py'}"
    proc, out = start_run(tmp_path, state, "--sut-cmd", sut)
    stderr_line(proc, "draining", 90)
    wait_for(lambda: (out / "bureau-ledger.jsonl").exists(), 30, "collection to begin")
    seen = registered_groups(state)
    assert "sut" in {g["name"] for g in seen}
    kill_and_check(proc, out, state, seen)


def test_cleanup_ends_what_a_harness_and_its_reaper_left(tmp_path: Path):
    """The fallback: the reaper itself was killed too; `cleanup --dry-run` lists, `cleanup` ends."""
    state = tmp_path / "state"
    folder = state / "local"
    folder.mkdir(parents=True)
    gone = subprocess.Popen(["true"])
    gone.wait()
    service = subprocess.Popen(["sleep", "60"], start_new_session=True)
    from harness.lifeline import start_time

    (folder / f"{gone.pid}-1.json").write_text(json.dumps({
        "harness_pid": gone.pid, "harness_started": 1.0, "host": "",
        "groups": [{"pgid": service.pid, "name": "sut", "leader_started": start_time(service.pid),
                    "command": "sleep 60", "run_dir": "/tmp/x"}]}))
    env = {**os.environ, "INVOICE_CHAOS_STATE_DIR": str(state)}
    try:
        dry = subprocess.run([sys.executable, "-m", "harness.cli", "cleanup", "--dry-run"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
        assert dry.returncode == 0 and "would end sut" in dry.stdout and group_alive(service.pid)
        done = subprocess.run([sys.executable, "-m", "harness.cli", "cleanup"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "ending sut" in done.stdout, done.stdout + done.stderr
        service.wait(timeout=5)
        assert not list(folder.glob("*.json"))
    finally:
        if service.poll() is None:
            service.kill()


def test_a_live_harness_is_never_taken_for_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INVOICE_CHAOS_STATE_DIR", str(tmp_path))
    (tmp_path / "local").mkdir()
    service = subprocess.Popen(["sleep", "60"], start_new_session=True)
    from harness.lifeline import start_time

    try:
        me = os.getpid()
        (tmp_path / "local" / f"{me}-x.json").write_text(json.dumps({
            "harness_pid": me, "harness_started": start_time(me), "host": "",
            "groups": [{"pgid": service.pid, "name": "sut", "leader_started": start_time(service.pid),
                        "command": "sleep 60", "run_dir": ""}]}))
        assert reap_stale() == [] and service.poll() is None
        # a registered group whose leader is now another process (pid reused) is not ours
        (tmp_path / "local" / f"{me}-x.json").write_text(json.dumps({
            "harness_pid": 999_999_999, "harness_started": 1.0, "host": "",
            "groups": [{"pgid": service.pid, "name": "sut", "leader_started": 1.0, "command": "", "run_dir": ""}]}))
        assert reap_stale() == [] and service.poll() is None
    finally:
        service.kill()

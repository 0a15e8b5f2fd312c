"""`run --toxiproxy-bin PATH`: the original Toxiproxy as the run's fault proxy (local backend).

It is a service like the others: its own process group, healthy on /version, registered with
the lifeline (a SIGKILLed harness leaves it no more than the embedded proxy), stopped at the
end; run.json says which proxy ran. Skipped, with the path looked at, without the binary.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from harness.net import http_ok
from harness.proxy.original import locate

from .conftest import ROOT, cli
from .test_lifeline import kill_and_check, registered_groups, start_run, wait_for

pytestmark = pytest.mark.integration

BINARY, WHY = locate(ROOT)
needs_binary = pytest.mark.skipif(BINARY is None, reason=WHY)


@needs_binary
def test_run_uses_the_binary_records_it_and_stops_it(tmp_path: Path):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("name: tiny\nseed: 3\nload:\n  shape: {type: steady, target: 5, duration_s: 5}\n"
                        "faults:\n  - {family: network, kind: down, start_s: 1, duration_s: 1}\n"
                        "  - {family: network, kind: latency, start_s: 3, duration_s: 1, params: {ms: 40}}\n"
                        "drain_s: 10\n")
    out = tmp_path / "r"
    proc = cli("run", str(scenario), "--toxiproxy-bin", str(BINARY), "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    proxy = json.loads((out / "run.json").read_text())["services"]["proxy"]
    assert proxy["kind"] == "toxiproxy-bin" and proxy["path"] == str(BINARY) and proxy["version"] == "2.12.0"
    faults = [json.loads(line) for line in (out / "faults.jsonl").read_text().splitlines()]
    assert [(f["id"], f["error"]) for f in faults if f["applied_at"] and f["reverted_at"]] == [
        ("f1", None), ("f2", None)]
    log = (out / "logs" / "proxy.log").read_text()
    assert "Starting Toxiproxy" in log and '"level":"trace"' not in log     # the original's log, at info
    assert not http_ok(proxy["url"] + "/version", 0.5)  # stopped with the run


@needs_binary
def test_killed_harness_leaves_no_toxiproxy(tmp_path: Path):
    state = tmp_path / "state"
    proc, out = start_run(tmp_path, state, "--toxiproxy-bin", str(BINARY))
    ops = out / "operations.jsonl"
    wait_for(lambda: ops.exists() and ops.stat().st_size > 5000, 60, "the load")
    seen = registered_groups(state)
    (group,) = [g for g in seen if g["name"] == "proxy"]
    assert Path(psutil.Process(group["pgid"]).exe()) == BINARY      # the binary, not the embedded proxy
    kill_and_check(proc, out, state, seen)

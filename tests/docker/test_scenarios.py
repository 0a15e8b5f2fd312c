"""The issue's proof: `smoke` and `bureau-crash` reach the same verdicts on docker as on local."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def run(cli: Any, scenario: str, backend: str, out: Path) -> tuple[int, dict[str, Any], dict[str, Any]]:
    proc = cli("run", f"scenarios/{scenario}.yaml", "--backend", backend, "--out", str(out))
    assert proc.returncode in (0, 1), f"{backend} run of {scenario}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    summary = json.loads((out / "summary.json").read_text())
    meta = json.loads((out / "run.json").read_text())
    return proc.returncode, summary, meta


@pytest.mark.parametrize("scenario", ["smoke", "bureau-crash"])
def test_same_verdict_as_local(scenario: str, tmp_path: Path, cli: Any, objects_of_run: Any) -> None:
    code_d, docker_summary, meta = run(cli, scenario, "docker", tmp_path / "docker")
    code_l, local_summary, _ = run(cli, scenario, "local", tmp_path / "local")
    assert (code_d, docker_summary["verdict"]) == (code_l, local_summary["verdict"])
    assert docker_summary["verdict"] == "pass", docker_summary
    assert {k: v for k, v in docker_summary["anomalies"].items() if v} == {}
    assert meta["backend"] == "docker"
    assert meta["services"]["proxy"]["kind"] == "embedded"     # no test ever pulls Toxiproxy
    assert meta["services"]["sut"].startswith("http://127.0.0.1:")
    for name in ("bureau", "proxy", "sut"):
        assert (tmp_path / "docker" / "logs" / f"{name}.log").exists()
    assert objects_of_run(meta["run_id"]) == []            # nothing left behind
    if scenario == "bureau-crash":
        (fault,) = docker_summary["faults"]
        assert fault["time_to_recover_s"] is not None

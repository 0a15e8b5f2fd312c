"""explore's search and shrink against literal black boxes (no services): a run is a function
of the schedule, flaky ones included, so every decision of the engine can be checked."""

from __future__ import annotations

import json
import random
import textwrap
from pathlib import Path
from typing import Any

import yaml

from harness.explore.engine import Budget, Explorer
from harness.explore.output import write_outputs
from harness.explore.schedule import base_data, describe, draw
from harness.explore.shrink import candidates
from harness.scenario import load_scenario

MIX = """\
name: mix
seed: 10
load:
  shape: {type: steady, target: 8, duration_s: 30}
random_faults:
  start_s: 1
  end_s: 28
  mean_interval_s: 3
  duration_s: [2, 5]
  lanes: 2
  mix:
    - {family: bureau, kind: latency, params: {ms: {range: [50, 3000]}}}
    - {family: bureau, kind: ghost_commit, params: {hang_s: {range: [0.0, 10.0]}, probability: {range: [0.2, 0.8]}}}
    - {family: network, kind: down}
drain_s: 5
"""


def setup(tmp_path: Path) -> tuple[dict[str, Any], Any]:
    p = tmp_path / "mix.yaml"
    p.write_text(textwrap.dedent(MIX), encoding="utf-8")
    return base_data(p)


def bug(threshold_s: float = 5.0):
    """A client with a 5 s timeout that resubmits under a new id: fails when some ghost commit
    holds its answer past 5 s; ``faults`` and ``load`` otherwise do not matter."""
    def run_one(path: Path, out: Path) -> tuple[int, dict[str, Any]]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        hit = any(f["kind"] == "ghost_commit" and (f.get("params") or {}).get("hang_s", 0) > threshold_s
                  and (f.get("params") or {}).get("probability", 1) >= 0.05 for f in data.get("faults") or [])
        verdict = "fail" if hit else "pass"
        return (1 if hit else 0), {"verdict": verdict, "anomalies": {"duplicate": ["O1"] if hit else []}}
    return run_one


def test_a_draw_is_a_plain_scenario_with_explicit_faults(tmp_path: Path):
    data, _ = setup(tmp_path)
    one = draw(data, 10)
    assert "random_faults" not in one and one["seed"] == 10 and one["faults"]
    assert one == draw(data, 10) and one != draw(data, 11)
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(one), encoding="utf-8")
    assert len(load_scenario(path).fault_specs()) == len(one["faults"])   # it validates and runs as written


def test_candidates_change_one_thing_each(tmp_path: Path):
    data, _ = setup(tmp_path)
    one = draw(data, 12)
    steps = list(candidates(one, 30.0))
    assert steps[0][0].startswith("drop ") and len(steps[0][1]["faults"]) == len(one["faults"]) - 1
    for what, smaller in steps:
        changed = [k for k in ("faults", "load") if smaller[k] != one[k]]
        assert len(changed) == 1, what
    assert any(w.startswith("load target 8 -> 4") for w, _ in steps)
    assert any("run 30 ->" in w for w, _ in steps)


def test_the_engine_finds_and_shrinks_to_the_one_fault_that_matters(tmp_path: Path):
    data, scenario = setup(tmp_path)
    explorer = Explorer(data, scenario, tmp_path / "out", bug(), seed=0, budget=Budget(runs=200),
                        replays=3, min_fails=2, confirm=4, say=lambda _m: None)
    outcome = explorer.explore()
    assert outcome.found is not None and outcome.minimal is not None
    (fault,) = outcome.minimal["faults"]
    assert fault["kind"] == "ghost_commit" and 5.0 < fault["params"]["hang_s"] <= 10.0
    assert fault["duration_s"] == 0.5 and fault["params"]["probability"] < 0.2   # shrunk as far as it still fails
    assert outcome.minimal["load"]["shape"]["target"] == 1
    assert outcome.minimal_replays == (4, 4)
    report = write_outputs(tmp_path / "out", outcome, explorer.budget, "mix").read_text()
    assert "The smallest failure found" in report and "failed 4 of 4 replays" in report
    minimal = tmp_path / "out" / "minimal.yaml"
    assert len(load_scenario(minimal).fault_specs()) == 1      # a scenario anyone can run


def test_a_flaky_failure_needs_k_of_n_and_unknown_is_never_a_failure(tmp_path: Path):
    data, scenario = setup(tmp_path)
    rng = random.Random(4)
    real = bug()

    def flaky(path: Path, out: Path) -> tuple[int, dict[str, Any]]:
        code, summary = real(path, out)
        if summary["verdict"] == "fail" and rng.random() < 0.3:
            return 0, {"verdict": "pass", "anomalies": {}}            # the bug did not show this time
        if rng.random() < 0.1:
            return 1, {"verdict": "unknown", "anomalies": {}}         # the machine stumbled
        return code, summary

    explorer = Explorer(data, scenario, tmp_path / "out", flaky, seed=0, budget=Budget(runs=300),
                        replays=4, min_fails=2, confirm=8, say=lambda _m: None)
    outcome = explorer.explore()
    assert outcome.minimal is not None and len(outcome.minimal["faults"]) == 1
    failed, runs = outcome.minimal_replays
    assert runs == 8 and 2 <= failed < 8
    found_at = next(t for t in outcome.tries if t.verdict == "fail" and t.phase == "search")
    assert all(t.verdict in ("pass", "unknown") for t in outcome.tries if t.phase == "search" and t.n < found_at.n)
    assert not any(t.verdict == "unknown" for t in outcome.tries if t.n == found_at.n)  # found on a real fail


def test_nothing_found_reports_the_space_covered_and_the_budget_holds(tmp_path: Path):
    data, scenario = setup(tmp_path)
    explorer = Explorer(data, scenario, tmp_path / "out", bug(threshold_s=99.0), seed=0, budget=Budget(runs=12),
                        say=lambda _m: None)
    outcome = explorer.explore()
    assert outcome.found is None and len(outcome.tries) == 12
    body = json.loads((write_outputs(tmp_path / "out", outcome, explorer.budget, "mix").parent
                       / "explore.json").read_text())
    cov = body["coverage"]
    assert cov["schedules"] == 12 and "bureau/ghost_commit" in cov["faults_by_kind"]
    lo, hi = cov["parameter_ranges"]["bureau/ghost_commit.hang_s"]
    assert 0.0 <= lo <= hi <= 10.0
    assert not (tmp_path / "out" / "minimal.yaml").exists()
    lines = (tmp_path / "out" / "explore" / "tries.jsonl").read_text().splitlines()
    assert len(lines) == 12 and describe(draw(data, 0)) in json.loads(lines[0])["what"]


def test_the_confirmation_is_kept_inside_the_budget(tmp_path: Path):
    data, scenario = setup(tmp_path)
    explorer = Explorer(data, scenario, tmp_path / "out", bug(), seed=0, budget=Budget(runs=14),
                        replays=3, min_fails=2, confirm=4, say=lambda _m: None)
    outcome = explorer.explore()
    assert len(outcome.tries) <= 14 and outcome.minimal_replays[1] == 4

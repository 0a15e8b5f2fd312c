"""Scenario files: valid ones resolve; broken ones are explained (file, line, field, value)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_scenario

GOOD = """\
name: demo
seed: 3
load:
  model: open
  shape: {type: steady, target: 10, duration_s: 20}
faults:
  - family: bureau
    kind: error
    start_s: 5
    duration_s: 4
    params: {status: 503}
  - id: crash
    family: process
    kind: kill
    target: sut
    start_s: 12
drain_s: 10
gates:
  - {name: fast, metric: latency_ms.p99, op: "<", threshold: 500}
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_good_scenario_resolves_ids_targets_and_scale(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD), time_scale=0.5)
    specs = sc.fault_specs()
    assert [s.id for s in specs] == ["f1", "crash"]
    assert specs[0].target == "bureau" and specs[1].target == "sut"
    assert specs[0].start_s == 2.5 and specs[0].duration_s == 2.0
    assert specs[1].duration_s is None
    assert sc.drain_scaled_s == 5.0
    assert sc.seed == 3


def test_name_defaults_to_file_stem_and_seed_overrides(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD.replace("name: demo\n", ""), "my-case.yaml"), seed=11)
    assert sc.name == "my-case" and sc.seed == 11


@pytest.mark.parametrize("mutation, expected", [
    (("start_s: 5", "start_s: -1"), ["line 9", "faults[0].start_s", "-1"]),
    (("kind: error", "kind: explode"), ["faults[0].kind", "'explode'", "ghost_commit"]),
    (("target: sut", "target: moon"), ["faults[1].target", "'moon'"]),
    (("op: \"<\"", "op: \"~\""), ["gates[0].op", "'~'"]),
    (("drain_s: 10", "drian_s: 10"), ["drian_s", "unknown field"]),
    (("target: 10", "target: lots"), ["load.shape", "lots"]),
])
def test_broken_scenarios_name_line_field_and_value(tmp_path, mutation, expected):
    path = write(tmp_path, GOOD.replace(*mutation))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert str(path) in text
    for piece in expected:
        assert piece in text, f"{piece!r} not in {text!r}"


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(ScenarioError, match="line 2"):
        load_scenario(write(tmp_path, "name: x\nload: a: b\n"))
    with pytest.raises(ScenarioError, match="top level must be a mapping"):
        load_scenario(write(tmp_path, "- just a list\n"))


def test_duplicate_fault_ids(tmp_path):
    text = GOOD.replace("id: crash", "id: f1")
    with pytest.raises(ScenarioError, match="used twice"):
        load_scenario(write(tmp_path, text))


def test_shipped_scenarios_all_validate():
    root = Path(__file__).resolve().parents[3] / "scenarios"
    files = sorted(root.glob("*.yaml"))
    assert files, "no scenarios shipped"
    for f in files:
        load_scenario(f)


RANDOM = """\
name: rnd
seed: 5
load:
  shape: {type: steady, target: 10, duration_s: 120}
random_faults:
  start_s: 5
  end_s: 110
  mean_interval_s: 8
  duration_s: [2, 6]
  mix:
    - {family: bureau, kind: error, params: {status: 503}, weight: 2}
    - {family: network, kind: down}
"""


def test_random_schedule_is_seeded_and_never_overlaps(tmp_path):
    path = write(tmp_path, RANDOM)
    a = load_scenario(path).fault_specs()
    b = load_scenario(path).fault_specs()
    c = load_scenario(path, seed=6).fault_specs()
    assert a == b and a != c
    assert len(a) >= 5
    for prev, nxt in zip(a, a[1:]):
        assert prev.start_s + prev.duration_s <= nxt.start_s
    assert all(5 <= s.start_s and s.start_s + s.duration_s <= 110 and 2 <= s.duration_s <= 6 for s in a)
    assert {s.kind for s in a} == {"error", "down"}
    scaled = load_scenario(path, time_scale=2).fault_specs()
    assert scaled[0].start_s == pytest.approx(a[0].start_s * 2, abs=0.002)


def test_random_schedule_problems_are_explained(tmp_path):
    with pytest.raises(ScenarioError, match=r"random_faults.*duration_s"):
        load_scenario(write(tmp_path, RANDOM.replace("[2, 6]", "[6, 2]")))
    with pytest.raises(ScenarioError, match=r"random_faults\.mix\[1\]\.kind"):
        load_scenario(write(tmp_path, RANDOM.replace("kind: down", "kind: melt")))


@pytest.mark.parametrize("mutation, expected", [
    # a fault after the load ends would never be applied (found as a false pass)
    (("start_s: 5\n", "start_s: 30\n"), ["line 9", "faults[0].start_s", "30 s", "end of the load (20 s)"]),
    (("duration_s: 4\n", "duration_s: 40\n"), ["faults[0].duration_s", "end at 45 s", "after the load ends"]),
    # gate metrics that no run can measure
    (("latency_ms.p99", "anomalies.duplcate"), ["line 19", "gates[0].metric", "'duplcate'", "duplicate"]),
    (("latency_ms.p99", "faults.f9.time_to_recover_s"), ["gates[0].metric", "'f9'", "f1, crash"]),
    (("latency_ms.p99", "latency_ms"), ["gates[0].metric", "p50, p95, p99, max"]),
    (("latency_ms.p99", "malformed.findings"), ["gates[0].metric", "malformed: phase"]),
    # bureau parameters, checked offline with the bureau's own specifications
    (("params: {status: 503}", "params: {status: 200}"), ["faults[0].params.status", "400 to 599", "200"]),
    (("kind: error\n    start_s: 5\n    duration_s: 4\n    params: {status: 503}",
      "kind: latency\n    start_s: 5\n    duration_s: 4\n    params: {msec: 50}"),
     ["faults[0].params.msec", "not a parameter of latency", "faults[0].params.ms is required"]),
    (("gates:\n", "anomaly_gates: {phantm: off}\ngates:\n"), ["anomaly_gates", "phantm"]),
])
def test_what_no_run_could_judge_is_refused_before_the_run(tmp_path, mutation, expected):
    path = write(tmp_path, GOOD.replace(*mutation))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    for piece in expected:
        assert piece in text, f"{piece!r} not in {text!r}"


def test_gates_may_address_every_fault_and_the_load_spike(tmp_path):
    text = GOOD.replace("latency_ms.p99", "faults.crash.drain_s")
    assert load_scenario(write(tmp_path, text)).gates[0].metric == "faults.crash.drain_s"
    spike = text.replace("{type: steady, target: 10, duration_s: 20}",
                         "{type: spike, base: 5, factor: 3, at_s: 5, spike_s: 4, duration_s: 20}")
    spike = spike.replace("faults.crash.drain_s", "faults.load-spike.time_to_recover_s")
    assert load_scenario(write(tmp_path, spike)).gates


def test_anomaly_gates_turn_off_by_name_only(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD.replace("gates:\n", "anomaly_gates: {phantom: off, stuck: on}\ngates:\n")))
    assert sc.anomaly_gates_off == ("phantom",)


def test_random_faults_must_end_inside_the_load(tmp_path):
    with pytest.raises(ScenarioError, match=r"random_faults\.end_s: 130 s is after the end of the load \(120 s\)"):
        load_scenario(write(tmp_path, RANDOM.replace("end_s: 110", "end_s: 130")))


def test_bureau_settings_and_clock_reach_the_bureau_command_line(tmp_path):
    from harness.bureau_command import CLOCK_LEAD_S, bureau_args

    text = GOOD.replace("drain_s: 10\n", """drain_s: 10
services:
  bureau:
    settings: {quota_monthly: "5000.00", processing_s: 0.5, close_day: 13}
    clock: {start: "2026-11-30T23:59:30+08:00", rate: 2}
requires: [lq]
""")
    sc = load_scenario(write(tmp_path, text))
    args = bureau_args(sc)
    assert args[args.index("--quota-monthly") + 1] == "5000.00"
    assert args[args.index("--processing-s") + 1] == "0.5" and args[args.index("--close-day") + 1] == "13"
    # the bureau starts CLOCK_LEAD_S early; the harness moves it to start when the load begins
    assert CLOCK_LEAD_S == 600 and args[args.index("--clock-start") + 1] == "2026-11-30T23:49:30+08:00"
    assert args[args.index("--clock-rate") + 1] == "2" and sc.requires == ("lq",)


@pytest.mark.parametrize("mutation, expected", [
    ('clock: {start: "2026-11-30T23:59:30"}', ["services.bureau.clock.start", "timezone"]),
    ("settings: {quota: 5}", ["services.bureau.settings.quota", "unknown field"]),
    ("settings: {close_day: 31}", ["services.bureau.settings.close_day", "28"]),
])
def test_bad_bureau_settings_are_named(tmp_path, mutation, expected):
    text = GOOD.replace("drain_s: 10\n", f"drain_s: 10\nservices:\n  bureau:\n    {mutation}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    for piece in expected:
        assert piece in str(err.value), f"{piece!r} not in {err.value}"


def test_clock_jump_is_an_instant_with_advance_s(tmp_path):
    jump = "  - {id: jump, family: bureau, kind: clock_jump, start_s: 6, params: {advance_s: 176400}}\n"
    sc = load_scenario(write(tmp_path, GOOD.replace("drain_s: 10\n", "drain_s: 10\n").replace("faults:\n", "faults:\n" + jump)))
    spec = next(s for s in sc.fault_specs() if s.id == "jump")
    assert spec.duration_s == 0.0 and spec.params == {"advance_s": 176400}
    bad = jump.replace("params: {advance_s: 176400}", "duration_s: 3, params: {advance_s: -1}")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, GOOD.replace("faults:\n", "faults:\n" + bad)))
    assert "a number above 0" in str(err.value) and "leave duration_s out" in str(err.value)


def test_random_mix_parameters_may_be_ranges_and_lanes_overlap(tmp_path):
    text = RANDOM.replace("params: {status: 503}, weight: 2", "params: {status: {choice: [502, 503]}}, weight: 2") \
        .replace("kind: down}", "kind: latency, params: {ms: {range: [50, 2000]}, jitter_ms: {range: [0, 10]}}}\n"
                 "    - {family: bureau, kind: ghost_commit, params: {hang_s: {range: [0.5, 3.0]}}}") \
        .replace("duration_s: [2, 6]", "duration_s: [2, 6]\n  lanes: 2")
    specs = load_scenario(write(tmp_path, text)).fault_specs()
    assert specs == load_scenario(write(tmp_path, text)).fault_specs()      # seeded
    lat = [s for s in specs if s.kind == "latency"]
    assert lat and all(isinstance(s.params["ms"], int) and 50 <= s.params["ms"] <= 2000 for s in lat)
    hangs = [s.params["hang_s"] for s in specs if s.kind == "ghost_commit"]
    assert hangs and all(isinstance(h, float) and 0.5 <= h <= 3.0 for h in hangs)
    assert {s.params["status"] for s in specs if s.kind == "error"} <= {502, 503}
    ordered = sorted(specs, key=lambda s: s.start_s)
    assert any(a.start_s + a.duration_s > b.start_s for a, b in zip(ordered, ordered[1:])), "lanes overlap"


@pytest.mark.parametrize("params, expected", [
    ("{ms: {range: [100, 10]}}", "low <= high"),
    ("{ms: {range: [-5, 10]}}", "params.ms must be at least 0"),   # an edge of the range is checked
    ("{status: {choice: []}}", "a choice is"),
])
def test_bad_ranges_are_named(tmp_path, params, expected):
    kind = "latency" if "ms" in params else "error"
    text = RANDOM.replace("{family: bureau, kind: error, params: {status: 503}, weight: 2}",
                          f"{{family: bureau, kind: {kind}, params: {params}}}")
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text))
    assert "random_faults.mix[0]" in str(err.value) and expected in str(err.value), str(err.value)

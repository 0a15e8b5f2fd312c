"""Sweeps: one variant per value, each validated like a scenario, seeds derived as --repeat."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.scenario import load_scenario
from harness.sweep import label_of, load_variants, set_path

SWEPT = """\
name: swept
seed: 10
load:
  shape: {type: steady, target: 5, duration_s: 20}
faults:
  - {id: hang, family: bureau, kind: ghost_commit, start_s: 2, duration_s: 10}
  - {family: network, kind: latency, start_s: 13, duration_s: 2, params: {ms: 100}}
drain_s: 5
sweep: {param: faults.hang.params.hang_s, values: [2, 5, 10.5]}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_one_variant_per_value_with_seeds_derived_like_repeat(tmp_path: Path):
    variants = load_variants(write(tmp_path, SWEPT))
    assert [v.label for v in variants] == ["hang_s=2", "hang_s=5", "hang_s=10.5"]
    assert [v.scenario.seed for v in variants] == [10, 11, 12]
    assert [v.scenario.fault_specs()[0].params["hang_s"] for v in variants] == [2, 5, 10.5]
    assert all(v.scenario.sweep is None and v.param == "faults.hang.params.hang_s" for v in variants)
    # the other fault is untouched, and the seed override shifts every variant
    assert variants[1].scenario.fault_specs()[1].params == {"ms": 100}
    assert [v.scenario.seed for v in load_variants(write(tmp_path, SWEPT), seed=0)] == [0, 1, 2]


def test_faults_without_an_id_are_addressed_by_their_default_id(tmp_path: Path):
    text = SWEPT.replace("faults.hang.params.hang_s, values: [2, 5, 10.5]", "faults.f2.params.ms, values: [50, 500]")
    assert [v.scenario.fault_specs()[1].params["ms"] for v in load_variants(write(tmp_path, text))] == [50, 500]


def test_any_scenario_field_can_be_swept(tmp_path: Path):
    text = SWEPT.replace("faults.hang.params.hang_s, values: [2, 5, 10.5]", "services.bureau.dedup, values: [request_id, none]")
    assert [v.scenario.services.bureau.dedup for v in load_variants(write(tmp_path, text))] == ["request_id", "none"]


@pytest.mark.parametrize("mutation, expected", [
    (("values: [2, 5, 10.5]", "values: [2, -5]"), ["sweep.values[1]", "hang_s = -5", "at least 0"]),
    (("faults.hang.params", "faults.hung.params"), ["sweep.param", "no entry 'hung'", "hang, f2"]),
    (("faults.hang.params.hang_s", "load.shape.nope.x"), ["sweep.values[0]", "nope"]),
    (("values: [2, 5, 10.5]", "values: [2, 2]"), ["repeats a value"]),
    (("values: [2, 5, 10.5]", "values: []"), ["sweep.values"]),
])
def test_a_broken_sweep_is_refused_before_any_run(tmp_path: Path, mutation, expected):
    path = write(tmp_path, SWEPT.replace(*mutation))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    for piece in expected:
        assert piece in str(err.value), f"{piece!r} not in {err.value}"


def test_set_path_on_literal_data():
    data = {"faults": [{"id": "a", "kind": "x"}], "load": {"shape": {"target": 1}}}
    assert set_path(data, "faults.a.params.p", 3) is None and data["faults"][0]["params"] == {"p": 3}
    assert set_path(data, "load.shape.target", 9) is None and data["load"]["shape"]["target"] == 9
    assert "whole entry" in (set_path(data, "faults.a", 1) or "")
    assert "single value" in (set_path(data, "load.shape.target.x", 1) or "")


def test_labels_read_well_in_folders_and_tables():
    assert [label_of(v) for v in (5, 0.5, 10.0, "none", None, True, [1, 2])] == \
        ["5", "0.5", "10", "none", "null", "true", "[1,2]"]

"""`invoice-chaos schema`: every shipped scenario and a real summary.json validate; typos do not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness.schemas import scenario_schema, summary_schema

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
REAL_SUMMARY = ROOT / "tests" / "data" / "runs" / "ghost-small-retrying" / "summary.json"


def validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def scenario_validator() -> jsonschema.protocols.Validator:
    return validator(scenario_schema())


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_shipped_scenario_validates(path: Path, scenario_validator: jsonschema.protocols.Validator) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in scenario_validator.iter_errors(data)]
    assert errors == [], f"{path}: {errors}"


def test_scenario_schema_refuses_what_the_loader_refuses(scenario_validator: jsonschema.protocols.Validator) -> None:
    good = {"load": {"shape": {"type": "steady", "target": 5, "duration_s": 5}}}
    assert scenario_validator.is_valid(good)
    assert not scenario_validator.is_valid({**good, "drian_s": 3})                       # typo
    assert not scenario_validator.is_valid({"load": {"shape": {"type": "wave", "target": 5}}})
    fault = {"family": "network", "kind": "ghost_commit", "start_s": 1}                   # a bureau kind
    assert not scenario_validator.is_valid({**good, "faults": [fault]})
    assert scenario_validator.is_valid({**good, "faults": [{**fault, "family": "bureau"}]})


def test_a_real_summary_validates_and_a_broken_one_does_not() -> None:
    v = validator(summary_schema())
    summary = json.loads(REAL_SUMMARY.read_text(encoding="utf-8"))
    assert list(v.iter_errors(summary)) == []
    assert not v.is_valid({**summary, "verdict": "maybe"})
    assert not v.is_valid({k: val for k, val in summary.items() if k != "anomalies"})


def test_cli_writes_a_schema_file_and_refuses_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "scenario.schema.json"
    done = subprocess.run([sys.executable, "-m", "harness.cli", "schema", "scenario", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(scenario_schema()))
    bad = subprocess.run([sys.executable, "-m", "harness.cli", "schema", "summary", "--out",
                          str(tmp_path / "no" / "s.json")], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert str(tmp_path / "no") in bad.stderr

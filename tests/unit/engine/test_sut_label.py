"""``--label NAME`` (and ``services.sut.label``, ``chaos_run(label=...)``) name the SUT in
run.json, reports and compare instead of its command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError, ScenarioError
from harness.scenario import load_scenario
from harness.services import choose_sut

ROOT = Path(__file__).resolve().parents[3]
BASE = "name: demo\nload:\n  shape: {type: steady, target: 5, duration_s: 5}\n"


def scenario(tmp_path: Path, sut: str = "") -> Any:
    path = tmp_path / "s.yaml"
    path.write_text(BASE + sut, encoding="utf-8")
    return load_scenario(path)


def test_a_label_names_the_sut_and_keeps_how_it_started(tmp_path: Path) -> None:
    choice = choose_sut(scenario(tmp_path), None, "python3 app.py --port $PORT", None, label="航天信息 3.2")
    assert choice.label == "航天信息 3.2"
    assert choice.spec == "cmd:python3 app.py --port $PORT"
    plain = choose_sut(scenario(tmp_path), None, "python3 app.py", None)
    assert plain.label == plain.spec == "cmd:python3 app.py"


def test_the_scenario_label_names_only_the_scenario_s_own_sut(tmp_path: Path) -> None:
    s = scenario(tmp_path, "services:\n  sut: {cmd: ./vendor-a, label: Vendor A}\n")
    assert choose_sut(s, None, None, None).label == "Vendor A"
    # The command line swapped in another SUT: the scenario's name for its SUT does not apply.
    assert choose_sut(s, "reference:naive", None, None).label == "reference:naive"
    assert choose_sut(s, "reference:naive", None, None, label="B").label == "B"


@pytest.mark.parametrize("bad", ["", "two\nlines", "x" * 81])
def test_a_bad_label_is_explained(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InputError, match="--label"):
        choose_sut(scenario(tmp_path), None, None, None, label=bad)


def test_a_bad_scenario_label_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        scenario(tmp_path, 'services:\n  sut: {reference: naive, label: ""}\n')
    assert "services.sut.label" in str(err.value)


def test_run_and_suite_take_the_option() -> None:
    for command in ("run", "suite"):
        proc = subprocess.run([sys.executable, "-m", "harness.cli", command, "--help"], capture_output=True,
                              text=True, cwd=ROOT, timeout=60, check=True)
        assert "--label NAME" in proc.stdout


def test_chaos_run_passes_the_label_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.testing import runner

    seen: list[Any] = []

    def fake_run(opts: Any, say: Any) -> Any:
        seen.append(opts)
        return type("R", (), {"summary": {"verdict": "pass"}, "run_dir": tmp_path, "exit_code": 0, "notes": []})()

    monkeypatch.setattr(runner, "_run_sync", fake_run)
    runner.ChaosRunner(tmp_path)({"load": {"shape": {"type": "steady", "target": 1, "duration_s": 1}}},
                                 sut_cmd="python3 adapter.py", label="Vendor B")
    assert seen[0].label == "Vendor B"


def test_reports_and_compare_use_the_label(run_dir: Path) -> None:
    from harness.report import render
    from harness.report.compare import load_set

    run = json.loads((run_dir / "run.json").read_text())
    run.update(sut="Vendor A", sut_spec="cmd:python3 app.py (dir)")
    (run_dir / "run.json").write_text(json.dumps(run))
    html = render(run_dir).read_text()
    assert "SUT <b>Vendor A</b>" in html and "cmd:python3 app.py (dir)" in html
    assert "SUT `Vendor A`" in (run_dir / "report.md").read_text()
    assert load_set(run_dir).label == "Vendor A"


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    from harness.report.synthetic import SyntheticRun, write_run

    return write_run(tmp_path / "run", SyntheticRun(n_ops=200))

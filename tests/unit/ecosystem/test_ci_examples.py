"""The CI example files parse, do what docs/ci.md says, and call commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[3]
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
RUN_DIR_FILES = {"summary.json", "report.md", "report.html", "junit.xml", "metrics.prom"}


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: the top level must be a mapping"
    return data


def expand(line: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Z_]+)\}?", lambda m: env.get(m.group(1), m.group(0)), line)


def shell_lines(scripts: list[str], env: dict[str, str]) -> list[list[str]]:
    out = []
    for script in scripts:
        for line in script.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(shlex.split(expand(line, env), comments=True))
    return out


def check_commands(argvs: list[list[str]], where: Path) -> int:
    """Every `invoice-chaos CMD ...` parses with the real parser; every --chaos-* pytest option
    and the chaos marker come from the plugin. Returns how many invoice-chaos calls there were."""
    plugin = (ROOT / "harness" / "pytest_plugin.py").read_text(encoding="utf-8")
    calls = 0
    for argv in argvs:
        if argv and argv[0] == "invoice-chaos":
            assert argv[1] in COMMANDS, f"{where}: `{shlex.join(argv)}`: no command {argv[1]!r}"
            try:
                build_parser(argv[1]).parse_args(argv[1:])
            except SystemExit as exc:
                pytest.fail(f"{where}: `{shlex.join(argv)}` does not parse (exit {exc.code})")
            calls += 1
        if argv[:3] == ["python", "-m", "pytest"]:
            for opt in (a.split("=")[0] for a in argv if a.startswith("--chaos")):
                assert f'"{opt}"' in plugin, f"{where}: pytest option {opt} is not the plugin's"
            if "-m" in argv[3:]:
                assert '"markers", "chaos:' in plugin
        for word in argv:
            if word.startswith("chaos-run/"):
                assert word.removeprefix("chaos-run/") in RUN_DIR_FILES, f"{where}: {word} is not a run file"
    return calls


def test_github_workflow() -> None:
    wf = load(GITHUB)
    assert wf.get("on", wf.get(True)), "no trigger"   # YAML 1.1 reads a bare `on` as true
    env = {k: str(v) for k, v in wf["env"].items()}
    scripts: list[str] = []
    for name, job in wf["jobs"].items():
        assert job["runs-on"] and job["steps"], name
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), f"{name}: a step needs run or uses: {step}"
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
            else:
                scripts.append(step["run"])
    assert check_commands(shell_lines(scripts, env), GITHUB) >= 2
    gate = wf["jobs"]["chaos-gate"]["steps"]
    text = "\n".join(s.get("run", "") for s in gate if s.get("if") == "always()")
    assert "chaos-run/report.md >> \"$GITHUB_STEP_SUMMARY\"" in text
    uploads = [s for s in gate if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["with"]["path"] == "chaos-run" and uploads[0]["if"] == "always()"
    junit = [s for s in gate if s.get("uses", "").startswith("mikepenz/action-junit-report@")]
    assert junit and junit[0]["with"]["report_paths"] == "chaos-run/junit.xml" and junit[0]["if"] == "always()"
    assert wf["jobs"]["chaos-gate"]["permissions"]["checks"] == "write"


def test_gitlab_pipeline() -> None:
    ci = load(GITLAB)
    env = {k: str(v) for k, v in ci["variables"].items()}
    stages = ci["stages"]
    jobs = {k: v for k, v in ci.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"chaos-gate", "chaos-pytest"}
    scripts = []
    for name, job in jobs.items():
        assert job["stage"] in stages, name
        assert job["artifacts"]["when"] == "always", name
        scripts += job["script"] + job.get("after_script", [])
    assert check_commands(shell_lines(scripts, env), GITLAB) >= 2
    gate = jobs["chaos-gate"]["artifacts"]
    assert "chaos-run/" in gate["paths"]                      # expose_as needs the trailing slash
    assert gate["reports"] == {"junit": "chaos-run/junit.xml", "metrics": "chaos-run/metrics.prom"}


def test_pytest_example_is_under_ten_lines() -> None:
    lines = [ln for ln in (ROOT / "examples" / "pytest" / "test_resilience.py").read_text(encoding="utf-8").splitlines()
             if ln.strip()]
    assert len(lines) < 10, lines

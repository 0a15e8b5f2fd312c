"""Exit codes of CONTRACT §4 for bad input: 2, with a message naming file, field and value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_broken_scenario_exits_2_naming_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("load:\n  model: open\n  shape: {type: steady, target: 5, duration_s: 5}\n"
                   "faults:\n  - family: bureau\n    kind: error\n    start_s: oops\n")
    for cmd in ("validate", "run"):
        proc = cli(cmd, str(bad))
        assert proc.returncode == 2, proc.stderr
        assert str(bad) in proc.stderr and "faults[0].start_s" in proc.stderr and "oops" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_missing_scenario_and_bad_options_exit_2(tmp_path):
    proc = cli("run", str(tmp_path / "missing.yaml"))
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    proc = cli("run", "scenarios/smoke.yaml", "--sut", "vendor:x")
    assert proc.returncode == 2 and "reference:naive" in proc.stderr
    proc = cli("run", "scenarios/smoke.yaml", "--time-scale", "0")
    assert proc.returncode == 2 and "--time-scale" in proc.stderr


def test_every_command_has_help_with_an_example():
    proc = cli("--help")
    assert proc.returncode == 0
    from harness.cli import COMMANDS

    for name in COMMANDS:
        sub = cli(name, "--help")
        assert sub.returncode == 0, name
        assert "example:" in sub.stdout and "invoice-chaos" in sub.stdout, name


def test_toxiproxy_bin_errors_exit_2_before_any_run(tmp_path):
    out = tmp_path / "r"
    missing = tmp_path / "toxiproxy-server"
    proc = cli("run", "scenarios/smoke.yaml", "--toxiproxy-bin", str(missing), "--out", str(out))
    assert proc.returncode == 2 and f"--toxiproxy-bin {missing}: no such file" in proc.stderr
    missing.write_text("#!/bin/sh\n")
    proc = cli("suite", "scenarios/smoke.yaml", "--toxiproxy-bin", str(missing), "--out", str(out))
    assert proc.returncode == 2 and "not executable" in proc.stderr
    missing.chmod(0o755)
    proc = cli("run", "scenarios/smoke.yaml", "--toxiproxy-bin", str(missing), "--toxiproxy-url",
               "http://127.0.0.1:9", "--out", str(out))
    assert proc.returncode == 2 and "give one" in proc.stderr
    proc = cli("run", "scenarios/smoke.yaml", "--toxiproxy-bin", str(missing), "--backend", "docker",
               "--out", str(out))
    assert proc.returncode == 2 and "--toxiproxy-image" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()

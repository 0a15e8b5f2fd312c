"""Fixtures: synthetic run directories written by harness.report.synthetic (no engine needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.report.synthetic import SyntheticRun, write_run


@pytest.fixture(scope="session")
def synthetic_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(tmp_path_factory.mktemp("runs") / "ghost", SyntheticRun(n_ops=2500))


@pytest.fixture()
def run_dir(synthetic_source: Path, tmp_path: Path) -> Path:
    """A fresh copy of a complete synthetic run, so a test may delete or damage files."""
    dest = tmp_path / "run"
    shutil.copytree(synthetic_source, dest)
    return dest

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from harness.commands import compare as compare_cmd
from harness.commands import report as report_cmd
from harness.errors import ChaosError, InputError
from harness.report import bootstrap
from harness.report.compare import load_set, rank, regressions, repeat_dirs
from harness.report.synthetic import SyntheticRun, write_run

FAST = ["--resamples", "200"]


def main(argv: list[str]) -> int:
    """The command as harness.cli runs it, without importing every other command's module."""
    module = {"compare": compare_cmd, "report": report_cmd}[argv[0]]
    parser = argparse.ArgumentParser()
    module.configure(parser)
    try:
        return int(module.run(parser.parse_args(argv[1:])) or 0)
    except ChaosError as exc:
        return exc.exit_code


@pytest.fixture(scope="module")
def vendors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three SUTs, two repeats each: slow and lossy, middling, good."""
    root = tmp_path_factory.mktemp("vendors")
    specs = {"naive": (1.8, 9.0, True, 0.0), "retrying": (1.3, 5.0, True, 0.4),
             "resilient": (1.0, 2.0, False, 0.8)}
    out = {}
    for i, (name, (lat, rec, anomalies, defer)) in enumerate(specs.items()):
        for r in (1, 2):
            write_run(root / name / f"repeat-{r}", SyntheticRun(
                n_ops=1200, seed=10 * i + r, sut=f"reference:{name}", latency_scale=lat,
                recover_s=rec, anomalies=anomalies, defer_share=defer, write_jsonl=False))
        out[name] = root / name
    return out


def test_repeat_dirs_and_single_run(vendors: dict[str, Path], tmp_path: Path) -> None:
    assert [p.name for p in repeat_dirs(vendors["naive"])] == ["repeat-1", "repeat-2"]
    assert repeat_dirs(vendors["naive"] / "repeat-1") == [vendors["naive"] / "repeat-1"]
    with pytest.raises(InputError):
        repeat_dirs(tmp_path)
    with pytest.raises(InputError):
        repeat_dirs(tmp_path / "nope")


def test_rank_puts_the_resilient_profile_first(vendors: dict[str, Path]) -> None:
    sets = [load_set(vendors[n]) for n in ("naive", "retrying", "resilient")]
    ranked = rank(sets, ("anomalies", "error_rate", "recover_s", "p99_ms"))
    assert [s.label for s in ranked] == ["reference:resilient", "reference:retrying",
                                         "reference:naive"]
    # Ranked by latency alone, the order is the latency order.
    assert rank(sets, ("p50_ms",))[-1].label == "reference:naive"
    with pytest.raises(InputError):
        rank(sets, ("speed",))


def test_regression_detected_and_not_against_itself(vendors: dict[str, Path]) -> None:
    base, cand = load_set(vendors["resilient"]), load_set(vendors["naive"])
    rows = {c.metric: c for c in regressions(base, cand, alpha=0.05, min_change=0.05,
                                             n_boot=300)}
    assert rows["p50_ms"].regression and rows["anomalies"].regression
    same = regressions(base, base, alpha=0.05, min_change=0.05, n_boot=300)
    assert not any(c.regression for c in same)


def test_cli_vendor_mode_exits_0(vendors: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    rc = main(["compare", str(vendors["naive"]), str(vendors["resilient"]), "--out", str(out),
               *FAST])
    assert rc == 0
    data = json.loads((out / "compare.json").read_text())
    assert data["ranking"][0]["label"] == "reference:resilient"
    assert (out / "compare.html").read_text().count("data:image/png;base64,") >= 2
    assert "Ranking" in (out / "compare.md").read_text()


def test_cli_regression_mode_exits_1(vendors: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "reg"
    rc = main(["compare", str(vendors["naive"] / "repeat-1"), "--baseline",
               str(vendors["resilient"]), "--out", str(out), "--alpha", "0.01", *FAST])
    assert rc == 1
    assert "REGRESSION" in (out / "compare.md").read_text()


def test_cli_input_errors_exit_2(tmp_path: Path) -> None:
    assert main(["compare", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert main(["report", str(tmp_path / "missing")]) == 2


def test_bootstrap_is_seeded_and_covers_a_known_shift() -> None:
    rng = np.random.default_rng(1)
    base = [rng.normal(100, 10, 3000) for _ in range(3)]
    cand = [rng.normal(120, 10, 3000) for _ in range(3)]
    mean = (lambda a: a.mean(axis=1))
    a = bootstrap.diff_interval(base, cand, mean, alpha=0.05, n_boot=300, seed=3)
    b = bootstrap.diff_interval(base, cand, mean, alpha=0.05, n_boot=300, seed=3)
    assert a == b and a is not None
    assert a.low < 20 < a.high and a.excludes_zero()
    assert bootstrap.mean_diff_interval([1.0], [2.0], alpha=0.05, n_boot=100, seed=0) is None
    assert bootstrap.diff_interval([np.empty(0)], cand, mean, alpha=0.05, n_boot=100,
                                   seed=0) is None


def test_mismatched_scenarios_and_seeds_are_warned(vendors: dict[str, Path],
                                                    tmp_path: Path) -> None:
    other = write_run(tmp_path / "other", SyntheticRun(n_ops=600, seed=99, scenario="smoke",
                                                        write_jsonl=False))
    out = tmp_path / "cmp"
    assert main(["compare", str(vendors["naive"]), str(other), "--out", str(out), *FAST]) == 0
    warnings = json.loads((out / "compare.json").read_text())["warnings"]
    assert any("different scenarios" in w for w in warnings)
    assert any("different seeds" in w for w in warnings)
    assert "⚠️" in (out / "compare.md").read_text()


def test_report_command_renders_every_repeat(vendors: dict[str, Path]) -> None:
    assert main(["report", str(vendors["retrying"])]) == 0
    for r in ("repeat-1", "repeat-2"):
        assert (vendors["retrying"] / r / "report.html").exists()

"""The malformed block of a scenario, the summary's malformed keys, and the fuzz command's input checks."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from harness.checks.summary import RunData, build_summary
from harness.cli import main
from harness.data.config import MalformedConfig
from harness.data.responses import response_breakdown
from harness.errors import ScenarioError
from harness.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]


def test_the_malformed_orders_scenario_parses() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "malformed-orders.yaml")
    assert scenario.malformed is not None and scenario.malformed.targets == ("sut", "bureau")
    assert "用户行为不当" in (ROOT / "scenarios" / "malformed-orders.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert scenario.malformed.scaled(0.5).duration_s == 10


def test_bad_malformed_blocks_are_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("load: {model: open, shape: {type: steady, target: 1, duration_s: 1}}\n"
                    "malformed: {families: [bad_quantity, no_such_family]}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "malformed.families" in str(err.value) and "no_such_family" in str(err.value)
    with pytest.raises(ValidationError):
        MalformedConfig(targets=("sut", "sut"))
    with pytest.raises(ValidationError):
        MalformedConfig(rate_per_s=0)


def _run(malformed: dict[str, Any] | None, ops: list[dict[str, Any]] = [], faults: list[dict[str, Any]] = []) -> RunData:  # noqa: B006
    return RunData(scenario="s", seed=1, seller_tax_id="91110108551385082Q", load_start_at=0.0, load_end_at=10.0,
                   drain_end_at=12.0, operations=ops, faults=faults, probes=[], bureau_ledger=[], bureau_requests=[],
                   sut_ledger=[], malformed=malformed)


def test_a_malformed_phase_adds_a_default_gate_on_findings() -> None:
    clean = build_summary(_run({"sent": 10, "findings": 0}))
    assert clean["malformed"]["findings"] == 0 and clean["verdict"] == "pass"
    assert "no-malformed-findings" in [g["name"] for g in clean["gates"]]
    dirty = build_summary(_run({"sent": 10, "findings": 2}))
    assert dirty["verdict"] == "fail"
    assert "malformed" not in build_summary(_run(None))


def test_malformed_operations_stay_out_of_the_load_figures() -> None:
    ops = [{"op_id": "m1", "kind": "malformed", "order_id": "m1", "invoke_at": 1.0, "complete_at": 1.1,
            "outcome": "fail", "http_status": 422}]
    summary = build_summary(_run({"sent": 1, "findings": 0}, ops))
    assert summary["requests"]["total"] == 0


def test_response_breakdown_counts_the_sut_answers_in_each_window() -> None:
    faults = [{"id": "trunc", "kind": "malformed_response", "params": {"mode": "truncated_json"},
               "applied_at": 10.0, "reverted_at": 20.0},
              {"id": "f2", "kind": "latency", "applied_at": 1.0, "reverted_at": 2.0}]
    ops = [{"kind": "issue", "order_id": f"o{i}", "invoke_at": t, "http_status": s, "error": e} for i, (t, s, e) in
           enumerate([(9.0, 201, None), (11.0, 201, None), (12.0, 202, None), (13.0, 500, "http_500"), (14.0, None, "timeout")])]
    requests = [{"method": "POST", "external_id": "o1", "faults": ["malformed_response"]},
                {"method": "GET", "external_id": "o1", "faults": []},
                {"method": "POST", "external_id": "o2", "faults": []}]
    (row,) = response_breakdown(ops, faults, requests)
    assert row["id"] == "trunc" and row["mode"] == "truncated_json" and row["operations"] == 4
    assert row["answers"] == {"issued": 1, "pending": 1, "refused_4xx": 0, "error_5xx": 1, "no_answer": 1}
    assert row["broken"] == {"operations": 1, "lookups": 1,
                             "answers": {"issued": 1, "pending": 0, "refused_4xx": 0, "error_5xx": 0, "no_answer": 0}}
    summary = build_summary(_run(None, [dict(o, outcome="ok") for o in ops], faults))
    assert summary["malformed_responses"][0]["operations"] == 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fuzz_exit_codes_for_bad_input_and_an_unreachable_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--target", "127.0.0.1:8080"]) == 2
    assert "--target" in capsys.readouterr().err
    assert main(["fuzz", "--target", "http://127.0.0.1:9", "--families", "nope"]) == 2
    assert main(["fuzz", "--target", "http://127.0.0.1:9", "--examples", "0"]) == 2
    port = _free_port()
    assert main(["fuzz", "--target", f"http://127.0.0.1:{port}", "--out", str(tmp_path)]) == 3
    assert "unreachable" in capsys.readouterr().err


def test_the_phase_batch_is_bounded_seeded_and_covers_both_targets(tmp_path: Path) -> None:
    from harness.data.phase import MalformedPhase

    def batch(seed: int) -> list[bytes]:
        config = MalformedConfig(rate_per_s=5, duration_s=4, targets=("sut", "bureau"), max_examples=16)
        phase = MalformedPhase(config, urls={"sut": "http://127.0.0.1:9", "bureau": "http://127.0.0.1:9"},
                               run_dir=tmp_path, seed=seed, run_id="r1", load_duration_s=10,
                               seller=("91110108551385082Q", "北京示例科技有限公司"), rates=("0.13", "0.06", "0"))
        examples = phase.examples()
        assert len(examples) == 16 and {e.target for e in examples} == {"sut", "bureau"}
        return [e.body() for e in examples]

    assert batch(4) == batch(4) != batch(5)

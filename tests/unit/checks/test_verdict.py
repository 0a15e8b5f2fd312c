"""The verdict never lies (CONTRACT §5.7): literal runs that must not say `pass`.

Each history is small and written out by hand: a steady baseline of orders, then whatever the
case needs (an anomaly beside a declared gate, an interrupted run, a fault that never applied).
"""

from __future__ import annotations

import copy
from typing import Any

from harness.checks.summary import RunData, build_summary

SELLER = "91110108551385082Q"
T0 = 1_000.0
ORDER = {
    "kind": "normal",
    "buyer": {"name": "福建示例贸易有限公司", "tax_id": "91350100M000100Y43"},
    "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
               "quantity": "2", "unit_price": "50.00", "tax_rate": "0.06"}],
}


def order(oid: str) -> dict[str, Any]:
    return {"order_id": oid, **copy.deepcopy(ORDER)}


def op(oid: str, t: float, status: int | None = 201, number: str | None = None) -> dict[str, Any]:
    outcome = "info" if status is None else ("ok" if status in (201, 202) else "fail")
    return {"op_id": f"w0-{oid}", "kind": "issue", "order_id": oid, "invoke_at": T0 + t,
            "complete_at": T0 + t + 0.05, "outcome": outcome, "http_status": status,
            "invoice_number": number if number else (f"N{oid}" if status == 201 else None), "order": order(oid)}


def inv(oid: str, t: float, number: str | None = None) -> dict[str, Any]:
    return {"invoice_number": number or f"N{oid}", "external_id": oid, "kind": "normal",
            "seller": {"tax_id": SELLER, "name": "s"}, "buyer": dict(ORDER["buyer"]),
            "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
                       "quantity": "2", "unit_price": "50.00", "amount": "100.00", "tax_rate": "0.06",
                       "tax_amount": "6.00"}],
            "total_amount": "100.00", "total_tax": "6.00", "total_with_tax": "106.00", "status": "issued",
            "red_for": None, "committed_at": T0 + t + 0.02}


def row(oid: str, status: str = "issued", number: str | None = None) -> dict[str, Any]:
    return {"order_id": oid, "status": status, "invoice_number": number or (f"N{oid}" if status == "issued" else None),
            "total_with_tax": "106.00"}


def window(fid: str, start: float | None, end: float | None, *, family: str = "network", kind: str = "down",
           error: str | None = None, planned: float = 2.0) -> dict[str, Any]:
    return {"id": fid, "family": family, "kind": kind, "target": "bureau", "params": {},
            "planned_start_s": planned, "planned_end_s": planned + 2.0,
            "applied_at": None if start is None else T0 + start, "reverted_at": None if end is None else T0 + end,
            "start_s": start, "end_s": end, "error": error}


def clean(n: int = 20) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """n orders, one every 0.5 s, each issued and known to both sides."""
    ops = [op(f"O{i}", i * 0.5) for i in range(n)]
    return ops, [inv(f"O{i}", i * 0.5) for i in range(n)], [row(f"O{i}") for i in range(n)]


def run(ops, ledger, sut, **over: Any) -> dict[str, Any]:
    data = RunData(scenario="s", seed=1, seller_tax_id=SELLER, load_start_at=T0, load_end_at=T0 + 10.0,
                   drain_end_at=T0 + 20.0, operations=ops, faults=over.pop("faults", [window("f1", 4.0, 6.0)]),
                   probes=[], bureau_ledger=ledger, bureau_requests=over.pop("requests", []), sut_ledger=sut,
                   **over)
    return build_summary(data)


def test_a_clean_run_passes_with_schema_2():
    s = run(*clean())
    assert s["schema_version"] == 2
    assert s["verdict"] == "pass" and s["verdict_reasons"] == []
    assert "dropped" in s["anomalies"]


def test_declared_gates_keep_every_anomaly_gate():
    """Case 1: a scenario that declares only a latency gate still fails on phantoms."""
    ops, ledger, sut = clean()
    sut = [r for r in sut if r["order_id"] != "O3"]   # the bureau issued O3, the SUT forgot it
    ops[3] = op("O3", 1.5, status=504)
    s = run(ops, ledger, sut, gates=[{"name": "p99-under-10s", "metric": "latency_ms.p99", "op": "<",
                                     "threshold": 10000}])
    assert s["anomalies"]["phantom"] == ["O3"]
    assert s["verdict"] == "fail"
    names = [g["name"] for g in s["gates"]]
    assert "p99-under-10s" in names and "no-phantom-invoices" in names
    assert any("phantom" in r for r in s["verdict_reasons"])


def test_an_anomaly_gate_is_off_only_by_name():
    ops, ledger, sut = clean()
    sut = [r for r in sut if r["order_id"] != "O3"]
    s = run(ops, ledger, sut, anomaly_gates_off=("phantom",))
    assert s["anomalies"]["phantom"] == ["O3"]        # still found and reported
    assert s["verdict"] == "pass"
    assert "no-phantom-invoices" not in [g["name"] for g in s["gates"]]


def test_a_declared_gate_on_an_anomaly_list_replaces_its_default():
    ops, ledger, sut = clean()
    sut = [r for r in sut if r["order_id"] != "O3"]
    s = run(ops, ledger, sut, gates=[{"name": "few-phantoms", "metric": "anomalies.phantom", "op": "<=",
                                     "threshold": 1}])
    assert s["verdict"] == "pass"
    assert [g["metric"] for g in s["gates"]].count("anomalies.phantom") == 1


def test_interrupted_run_is_unknown():
    """Case 2: interrupted is never pass, even when nothing looked wrong so far."""
    s = run(*clean(), unknown_reasons=["the run was interrupted before it finished"])
    assert s["verdict"] == "unknown"
    assert s["verdict_reasons"] == ["the run was interrupted before it finished"]
    assert s["compromised"] is True and "the run was interrupted before it finished" in s["compromised_reasons"]


def test_unknown_wins_over_fail_and_keeps_the_audit_as_evidence():
    ops, ledger, sut = clean()
    sut = sut[:10]       # the SUT died: its ledger is half empty
    s = run(ops, ledger, sut, unknown_reasons=["the SUT died at t = 5.0 s (exit code -9)"])
    assert s["verdict"] == "unknown"
    assert s["anomalies"]["phantom"]           # kept, as evidence
    assert s["verdict_reasons"][0].startswith("the SUT died")


def test_fault_that_never_applied_is_unknown():
    """Case 3: a declared fault with no applied record cannot give a pass."""
    s = run(*clean(), faults=[window("f1", None, None, planned=30.0)])
    assert s["verdict"] == "unknown"
    assert any("f1" in r and "never applied" in r for r in s["verdict_reasons"])


def test_fault_whose_apply_failed_is_unknown_with_the_error():
    s = run(*clean(), faults=[window("k1", None, None, family="process", kind="kill",
                                     error="no proxy process to act on in this run")])
    assert s["verdict"] == "unknown"
    assert any("no proxy process" in r for r in s["verdict_reasons"])


def test_fault_never_reverted_is_unknown():
    s = run(*clean(), faults=[window("f1", 4.0, None, error="revert failed: connection refused")])
    assert s["verdict"] == "unknown"
    assert any("never reverted" in r and "connection refused" in r for r in s["verdict_reasons"])


def test_load_windows_need_no_apply_record():
    spike = window("load-spike", 4.0, 6.0, family="load", kind="spike")
    assert run(*clean(), faults=[spike])["verdict"] == "pass"


def test_soft_doubts_keep_a_pass_but_say_so():
    s = run(*clean(), compromised_reasons=["the machine was saturated: median CPU 97% during the run"])
    assert s["verdict"] == "pass" and s["compromised"] is True


def test_steady_state_broken_before_the_first_fault_is_unknown():
    ops, ledger, sut = clean()
    # Before the fault at 4 s the SUT answered 503 to every order: no baseline to recover to.
    for i in range(8):
        ops[i] = op(f"O{i}", i * 0.5, status=503)
    ledger = [x for x in ledger if int(x["external_id"][1:]) >= 8]
    sut = [r for r in sut if int(r["order_id"][1:]) >= 8]
    s = run(ops, ledger, sut)
    assert s["verdict"] == "unknown"
    assert any("before the first fault" in r for r in s["verdict_reasons"])


def test_steady_state_is_not_judged_on_too_short_a_baseline():
    ops, ledger, sut = clean()
    ops[0] = op("O0", 0.0, status=503)
    ledger, sut = ledger[1:], sut[1:]
    s = run(ops, ledger, sut, faults=[window("f1", 0.6, 3.0)])
    assert not any("before the first fault" in r for r in s["verdict_reasons"])


def test_time_to_detect_counts_only_operations_inside_the_window():
    """A fault the SUT never showed is not "detected" by a failure of the next fault."""
    ops, ledger, sut = clean()
    ops[15] = op("O15", 7.5, status=503)   # after f1's window (4-6 s)
    ledger = [x for x in ledger if x["external_id"] != "O15"]
    sut = [r if r["order_id"] != "O15" else row("O15", "failed") for r in sut]
    s = run(ops, ledger, sut, faults=[window("f1", 4.0, 6.0), window("f2", 7.0, 8.0, planned=7.0)],
            requests=[{"method": "POST", "path": "/api/v1/invoices", "external_id": "O15", "status": 422,
                       "faults": []}])
    f1, f2 = s["faults"]
    assert f1["time_to_detect_s"] is None
    assert f2["time_to_detect_s"] is not None and 0.5 <= f2["time_to_detect_s"] <= 0.6

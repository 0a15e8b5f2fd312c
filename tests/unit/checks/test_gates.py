from harness.checks.gates import default_gates, evaluate_gates, resolve_metric

SUMMARY = {
    "anomalies": {"lost": [], "duplicate": ["O1", "O2"]},
    "latency_ms": {"p99": 120.0},
    "faults": [{"id": "f1", "time_to_recover_s": 2.0}, {"id": "f2", "time_to_recover_s": None}],
    "compromised": False,
}


def test_resolve_lists_count_and_faults_by_id():
    assert resolve_metric(SUMMARY, "anomalies.duplicate") == 2
    assert resolve_metric(SUMMARY, "faults.f1.time_to_recover_s") == 2.0
    assert resolve_metric(SUMMARY, "faults.f9.time_to_recover_s") is None
    assert resolve_metric(SUMMARY, "nope.deeper") is None


def test_null_fails_and_ops_apply():
    gates = [
        {"name": "a", "metric": "latency_ms.p99", "op": "<", "threshold": 200},
        {"name": "b", "metric": "faults.f2.time_to_recover_s", "op": "<=", "threshold": 10},
        {"name": "c", "metric": "anomalies.duplicate", "op": "==", "threshold": 0},
        {"name": "d", "metric": "compromised", "op": "==", "threshold": False},
    ]
    assert [g["passed"] for g in evaluate_gates(SUMMARY, gates)] == [True, False, False, True]


def test_default_gates_cover_every_anomaly_list():
    names = [g["metric"] for g in default_gates()]
    assert names == [f"anomalies.{k}" for k in ("lost", "duplicate", "phantom", "mismatch", "stuck", "unexpected", "dropped")]


def test_bureau_calls_counts_retries_per_order():
    from harness.checks.summary import bureau_calls

    reqs = [{"method": "POST", "path": "/api/v1/invoices", "external_id": "O1"}] * 3 + [
        {"method": "POST", "path": "/api/v1/invoices", "external_id": "O2"},
        {"method": "GET", "path": "/api/v1/invoices", "external_id": "O1"},
        {"method": "POST", "path": "/api/v1/invoices", "external_id": "NOT-OURS"},
    ]
    calls = bureau_calls({"O1", "O2"}, reqs)
    assert calls == {"issue_calls": 4, "lookup_calls": 1, "issue_calls_per_order": 2.0, "max_issue_calls_one_order": 3}

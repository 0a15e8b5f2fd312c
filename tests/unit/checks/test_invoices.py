"""Literal histories for the CONTRACT §4 anomaly definitions, pathological ones included."""

from __future__ import annotations

import copy

from harness.checks.invoices import audit_invoices, invoice_differences

SELLER = "91110108551385082Q"
OTHER_SELLER = "91350100M000100Y43"

ORDER = {
    "order_id": "O1",
    "kind": "normal",
    "buyer": {"name": "福建示例贸易有限公司", "tax_id": "91350100M000100Y43"},
    "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
               "quantity": "2", "unit_price": "50.00", "tax_rate": "0.06"}],
}


def order(oid: str) -> dict:
    o = copy.deepcopy(ORDER)
    o["order_id"] = oid
    return o


def op(oid: str, status: int | None, number: str | None = None, t: float = 0.0, outcome: str | None = None) -> dict:
    if outcome is None:
        outcome = "info" if status is None else ("ok" if status in (201, 202) else "fail")
    return {"op_id": f"w0-{oid}-{t}", "kind": "issue", "order_id": oid, "invoke_at": t, "complete_at": t + 0.1,
            "outcome": outcome, "http_status": status, "invoice_number": number, "order": order(oid)}


def inv(oid: str, number: str, seller: str = SELLER, red_for: str | None = None, total: str = "106.00", **over) -> dict:
    rec = {"invoice_number": number, "external_id": oid, "kind": "normal", "seller": {"tax_id": seller, "name": "s"},
           "buyer": dict(ORDER["buyer"]),
           "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
                      "quantity": "2", "unit_price": "50.00", "amount": "100.00", "tax_rate": "0.06", "tax_amount": "6.00"}],
           "total_amount": "100.00", "total_tax": "6.00", "total_with_tax": total, "status": "issued",
           "red_for": red_for, "committed_at": "2026-11-29T10:00:00+08:00"}
    rec.update(over)
    return rec


def row(oid: str, status: str, number: str | None = None, total: str = "106.00") -> dict:
    return {"order_id": oid, "status": status, "invoice_number": number, "total_with_tax": total}


def audit(ops, ledger, sut, requests=()):
    return audit_invoices(ops, ledger, sut, SELLER, requests).anomalies


def req(oid: str, status: int, faults=(), path="/api/v1/invoices", **over) -> dict:
    """One line of the bureau's request log (CONTRACT §2 /admin/requests)."""
    return {"at": "2026-11-29T10:00:00+08:00", "method": "POST", "path": path, "request_id": f"r-{oid}",
            "external_id": oid, "status": status, "faults": list(faults), **over}


def test_clean_history_has_no_anomaly():
    a = audit([op("O1", 201, "N1")], [inv("O1", "N1")], [row("O1", "issued", "N1")])
    assert all(v == [] for v in a.values())


def test_lost_when_201_but_bureau_has_nothing():
    a = audit([op("O1", 201, "N1")], [], [row("O1", "issued", "N1")])
    assert a["lost"] == ["O1"]
    assert a["phantom"] == [] and a["duplicate"] == []


def test_lost_when_only_final_ledger_says_issued():
    a = audit([op("O1", None)], [], [row("O1", "issued", "N9")])
    assert a["lost"] == ["O1"]


def test_timeout_without_any_invoice_is_not_lost():
    # indeterminate and really not issued: not lost. The SUT gave up on it with no refusal of
    # the order by the bureau, which CONTRACT §5.7 calls dropped, and nothing else.
    a = audit([op("O1", None)], [], [row("O1", "failed")])
    assert a["dropped"] == ["O1"]
    assert all(v == [] for k, v in a.items() if k != "dropped")


def test_red_invoice_alone_does_not_satisfy_lost():
    a = audit([op("O1", 201, "N1")], [inv("O1", "R1", red_for="N0")], [row("O1", "issued", "N1")])
    assert a["lost"] == ["O1"]


def test_duplicate_counts_blue_only():
    ledger = [inv("O1", "N1"), inv("O1", "N2"), inv("O2", "N3"), inv("O2", "R1", red_for="N3")]
    a = audit([op("O1", 201, "N1"), op("O2", 201, "N3")], ledger, [row("O1", "issued", "N1"), row("O2", "issued", "N3")])
    assert a["duplicate"] == ["O1"]


def test_phantom_when_sut_says_failed_or_has_no_row():
    ledger = [inv("O1", "N1"), inv("O2", "N2")]
    a = audit([op("O1", 502), op("O2", None)], ledger, [row("O1", "failed")])
    assert a["phantom"] == ["O1", "O2"]


def test_pending_is_stuck_not_phantom():
    a = audit([op("O1", 202)], [inv("O1", "N1")], [row("O1", "pending")])
    assert a["stuck"] == ["O1"] and a["phantom"] == []


def test_mismatch_on_wrong_number_and_total():
    a = audit([op("O1", 201, "N7")], [inv("O1", "N1")], [row("O1", "issued", "N1", total="107.00")])
    assert a["mismatch"] == ["O1"]


def test_mismatch_when_invoice_differs_from_order():
    bad = inv("O1", "N1", buyer={"name": "别人", "tax_id": "91350100M000100Y43"})
    a = audit([op("O1", 201, "N1")], [bad], [row("O1", "issued", "N1")])
    assert a["mismatch"] == ["O1"]


def test_unexpected_counts_only_this_seller_and_unplaced_orders():
    ledger = [inv("O1", "N1"), inv("GHOST", "N2"), inv("ELSE", "N3", seller=OTHER_SELLER)]
    a = audit([op("O1", 201, "N1")], ledger, [row("O1", "issued", "N1")])
    assert a["unexpected"] == ["GHOST"]


def test_malformed_operations_are_not_orders_placed_as_valid():
    bad = dict(op("BAD-1", 422), kind="malformed")
    a = audit([op("O1", 201, "N1"), bad], [inv("O1", "N1"), inv("BAD-1", "N2")], [row("O1", "issued", "N1")])
    assert a["unexpected"] == ["BAD-1"]


def test_pathological_history_everything_at_once():
    """One order hits every anomaly the definitions allow together, amid retries and noise."""
    ops = [op("O1", None, t=0), op("O1", 201, "N1", t=1), op("O1", 503, t=2), op("O1", 201, "N9", t=3)]
    ledger = [inv("O1", "N1"), inv("O1", "N2", total="999.00"), inv("O1", "R1", red_for="N1")]
    a = audit(ops, ledger, [row("O1", "failed", total="106.00")])
    assert a["duplicate"] == ["O1"]
    assert a["phantom"] == ["O1"]
    assert a["mismatch"] == ["O1"]  # N9 is none of the blue invoices
    assert a["lost"] == []          # blue invoices exist
    assert a["stuck"] == []


def test_empty_history_and_garbage_records_do_not_crash():
    assert all(v == [] for v in audit([], [], []).values())
    a = audit([op("O1", 201, "N1")], [{"external_id": None}, {}], [{}])
    assert a["lost"] == ["O1"]


def test_invoice_differences_computes_amounts_half_up():
    o = order("O1")
    o["lines"][0].update(quantity="3", unit_price="0.335", tax_rate="0.13")  # 1.005 -> 1.01; tax 0.1313 -> 0.13
    good = inv("O1", "N1")
    good["lines"][0].update(quantity="3", unit_price="0.335", amount="1.01", tax_rate="0.13", tax_amount="0.13")
    assert invoice_differences(o, good) == []
    good["lines"][0]["amount"] = "1.00"
    assert any("amount" in d for d in invoice_differences(o, good))


def test_rate_and_quantity_compare_by_value():
    o = order("O1")
    o["lines"][0].update(tax_rate="0.060", quantity="2.0")
    assert invoice_differences(o, inv("O1", "N1")) == []


# --- dropped (CONTRACT §5.7) -----------------------------------------------------------------


def test_dropped_when_the_sut_gives_up_during_an_outage():
    """naive under bureau-outage: one attempt, 503 injected, the order recorded failed."""
    a = audit([op("O1", 502)], [], [row("O1", "failed")], [req("O1", 503, ["error"])])
    assert a["dropped"] == ["O1"]
    assert a["phantom"] == [] and a["lost"] == []


def test_dropped_when_an_accepted_order_vanishes_from_the_sut():
    a = audit([op("O1", 202)], [], [])
    assert a["dropped"] == ["O1"]


def test_a_vanished_order_the_bureau_issued_is_phantom_not_dropped():
    a = audit([op("O1", 202)], [inv("O1", "N1")], [])
    assert a["phantom"] == ["O1"] and a["dropped"] == []


def test_policy_change_refusal_is_a_legitimate_failure():
    """A 422 for a removed rate is the bureau refusing the order itself: failed is right."""
    a = audit([op("O1", 422)], [], [row("O1", "failed")], [req("O1", 422, ["policy_change"])])
    assert a["dropped"] == []


def test_an_injected_422_is_not_a_refusal_of_the_order():
    a = audit([op("O1", 502)], [], [row("O1", "failed")], [req("O1", 422, ["error"])])
    assert a["dropped"] == ["O1"]


def test_account_level_refusals_do_not_excuse_a_failed_order():
    lines = [req("O1", 403, error_code="QUOTA_EXCEEDED"), req("O1", 401, ["auth_expired"], error_code="AUTH_EXPIRED"),
             req("O1", 429, ["rate_limit"], error_code="RATE_LIMITED")]
    assert audit([op("O1", 503)], [], [row("O1", "failed")], lines)["dropped"] == ["O1"]


def test_async_channel_validation_refusal_excuses_a_failed_order():
    line = {"method": "POST", "path": "/api/v1/lq/uploads", "invoice_number": "26117000000000000001",
            "external_id": "O1", "status": 202, "faults": [], "result_code": "02", "detail_code": "VALIDATION_FAILED"}
    assert audit([op("O1", 202)], [], [row("O1", "failed")], [line])["dropped"] == []
    deadline = dict(line, detail_code="DEADLINE_PASSED")
    assert audit([op("O1", 202)], [], [row("O1", "failed")], [deadline])["dropped"] == ["O1"]
    rejected = dict(line, faults=["upload_reject"])   # injected, not the bureau judging the order
    assert audit([op("O1", 202)], [], [row("O1", "failed")], [rejected])["dropped"] == ["O1"]


def test_an_order_the_sut_never_took_is_not_dropped():
    """Answered 5xx and no ledger row: the SUT owned nothing (CONTRACT §3)."""
    assert audit([op("O1", 503)], [], [], [req("O1", 503, ["error"])])["dropped"] == []


def test_a_number_reused_for_another_order_is_a_mismatch():
    """CONTRACT §5.7: a number the SUT reported for O2 was accepted for O1 (answered 03)."""
    ledger = [inv("O1", "26117000000000000001")]
    sut = [row("O1", "issued", "26117000000000000001"), row("O2", "issued", "26117000000000000001")]
    a = audit([op("O1", 201, "26117000000000000001"), op("O2", 202)], ledger, sut)
    assert a["mismatch"] == ["O2"]
    assert a["lost"] == ["O2"]


def test_a_stored_invoice_judged_invalid_excuses_a_failed_order_whatever_delayed_it():
    """On the async channel a stored invoice's result is the bureau's own judgement, unless
    upload_reject decided it: held by upload_stuck, uploaded under a ghost_commit (stored, then
    504) or judged under policy_change, a 02 VALIDATION_FAILED still refuses the order itself.
    (Seen live: resilient recorded such orders failed and was called dropped.)"""
    line = {"method": "POST", "path": "/api/v1/lq/uploads", "invoice_number": "26117000000000000001",
            "external_id": "O1", "status": 202, "result_code": "02", "detail_code": "VALIDATION_FAILED"}
    for faults in (["policy_change", "upload_stuck"], ["ghost_commit"], ["latency", "upload_stuck"]):
        held = dict(line, faults=faults, status=504 if "ghost_commit" in faults else 202)
        assert audit([op("O1", 202)], [], [row("O1", "failed")], [held])["dropped"] == [], faults
    injected = dict(line, faults=["upload_stuck", "upload_reject"])  # the fault chose the code
    assert audit([op("O1", 202)], [], [row("O1", "failed")], [injected])["dropped"] == ["O1"]

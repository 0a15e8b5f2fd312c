"""Root-cause hints from literal evidence, pathological pieces included."""

from __future__ import annotations

from harness.checks.hints import hints


def ev(invoices=(), requests=(), record=..., reasons=None) -> dict:
    return {"bureau_invoices": list(invoices), "requests": list(requests),
            "merchant_record": {"status": "failed"} if record is ... else record, "reasons": reasons or {}}


def inv(rid):
    return {"invoice_number": "N", "request_id": rid, "red_for": None}


def post(status, faults=()):
    return {"method": "POST", "path": "/api/v1/invoices", "status": status, "faults": list(faults)}


def only(anomalies, evidence, dedup="request_id") -> list[str]:
    return [h["pattern"] for h in hints(anomalies, evidence, dedup)]


def test_duplicate_under_new_request_ids_names_the_classic_bug():
    (h,) = hints({"duplicate": ["O1"]}, {"O1": ev([inv("a"), inv("b")])})
    assert h["pattern"] == "new-request-id" and "new request id" in h["hint"] and h["example"] == "O1"


def test_duplicate_with_one_request_id_under_dedup_none_blames_the_channel():
    assert only({"duplicate": ["O1"]}, {"O1": ev([inv("a"), inv("a")])}, dedup="none") == ["no-dedup"]
    assert only({"duplicate": ["O1"]}, {"O1": ev([inv(None), inv(None)])}) == ["no-request-id"]


def test_phantoms_tell_a_lost_state_from_an_error_taken_for_a_refusal():
    evidence = {"A": ev(record=None), "B": ev(requests=[post(504, ["ghost_commit"])]),
                "C": ev(requests=[post(409, ["false_duplicate"])]), "D": ev()}
    assert only({"phantom": ["A", "B", "C", "D"]}, evidence) == ["no-record", "error-taken-for-refusal",
                                                                  "refusal-believed", "other"]


def test_dropped_orders_say_what_the_sut_gave_up_on():
    evidence = {"A": ev(record=None), "B": ev(requests=[post(503, ["error"])]), "C": ev(requests=[post(400, ["error"])]),
                "D": ev()}
    assert only({"dropped": ["A", "B", "C", "D"]}, evidence) == ["forgotten", "gave-up-on-account-refusal",
                                                                  "gave-up-on-error", "gave-up-without-trying"]


def test_stuck_lost_mismatch_and_unexpected():
    assert only({"stuck": ["A"]}, {"A": ev(requests=[post(422)] * 3)}) == ["retrying-a-refusal"]
    assert only({"stuck": ["A"]}, {"A": ev()}) == ["never-sent"]
    assert only({"lost": ["A"]}, {"A": ev(requests=[post(201, ["malformed_response"])])}) == ["garbled-success"]
    reused = ev(reasons={"mismatch": ["the SUT reported invoice N for this order, but the bureau accepted N for order B"]})
    assert only({"mismatch": ["A"]}, {"A": reused}) == ["reused-number"]
    assert only({"unexpected": ["X"]}, {}) == ["not-placed"]


def test_groups_count_orders_most_common_first_and_garbage_does_not_crash():
    evidence = {f"D{i}": ev([inv("a"), inv(f"b{i}")]) for i in range(3)} | {"P": ev(record=None)}
    out = hints({"phantom": ["P"], "duplicate": ["D0", "D1", "D2"], "lost": ["Z"]}, evidence)
    assert [(h["kind"], h["orders"]) for h in out][:2] == [("duplicate", 3), ("phantom", 1)]
    assert hints({}, {}) == []
    assert hints({"duplicate": ["Q"]}, {"Q": {"bureau_invoices": None, "requests": None}})  # no crash

"""The resilient profile's decision table for one 乐企 upload result (fakes.merchant.lq_decide)."""

from __future__ import annotations

import pytest

from fakes.merchant.lq_decide import decide, detail_code


@pytest.mark.parametrize(("code", "detail", "month_passed", "action"), [
    ("01", None, False, "wait"),
    ("00", None, False, "issued"),
    ("03", "ALREADY_UPLOADED", False, "lookup"),
    ("02", "VALIDATION_FAILED", False, "failed"),
    ("02", "NUMBER_NOT_ALLOCATED", False, "reissue"),
    ("02", "NUMBER_YEAR", False, "reissue"),
    ("02", "ISSUED_IN_FUTURE", False, "reissue"),
    ("02", "DEADLINE_PASSED", False, "reissue"),
    ("02", "MONTH_CLOSED", False, "reissue"),
    ("02", "QUOTA_EXCEEDED", False, "hold"),
    ("02", "QUOTA_EXCEEDED", True, "reissue"),
    ("02", "SOMETHING_NEW", False, "hold"),
    ("02", None, False, "hold"),
    ("04", None, False, "wait"),
    (None, None, False, "wait"),
])
def test_decision_table(code: str | None, detail: str | None, month_passed: bool, action: str) -> None:
    assert decide(code, detail, month_passed=month_passed) == action


def test_only_a_validation_refusal_fails_an_order() -> None:
    codes = ["VALIDATION_FAILED", "NUMBER_NOT_ALLOCATED", "NUMBER_YEAR", "ISSUED_IN_FUTURE", "DEADLINE_PASSED",
             "MONTH_CLOSED", "QUOTA_EXCEEDED", "AUTH_EXPIRED", "RATE_LIMITED", "MAINTENANCE"]
    assert [c for c in codes for passed in (False, True) if decide("02", c, month_passed=passed) == "failed"] == \
        ["VALIDATION_FAILED", "VALIDATION_FAILED"]


@pytest.mark.parametrize(("result", "code"), [
    ({"code": "02", "details": [{"field": "issued_at", "code": "DEADLINE_PASSED", "message": "..."},
                                {"code": "MONTH_CLOSED"}]}, "DEADLINE_PASSED"),
    ({"code": "02", "details": []}, None),
    ({"code": "02"}, None),
    ({"code": "02", "details": ["DEADLINE_PASSED"]}, None),
    ({"code": "02", "details": [{"code": 7}]}, None),
])
def test_detail_code_is_the_first_entry(result: dict[str, object], code: str | None) -> None:
    assert detail_code(result) == code

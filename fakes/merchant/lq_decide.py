"""What the resilient merchant does with one upload result (CONTRACT §5.4): the decision table.

Pure, so the table is tested line by line. ``decide`` maps a result code (and its ``02`` detail
code) to one action:

    01 processing                      wait      poll the upload again
    00 accepted                        issued    the order is issued under that number
    03 ALREADY_UPLOADED                lookup    GET /api/v1/lq/invoices/{n}: this order's -> issued;
                                                 another order's -> reissue; not visible yet -> look again
    02 VALIDATION_FAILED               failed    the bureau judged the order itself (a policy change)
    02 NUMBER_NOT_ALLOCATED            reissue   the bureau does not know our ranges: new range, new number
    02 NUMBER_YEAR                     reissue   a new number from a range of the current year, dated now
    02 ISSUED_IN_FUTURE                reissue   refresh bureau time, a new number dated now
    02 DEADLINE_PASSED                 reissue   a new number dated now (the old one can never be accepted)
    02 MONTH_CLOSED                    reissue   a new number dated now (上个月未上传的发票，请重新开具)
    02 QUOTA_EXCEEDED                  hold      upload the same invoice again later; reissue dated now
                                                 once the bureau's month is past the invoice's month
    02 any other detail                hold      nothing says the order is wrong: keep it, retry

Only ``failed`` gives an order up, and only for ``VALIDATION_FAILED``: every other refusal is
about the account, the calendar or the number, never about the sale (``dropped``, CONTRACT §5.7).
"""

from __future__ import annotations

from typing import Any, Literal

Action = Literal["wait", "issued", "lookup", "failed", "reissue", "hold"]

REISSUE = frozenset({"NUMBER_NOT_ALLOCATED", "NUMBER_YEAR", "ISSUED_IN_FUTURE", "DEADLINE_PASSED", "MONTH_CLOSED"})


def detail_code(result: dict[str, Any]) -> str | None:
    """The first ``details`` entry's code of a ``02`` result (the check that failed first)."""
    details = result.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        code = details[0].get("code")
        return code if isinstance(code, str) else None
    return None


def decide(code: Any, detail: str | None, *, month_passed: bool = False) -> Action:
    """The action for one result; ``month_passed``: the bureau's month is later than the
    invoice's (its quota month can no longer change)."""
    if code == "00":
        return "issued"
    if code == "03":
        return "lookup"
    if code == "02":
        if detail == "VALIDATION_FAILED":
            return "failed"
        if detail in REISSUE:
            return "reissue"
        if detail == "QUOTA_EXCEEDED" and month_passed:
            return "reissue"
        return "hold"
    return "wait"  # 01, or a code this client does not know: ask again later

"""Judging one uploaded invoice (CONTRACT §5.4): the checks in their order, and the result.

The first check that fails gives the ``02`` detail code::

    §1 rules (+ invoice_number, issued_at, and for a red invoice §5.6)  VALIDATION_FAILED
    number in a range of this seller                                    NUMBER_NOT_ALLOCATED
    issued_at in the range's year                                       NUMBER_YEAR
    number already accepted                                             -> 03 ALREADY_UPLOADED
    issued_at at most 300 s after bureau time                           ISSUED_IN_FUTURE
    received at most upload_deadline_s after issued_at                  DEADLINE_PASSED
    issued_at's month not closed (§5.5)                                 MONTH_CLOSED
    within the month's quota (blue invoices)                            QUOTA_EXCEEDED
    then an upload_reject fault, if one was drawn for it                its code

``DEADLINE_PASSED`` compares ``issued_at`` with the upload's receipt; every other time check
uses the bureau time of the judgement. Judging has no side effect but the quota it reserves
for an accepted invoice (given back if the commit fails).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fakes.bureau import records
from fakes.bureau.clock import cst, month_close, month_of, parse_kprq, rfc3339
from fakes.bureau.lq.ranges import RangeBook
from fakes.bureau.lq.red import RedDesk, RedPlan
from fakes.bureau.quota import QuotaBook, cents_of
from fakes.bureau.rules import Problem, validate_invoice
from fakes.bureau.service import Policy
from fakes.bureau.settings import Settings

FUTURE_SLACK_S = 300
MESSAGES = {"00": "上传成功: accepted", "01": "处理中: processing"}


@dataclass
class Accepted:
    """What an accepted invoice adds to the ledger."""

    number: str
    seller: str
    record: dict[str, Any]
    quota: tuple[str, int] | None  # (month, cents) reserved
    red: RedPlan | None


@dataclass
class Verdict:
    code: str  # 00, 02 or 03
    message: str
    details: list[Problem] = field(default_factory=list)
    accepted: Accepted | None = None
    acted: list[str] = field(default_factory=list)  # fault kinds that decided this result

    @property
    def detail_code(self) -> str | None:
        return self.details[0].code if self.code == "02" and self.details else None

    def details_json(self) -> list[dict[str, str]]:
        return [p.as_dict() for p in self.details]


@dataclass
class Context:
    """Everything a judgement reads, at the bureau time ``now`` of the judgement."""

    now: float
    received_at: float
    settings: Settings
    ranges: RangeBook
    accepted: set[str]
    quota: QuotaBook
    reds: RedDesk
    policy: Policy
    quota_exhausted: bool = False
    reject_code: str | None = None


def judge(item: Mapping[str, Any], ctx: Context) -> Verdict:
    red = item.get("red_for") is not None
    problems = validate_invoice(item, ctx.policy.rates, ctx.policy.required_fields, red=red)
    number = _number(item, problems)
    issued = _issued_at(item, problems)
    if not red and item.get("confirmation_id") is not None:
        problems.append(Problem("red_for", "REQUIRED", "confirmation_id is for red invoices: give red_for too"))
    plan = None
    if red and not problems:
        red_problems, plan = ctx.reds.check(item, ctx.now)
        problems.extend(red_problems)
    if problems or number is None or issued is None:
        return _refused([Problem(p.field, "VALIDATION_FAILED", f"{p.code}: {p.message}") for p in problems])
    seller: str = item["seller"]["tax_id"]
    found = ctx.ranges.find(number, seller)
    if found is None:
        return _refused1("NUMBER_NOT_ALLOCATED", f"{number} is in no range allocated to {seller}")
    if cst(issued).tm_year != found.year:
        return _refused1("NUMBER_YEAR", f"{number} is from a range of {found.year}; issued_at {item['issued_at']}"
                         f" is in {cst(issued).tm_year}: number it from a range of that year", "issued_at")
    if number in ctx.accepted:
        return Verdict("03", f"重复上传: ALREADY_UPLOADED: {number} was already accepted",
                       [Problem("invoice_number", "ALREADY_UPLOADED", f"{number} was already accepted; look it up to know whose it is")])
    if issued > ctx.now + FUTURE_SLACK_S:
        return _refused1("ISSUED_IN_FUTURE", f"issued_at {item['issued_at']} is after the bureau time"
                         f" {rfc3339(ctx.now)} (+{FUTURE_SLACK_S} s)", "issued_at")
    if ctx.received_at - issued > ctx.settings.upload_deadline_s:
        return _refused1("DEADLINE_PASSED", f"received {rfc3339(ctx.received_at)}, more than"
                         f" {ctx.settings.upload_deadline_s:g} s after issued_at {item['issued_at']}: re-issue it"
                         " under a new number dated now", "issued_at")
    month = month_of(issued)
    if ctx.now >= month_close(month, ctx.settings.close_day):
        return _refused1("MONTH_CLOSED", f"上个月未上传的发票，请重新开具: {month} closed at"
                         f" {rfc3339(month_close(month, ctx.settings.close_day))}", "issued_at")
    quota = None
    if not red:
        cents = cents_of(item["total_amount"])
        if ctx.quota_exhausted or (ctx.quota.limit is not None and ctx.quota.used(seller, month) + cents > ctx.quota.limit):
            why = "suspended (暂停赋额)" if ctx.quota_exhausted else f"{ctx.settings.quota_monthly} for {month}"
            refused = _refused1("QUOTA_EXCEEDED", f"超出授信额度: {item['total_amount']} exceeds the quota of {seller}:"
                                f" {why}", "total_amount")
            refused.acted = ["quota_exhausted"] if ctx.quota_exhausted else []
            return refused
        quota = (month, cents)
    if ctx.reject_code is not None:
        refused = _refused1(ctx.reject_code, f"refused ({ctx.reject_code}) by an injected upload_reject fault")
        refused.acted = ["upload_reject"]
        return refused
    if quota is not None:
        ctx.quota.take(seller, *quota)
    record = _record(item, number, rfc3339(issued), plan)
    return Verdict("00", MESSAGES["00"], accepted=Accepted(number, seller, record, quota, plan))


def _number(item: Mapping[str, Any], problems: list[Problem]) -> str | None:
    number = item.get("invoice_number")
    if not isinstance(number, str) or len(number) != 20 or not number.isascii() or not number.isdigit():
        problems.append(Problem("invoice_number", "REQUIRED" if number is None else "FORMAT",
                                f"invoice_number {number!r} must be 20 digits from one of the seller's ranges"))
        return None
    return number


def _issued_at(item: Mapping[str, Any], problems: list[Problem]) -> float | None:
    value = item.get("issued_at")
    if not isinstance(value, str):
        problems.append(Problem("issued_at", "REQUIRED" if value is None else "TYPE",
                                "issued_at (开票日期) is required: yyyy-MM-dd HH:mm:ss, China Standard Time"))
        return None
    try:
        return parse_kprq(value)
    except ValueError as exc:
        problems.append(Problem("issued_at", "FORMAT", f"issued_at {exc}"))
        return None


def _refused(details: list[Problem]) -> Verdict:
    return Verdict("02", details[0].message, details)


def _refused1(code: str, message: str, field: str = "invoice_number") -> Verdict:
    return _refused([Problem(field, code, message)])


def _record(item: Mapping[str, Any], number: str, issued_at: str, plan: RedPlan | None) -> dict[str, Any]:
    record = records.blue_record(item, number, issued_at)
    if plan is not None:
        record["red_for"] = plan.blue_number
        record["confirmation_id"] = plan.confirmation.confirmation_id
        record["reason"] = plan.confirmation.reason
    return record

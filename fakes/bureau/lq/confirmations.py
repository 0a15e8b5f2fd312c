"""Red-letter confirmations (红字确认单, CONTRACT §5.6) with a simulated buyer.

A seller applies for a confirmation against one of its accepted blue invoices. The simulated
buyer has always used the blue invoice (勾选/入账), so every application starts at ``02``
(waiting for the buyer). At application the buyer's answer is drawn from the bureau's seeded
RNG: with probability ``buyer_confirms`` it confirms ``buyer_delay_s`` bureau seconds later
(``04``); otherwise it stays silent and the confirmation turns void (``07``) 72 h (bureau time)
after the application. The status is a function of bureau time, so it needs no timer and
survives restarts. ``06`` (denied) exists in the code table, the simulated buyer never sends it.

One confirmation may be open per blue invoice (``02``, or ``01``/``04`` not yet used by a red
upload): a second application is 409 ``CONFIRMATION_IN_PROGRESS``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fakes.bureau import records
from fakes.bureau.clock import BureauClock, rfc3339
from fakes.bureau.errors import ApiError
from fakes.bureau.ledger import Ledger, record_with_status
from fakes.bureau.lq import store
from fakes.bureau.rules import Problem
from fakes.bureau.service import Outcome, hidden, validation_failed
from fakes.bureau.settings import Settings

VOID_AFTER_S = 72 * 3600
NUMBER_LEN = 20


@dataclass
class Confirmation:
    seq: int
    confirmation_id: str
    blue_number: str
    seller: str
    reason: str
    created_at: float
    decided_at: float | None
    used_by: str | None = None

    def status(self, now: float) -> str:
        if self.decided_at is not None and self.decided_at < self.created_at + VOID_AFTER_S and now >= self.decided_at:
            return "04"
        if now >= self.created_at + VOID_AFTER_S:
            return "07"
        return "02"

    def is_open(self, now: float) -> bool:
        status = self.status(now)
        return status == "02" or (status in ("01", "04") and self.used_by is None)

    def usable(self, now: float) -> bool:
        return self.status(now) in ("01", "04") and self.used_by is None

    def answer(self, now: float) -> dict[str, Any]:
        return {"confirmation_id": self.confirmation_id, "status": self.status(now),
                "blue_invoice_number": self.blue_number, "reason": self.reason, "initiator": "seller",
                "created_at": rfc3339(self.created_at), "red_invoice_number": self.used_by}


class ConfirmationBook:
    def __init__(self, settings: Settings, ledger: Ledger, clock: BureauClock, loaded: store.LqLoaded) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clock = clock
        self.next_seq = loaded.next_confirmation_seq
        self._buyer = random.Random(f"{settings.seed}:buyer")
        self.by_id: dict[str, Confirmation] = {}
        self._latest: dict[str, Confirmation] = {}  # blue number -> its latest confirmation
        for row in loaded.confirmations:
            self._keep(Confirmation(*row))

    async def apply(self, body: Mapping[str, Any], lag_s: float, reversed_by: Mapping[str, str]) -> Outcome:
        """201 ``{"confirmation_id", "status"}`` for an application by the seller; ``reversed_by``
        names the red invoice that reversed a blue invoice in full."""
        blue_number, reason = _application_fields(body)
        row = self.ledger.read_one("SELECT record, status, committed_at FROM invoices WHERE number = ?"
                                   " AND channel = 'lq'", (blue_number,))
        if row is None or hidden(row[2], lag_s):
            raise ApiError(404, "NOT_FOUND", f"蓝字发票不存在: no accepted invoice numbered {blue_number!r}")
        blue = record_with_status(row[0], row[1])
        if blue.get("red_for"):
            raise validation_failed([Problem("blue_invoice_number", "RED_INVOICE",
                                             f"{blue_number} is itself a red invoice")], "the application")
        if row[1] == "reversed":
            raise ApiError(409, "ALREADY_REVERSED", f"{blue_number} was already reversed in full",
                           extra={"invoice_number": reversed_by.get(blue_number)})
        now = self.clock.now()
        latest = self._latest.get(blue_number)
        if latest is not None and latest.is_open(now):
            raise ApiError(409, "CONFIRMATION_IN_PROGRESS", f"该发票存在进行中的红字确认单: {latest.confirmation_id}"
                           f" is still open for {blue_number}", extra={"confirmation_id": latest.confirmation_id})
        seq = self.next_seq
        self.next_seq += 1
        confirms = self._buyer.random() < self.settings.buyer_confirms
        made = Confirmation(seq, f"HZ{seq:016d}", blue_number, blue["seller"]["tax_id"], reason, now,
                            now + self.settings.buyer_delay_s if confirms else None)
        self._keep(made)  # before the commit: a concurrent second application is refused
        fut = self.ledger.submit_statements([(store.INSERT_CONFIRMATION, (
            seq, made.confirmation_id, blue_number, made.seller, reason, now, made.decided_at))])
        try:
            await asyncio.shield(fut)
        except Exception as exc:
            self._forget(made, latest)
            raise ApiError(500, "INTERNAL_ERROR", f"the confirmation could not be stored: {type(exc).__name__}") from exc
        return Outcome(201, {"confirmation_id": made.confirmation_id, "status": made.status(now)})

    def get(self, confirmation_id: str) -> dict[str, Any]:
        found = self.by_id.get(confirmation_id)
        if found is None:
            raise ApiError(404, "NOT_FOUND", f"no red-letter confirmation {confirmation_id!r}")
        return found.answer(self.clock.now())

    def reset(self) -> int:
        self.by_id, self._latest = {}, {}
        return self.next_seq - 1

    def _keep(self, made: Confirmation) -> None:
        self.by_id[made.confirmation_id] = made
        self._latest[made.blue_number] = made

    def _forget(self, made: Confirmation, previous: Confirmation | None) -> None:
        self.by_id.pop(made.confirmation_id, None)
        if previous is None:
            self._latest.pop(made.blue_number, None)
        else:
            self._latest[made.blue_number] = previous


def _application_fields(body: Mapping[str, Any]) -> tuple[str, str]:
    problems = []
    number, reason, initiator = body.get("blue_invoice_number"), body.get("reason"), body.get("initiator")
    if not isinstance(number, str) or len(number) != NUMBER_LEN or not number.isascii() or not number.isdigit():
        problems.append(Problem("blue_invoice_number", "REQUIRED" if number is None else "FORMAT",
                                f"blue_invoice_number {number!r} must be a 20-digit invoice number"))
    if not isinstance(reason, str) or reason not in records.RED_REASONS:
        problems.append(Problem("reason", "REQUIRED" if reason is None else "ENUM",
                                f"reason {reason!r} must be one of 01 (开票有误), 02 (销货退回), 03 (服务中止), 04 (销售折让)"))
    if initiator != "seller":
        problems.append(Problem("initiator", "REQUIRED" if initiator is None else "ENUM",
                                f"initiator {initiator!r} must be \"seller\" (the simulated buyer never applies)"))
    if problems:
        raise validation_failed(problems, "the application")
    return number, reason  # type: ignore[return-value]

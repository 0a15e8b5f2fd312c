"""The monthly quota (授信额度, CONTRACT §5.2), shared by both channels.

Per seller per calendar month of ``issued_at`` in China Standard Time, on ``total_amount`` of
blue invoices, in integer cents. An amount is taken before its invoice is committed (so two
concurrent issues cannot both squeeze under the limit) and given back if the commit fails.
Red invoices are never refused and give nothing back. Rebuilt from the ledger at start-up.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from decimal import Decimal


def cents_of(money: str) -> int:
    """Integer cents of a validated money string (``"106.00"`` -> 10600)."""
    return int(Decimal(money) * 100)


class QuotaBook:
    def __init__(self, limit_cents: int | None) -> None:
        self.limit = limit_cents
        self._used: defaultdict[tuple[str, str], int] = defaultdict(int)

    def load(self, conn: sqlite3.Connection) -> None:
        """Sum what the ledger already holds (only when a limit is set: start-up stays fast)."""
        if self.limit is None:
            return
        rows = conn.execute(
            "SELECT seller_tax_id, substr(json_extract(record, '$.issued_at'), 1, 7),"
            " json_extract(record, '$.total_amount') FROM invoices WHERE red_for IS NULL")
        for seller, month, amount in rows:
            self._used[(seller, month)] += cents_of(amount)

    def take(self, seller: str, month: str, cents: int) -> bool:
        """Reserve ``cents`` of ``seller``'s quota for ``month`` (``YYYY-MM``); False when over it."""
        if self.limit is None:
            return True
        key = (seller, month)
        if self._used[key] + cents > self.limit:
            return False
        self._used[key] += cents
        return True

    def give_back(self, seller: str, month: str, cents: int) -> None:
        if self.limit is not None:
            self._used[(seller, month)] -= cents

    def used(self, seller: str, month: str) -> int:
        return self._used.get((seller, month), 0)

    def clear(self) -> None:
        self._used.clear()

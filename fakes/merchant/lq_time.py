"""Bureau time as the merchant knows it (CONTRACT §5.1), and the 开票日期 format of the 乐企 channel.

On the asynchronous channel the merchant dates its invoices itself, and the bureau judges those
dates by its own clock (``ISSUED_IN_FUTURE``, the 48 h deadline, the year of a range, the month
close). So the merchant must date by bureau time, never by its own clock: ``BureauTime`` keeps
the latest bureau time observed (``X-Bureau-Time`` on every answer, or ``GET /api/v1/time``)
and extrapolates from it with the monotonic clock at one bureau second per real second.

The header is cut to the second, so the estimate is never ahead of the bureau while its clock
runs at rate 1 or faster (a clock that jumps only moves it further behind): an estimate that
lags makes an invoice a little older, which the deadlines tolerate, whereas one that ran ahead
would be refused ``ISSUED_IN_FUTURE``. Callers refresh it when it is older than a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fakes.bureau.clock import CST_OFFSET_S, cst, month_of, parse_kprq, parse_rfc3339

__all__ = ["BureauTime", "kprq", "cst_year", "month_of", "parse_kprq"]


class BureauTime:
    """The latest observation of bureau time, extrapolated; ``None`` until one was made."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._bureau: float | None = None
        self._seen_at = 0.0
        self._stale = False

    def observe(self, stamp: str | None) -> None:
        """Take an ``X-Bureau-Time`` header or a ``{"now"}`` value; ignore anything unreadable."""
        if not stamp:
            return
        try:
            self._bureau = parse_rfc3339(stamp)
        except (ValueError, TypeError):
            return
        self._seen_at = self._monotonic()
        self._stale = False

    def now(self) -> float | None:
        """Bureau epoch seconds now, estimated; ``None`` when never observed."""
        if self._bureau is None:
            return None
        return self._bureau + max(0.0, self._monotonic() - self._seen_at)

    def age(self) -> float:
        """Real seconds since the last observation (infinite before the first)."""
        if self._bureau is None or self._stale:
            return float("inf")
        return self._monotonic() - self._seen_at

    def stale(self) -> None:
        """Forget the freshness (not the value): the next caller refreshes first."""
        self._stale = True


def kprq(at: float) -> str:
    """开票日期 of bureau epoch seconds ``at``: ``yyyy-MM-dd HH:mm:ss`` in China Standard Time."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(at // 1) + CST_OFFSET_S))


def cst_year(at: float) -> int:
    return cst(at).tm_year

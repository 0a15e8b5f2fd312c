"""数电票 invoice numbers: 20 digits = YY + region + channel digit + 15-digit sequence.

YY is the year of ``issued_at`` in China Standard Time. The sequence is global and monotonic;
the ledger persists its high-water mark so a number is never handed out twice, across crashes,
restarts and resets (see ``ledger.Ledger.open``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
MAX_SEQUENCE = 10**15 - 1
REGION_RE = re.compile(r"[0-9]{2}")
CHANNEL_RE = re.compile(r"[0-9]")


def invoice_number(seq: int, issued_at: datetime, region: str, channel: str) -> str:
    """The invoice number of sequence ``seq`` issued at ``issued_at`` (any timezone)."""
    if not 1 <= seq <= MAX_SEQUENCE:
        raise ValueError(f"sequence {seq} is outside 1..{MAX_SEQUENCE}")
    yy = issued_at.astimezone(CST).year % 100
    return f"{yy:02d}{region}{channel}{seq:015d}"


def sequence_of(number: str) -> int:
    return int(number[5:])


def now_cst() -> datetime:
    return datetime.now(CST)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class CstClock:
    """``issued_at`` stamps in China Standard Time (RFC 3339, ``+08:00``) and their 2-digit year.

    ``source`` gives epoch seconds: the bureau clock (CONTRACT §5.1), or real time by default.
    The date part is formatted once per second: this runs for every invoice issued.
    """

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self._source = source
        self._second = -1
        self._prefix = ""
        self._year = 0

    def now(self) -> tuple[str, int]:
        """(issued_at, two-digit year of issued_at in China Standard Time)."""
        at = self._source()
        second = int(at)
        if second != self._second:
            cst = time.gmtime(second + 8 * 3600)
            self._second, self._year = second, cst.tm_year % 100
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", cst)
        return f"{self._prefix}.{int((at - second) * 1_000_000):06d}+08:00", self._year


def number_from_parts(seq: int, yy: int, region: str, channel: str) -> str:
    """Like ``invoice_number`` when the CST year is already known."""
    if not 1 <= seq <= MAX_SEQUENCE:
        raise ValueError(f"sequence {seq} is outside 1..{MAX_SEQUENCE}")
    return f"{yy:02d}{region}{channel}{seq:015d}"

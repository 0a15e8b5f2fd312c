"""数电票 invoice numbers: 20 digits = YY + region + channel digit + 15-digit sequence.

YY is the year of ``issued_at`` in China Standard Time. The sequence is global and monotonic;
the ledger persists its high-water mark so a number is never handed out twice, across crashes,
restarts and resets (see ``ledger.Ledger.open``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
MAX_SEQUENCE = 10**15 - 1
REGION_RE = re.compile(r"\d{2}")
CHANNEL_RE = re.compile(r"\d")


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

"""The bureau clock (CONTRACT §5.1): bureau time = real time + an offset, running at a rate.

Every time the bureau uses comes from here: ``issued_at`` on the synchronous channel, the year
inside invoice numbers and ranges, upload deadlines, result expiry, the month close, quota
months and the 72 h of a red-letter confirmation. ``committed_at`` and the request log's ``at``
stay real time.

Bureau time never goes backwards. In the process it advances with the monotonic clock, so a
step of the machine's wall clock does not move it; the ``clock`` table holds an anchor (a wall
time, the bureau time at that moment, the rate), written on every change and re-anchored every
second, so after a restart (``kill -9`` included) the clock continues from where it was, never
behind the last anchor. Times are epoch seconds (floats) inside; text only at the edges.
"""

from __future__ import annotations

import calendar
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

CST_OFFSET_S = 8 * 3600
MAX_RATE = 100_000.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    anchor_real REAL NOT NULL,    -- wall-clock epoch seconds at the anchor
    anchor_bureau REAL NOT NULL,  -- bureau epoch seconds at the same moment
    rate REAL NOT NULL            -- bureau seconds per real second
);
"""
SAVE = "INSERT OR REPLACE INTO clock (id, anchor_real, anchor_bureau, rate) VALUES (1, ?, ?, ?)"
_KPRQ_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class ClockState:
    """What is persisted: at wall time ``anchor_real`` the bureau time was ``anchor_bureau``."""

    anchor_real: float
    anchor_bureau: float
    rate: float


class ClockBackwards(Exception):
    """A requested ``now`` earlier than the current bureau time (CONTRACT: 409 CLOCK_BACKWARDS)."""


class BureauClock:
    def __init__(self, monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self.rate = 1.0
        self._base = wall()
        self._mono0 = monotonic()
        self._header_second = -1
        self._header = b""

    def restore(self, state: ClockState) -> None:
        """Continue from a persisted anchor: where it would be now, never behind the anchor."""
        elapsed = max(0.0, self._wall() - state.anchor_real)
        self._rebase(state.anchor_bureau + elapsed * state.rate, state.rate)

    def now(self) -> float:
        """Bureau time, epoch seconds. Runs on every request: keep it cheap."""
        return self._base + (self._monotonic() - self._mono0) * self.rate

    def state(self) -> ClockState:
        """The anchor to persist for the current moment."""
        return ClockState(self._wall(), self.now(), self.rate)

    def set(self, now: float | None = None, advance_s: float | None = None, rate: float | None = None) -> ClockState:
        """Move the clock (already validated values); raises ClockBackwards for an earlier ``now``."""
        current = self.now()
        target = current
        if now is not None:
            if now < current:
                raise ClockBackwards(f"{rfc3339(now)} is earlier than the bureau time {rfc3339(current)}")
            target = now
        if advance_s is not None:
            target = current + advance_s
        self._rebase(target, self.rate if rate is None else rate)
        return self.state()

    def header(self) -> str:
        """``X-Bureau-Time``: the current bureau time to the second, formatted once per second."""
        return self.header_bytes().decode("ascii")

    def header_bytes(self) -> bytes:
        """``header()`` encoded, as the ASGI answer wants it (this runs on every public answer)."""
        second = int(self.now())
        if second != self._header_second:
            self._header_second, self._header = second, rfc3339(second).encode("ascii")
        return self._header

    def _rebase(self, bureau: float, rate: float) -> None:
        self._base, self._mono0, self.rate = bureau, self._monotonic(), rate


# --- persistence (the writer thread executes SAVE; start-up reads with its own connection) ---


def load_state(conn: sqlite3.Connection, start: float | None, rate: float) -> ClockState:
    """The persisted anchor, or a new one: ``start`` (or real time) at ``rate``.

    The start options only initialise a new database: a bureau restarted with them keeps the
    clock it had (it must never go backwards).
    """
    conn.executescript(SCHEMA)
    row = conn.execute("SELECT anchor_real, anchor_bureau, rate FROM clock WHERE id = 1").fetchone()
    if row is not None:
        return ClockState(float(row[0]), float(row[1]), float(row[2]))
    wall = time.time()
    return ClockState(wall, wall if start is None else start, rate)


# --- formats ---------------------------------------------------------------------------------


def cst(at: float) -> time.struct_time:
    """Calendar fields of ``at`` in China Standard Time."""
    return time.gmtime(int(at // 1) + CST_OFFSET_S)


def rfc3339(at: float, micro: bool = False) -> str:
    """``2026-12-31T23:59:40+08:00`` (with ``.ffffff`` when ``micro``)."""
    whole = int(at // 1)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole + CST_OFFSET_S))
    if micro:
        text += f".{int((at - whole) * 1_000_000):06d}"
    return text + "+08:00"


def parse_rfc3339(text: str) -> float:
    """Epoch seconds of an RFC 3339 time; ValueError unless it is one, with an offset."""
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text):
        raise ValueError(f"{text!r} is not an RFC 3339 time with an offset, like 2026-12-31T23:59:40+08:00")
    return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).timestamp()


def parse_kprq(text: str) -> float:
    """Epoch seconds of a 开票日期 ``yyyy-MM-dd HH:mm:ss`` in China Standard Time (no offset)."""
    match = _KPRQ_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} must be yyyy-MM-dd HH:mm:ss in China Standard Time, like 2026-12-31 23:59:40")
    y, mo, d, h, mi, s = (int(g) for g in match.groups())
    try:
        datetime(y, mo, d, h, mi, s)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date and time: {exc}") from None
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - CST_OFFSET_S


def month_of(at: float) -> str:
    """``YYYY-MM`` of ``at`` in China Standard Time (quota months, month close)."""
    return time.strftime("%Y-%m", cst(at))


def month_close(month: str, close_day: int) -> float:
    """When ``month`` (``YYYY-MM``) closes: 00:00 CST on ``close_day`` of the following month."""
    year, mon = int(month[:4]), int(month[5:7])
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return calendar.timegm((year, mon, close_day, 0, 0, 0, 0, 0, 0)) - CST_OFFSET_S

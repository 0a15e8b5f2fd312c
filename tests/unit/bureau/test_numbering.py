from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fakes.bureau.numbering import invoice_number, sequence_of


def test_layout_is_year_region_channel_sequence() -> None:
    number = invoice_number(42, datetime(2025, 6, 1, tzinfo=timezone.utc), "11", "2")
    assert number == "25112000000000000042"
    assert len(number) == 20 and sequence_of(number) == 42


def test_year_is_taken_in_china_standard_time() -> None:
    # 16:30 UTC on 31 December is already 00:30 on 1 January in Beijing.
    assert invoice_number(1, datetime(2025, 12, 31, 16, 30, tzinfo=timezone.utc), "31", "2").startswith("2631")
    assert invoice_number(1, datetime(2025, 12, 31, 15, 59, tzinfo=timezone.utc), "31", "2").startswith("2531")


@pytest.mark.parametrize("seq", [0, 10**15])
def test_sequence_out_of_range_is_refused(seq: int) -> None:
    with pytest.raises(ValueError):
        invoice_number(seq, datetime(2025, 1, 1, tzinfo=timezone.utc), "11", "2")


def test_cst_clock_matches_datetime() -> None:
    from fakes.bureau.numbering import CST, CstClock

    before = datetime.now(CST)
    stamp, yy = CstClock().now()
    parsed = datetime.fromisoformat(stamp)
    assert stamp.endswith("+08:00") and parsed.utcoffset() == before.utcoffset()
    assert 0 <= (parsed - before).total_seconds() < 1 and yy == parsed.year % 100

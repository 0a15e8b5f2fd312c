"""The group-commit ledger: batches, failure isolation, start-up state."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fakes.bureau.ledger import InvoiceRow, Ledger


def row(seq: int, record: str = '{"x":1}', rid: str | None = None) -> InvoiceRow:
    return InvoiceRow(seq, f"{seq:020d}", "S", rid or f"R{seq}", f"E{seq}", None, "{}", record)


async def _submit(ledger: Ledger, rows: list[InvoiceRow]) -> list[object]:
    ledger.start(asyncio.get_running_loop())
    try:
        futures = [ledger.submit_invoice(r) for r in rows]
        return list(await asyncio.gather(*futures, return_exceptions=True))
    finally:
        ledger.close()


def test_one_bad_row_does_not_fail_its_batch(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "l.db"))
    ledger.open()
    # A lone surrogate cannot be encoded for SQLite: that row fails, its neighbours commit.
    results = asyncio.run(_submit(ledger, [row(1), row(2, '{"x":"\ud800"}'), row(3)]))
    assert isinstance(results[0], float) and isinstance(results[2], float)
    assert isinstance(results[1], Exception)
    state = Ledger(str(tmp_path / "l.db")).open()
    assert state.invoices == 2 and state.next_seq == 4
    assert set(state.dedup) == {("S", "R1"), ("S", "R3")}


def test_many_rows_share_few_commits(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "l.db"))
    ledger.open()
    results = asyncio.run(_submit(ledger, [row(i) for i in range(1, 201)]))
    assert all(isinstance(r, float) for r in results)
    assert ledger.batches < 20  # rows queued during a commit go together in the next one


def test_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(Exception, match="not a database|file is not"):
        Ledger(str(path)).open()

from __future__ import annotations

import asyncio
from pathlib import Path

from fakes.merchant.store import Order, Store


def order(oid: str, status: str = "pending") -> Order:
    return Order(order_id=oid, status=status, total_with_tax="1.00", payload="{}")  # type: ignore[arg-type]


def test_rows_survive_reopen_and_pending_is_counted(tmp_path: Path) -> None:
    async def write() -> None:
        s = Store(tmp_path / "o.sqlite3")
        s.open()
        await asyncio.gather(*(s.put(order(f"O-{i}")) for i in range(50)))
        await s.put(order("O-1").evolve(status="issued", invoice_number="N1"))
        assert s.pending == 49
        await s.close()

    asyncio.run(write())
    s = Store(tmp_path / "o.sqlite3")
    s.open()
    assert len(s) == 50 and s.pending == 49
    got = s.get("O-1")
    assert got is not None and got.status == "issued" and got.invoice_number == "N1"


def test_put_returns_after_the_row_is_committed(tmp_path: Path) -> None:
    async def main() -> None:
        s = Store(tmp_path / "o.sqlite3")
        s.open()
        await s.put(order("A"))
        other = Store(tmp_path / "o.sqlite3")  # a second connection sees it: it is on disk
        other.open()
        assert other.get("A") is not None
        await s.close()

    asyncio.run(main())


def test_an_outbox_of_an_earlier_version_gains_the_lq_columns(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "o.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL, invoice_number TEXT,"
               " total_with_tax TEXT NOT NULL, request_id TEXT, payload TEXT NOT NULL, error TEXT,"
               " reverse_reason TEXT, red_invoice_number TEXT)")
    db.execute("INSERT INTO orders (order_id, status, total_with_tax, payload) VALUES ('OLD', 'pending', '1.00', '{}')")
    db.commit()
    db.close()

    async def main() -> None:
        s = Store(path)
        s.open()
        old = s.get("OLD")
        assert old is not None and old.issued_at is None and old.upload_id is None
        await s.put(old.evolve(invoice_number="26117000000000000001", issued_at="2026-12-04 10:00:00", upload_id="U1"))
        await s.close()
        again = Store(path)
        again.open()
        got = again.get("OLD")
        assert got is not None and (got.issued_at, got.upload_id) == ("2026-12-04 10:00:00", "U1")
        await again.close()

    asyncio.run(main())

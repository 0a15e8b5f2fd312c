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

"""Concurrent repeats of one request_id, and concurrent reversals of one invoice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from fakes.bureau.app import create_app
from fakes.bureau.samples import sample_invoice
from fakes.bureau.settings import Settings


async def _run(tmp_path: Path) -> tuple[list[httpx.Response], list[httpx.Response], int]:
    app = create_app(Settings(db_path=str(tmp_path / "c.db")))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bureau") as client:
            issues = await asyncio.gather(*(client.post("/api/v1/invoices", json=sample_invoice()) for _ in range(20)))
            number = issues[0].json()["invoice_number"]
            reversals = await asyncio.gather(*(
                client.post(f"/api/v1/invoices/{number}/red-letter", json={"reason": "01"}) for _ in range(10)))
            stats = (await client.get("/admin/stats")).json()
    return issues, reversals, int(stats["invoices"])


@pytest.mark.timeout(60)
def test_one_invoice_per_request_id_and_one_reversal(tmp_path: Path) -> None:
    issues, reversals, invoices = asyncio.run(_run(tmp_path))
    statuses = sorted(r.status_code for r in issues)
    assert statuses == [200] * 19 + [201]
    assert len({r.json()["invoice_number"] for r in issues}) == 1
    assert sorted(r.status_code for r in reversals) == [201] + [409] * 9
    assert invoices == 2

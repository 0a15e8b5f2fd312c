"""Durability: SIGKILL mid-load, restart on the same database, audit the ledger (issue 3).

Every invoice that got a 201 must be in the ledger with its number; no number appears twice;
numbering continues after each restart. Five rounds in a row on one database.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fakes.bureau.samples import sample_invoice

pytestmark = pytest.mark.integration
ROUNDS = 5
WORKERS = 24


async def hammer(url: str, tag: str, stop_after_s: float, kill: Any) -> dict[str, str]:
    """Issue invoices concurrently; kill the bureau after ``stop_after_s``; external_id -> number of each 201."""
    issued: dict[str, str] = {}
    counter = iter(range(10**9))
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async def worker() -> None:
            while True:
                i = next(counter)
                body = sample_invoice(request_id=f"{tag}-{i}", external_id=f"{tag}-ORDER-{i}")
                try:
                    async with session.post(f"{url}/api/v1/invoices", json=body) as resp:
                        data = await resp.read()
                        assert resp.status == 201, data
                        issued[body["external_id"]] = json.loads(data)["invoice_number"]
                except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                    return  # killed: this request's outcome is indeterminate

        tasks = [asyncio.create_task(worker()) for _ in range(WORKERS)]
        await asyncio.sleep(stop_after_s)
        kill()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    return issued


def read_ledger(url: str) -> list[dict[str, Any]]:
    async def fetch() -> str:
        async with aiohttp.ClientSession() as session, session.get(f"{url}/admin/ledger") as resp:
            return await resp.text()

    return [json.loads(line) for line in asyncio.run(fetch()).splitlines()]


def test_every_201_survives_kill_9(start_bureau: Any, tmp_path: Path) -> None:
    run_rounds(start_bureau, tmp_path / "kill9.db", ROUNDS, seed=9)


@pytest.mark.soak
def test_every_201_survives_many_kills(start_bureau: Any, tmp_path: Path) -> None:
    run_rounds(start_bureau, tmp_path / "soak.db", 30, seed=10)


def run_rounds(start_bureau: Any, db: Path, rounds: int, seed: int) -> None:
    """Kill the bureau ``rounds`` times mid-load on one database, auditing after each restart."""
    rng = random.Random(seed)
    acknowledged: dict[str, str] = {}
    last_max = 0
    for round_ in range(rounds):
        bureau = start_bureau(db=db)
        issued = asyncio.run(hammer(bureau.url, f"K{round_}", rng.uniform(0.4, 0.9),
                                    lambda proc=bureau.proc: proc.send_signal(signal.SIGKILL)))
        bureau.proc.wait(10)
        assert issued, "no invoice was issued before the kill: the round proves nothing"
        acknowledged.update(issued)
        seqs = [int(n[5:]) for n in issued.values()]
        assert min(seqs) > last_max, "numbering did not continue after the restart"
        last_max = max(seqs)

        audit = start_bureau(db=db)
        ledger = read_ledger(audit.url)
        numbers = [line["invoice_number"] for line in ledger]
        assert len(numbers) == len(set(numbers)), "an invoice number repeats"
        by_external = {line["external_id"]: line["invoice_number"] for line in ledger}
        lost = {e: n for e, n in acknowledged.items() if by_external.get(e) != n}
        assert not lost, f"{len(lost)} acknowledged invoices are missing from the ledger: {list(lost)[:5]}"
        last_max = max(last_max, *(int(n[5:]) for n in numbers))
        audit.proc.send_signal(signal.SIGKILL)
        audit.proc.wait(10)

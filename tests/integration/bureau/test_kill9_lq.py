"""Durability of the asynchronous channel (CONTRACT §5): SIGKILL mid-upload, restart, audit.

Workers allocate ranges and upload invoices numbered from them while a poller reads results;
the bureau is killed at a seeded random moment and restarted on the same database. After each
restart: every acknowledged (202) upload is still there and all its invoices end accepted, every
invoice seen accepted (00) is in the ledger once, acknowledged ranges never overlap (so none is
reused after a crash), and bureau time did not go back.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fakes.bureau.clock import CST_OFFSET_S, parse_rfc3339
from fakes.bureau.samples import SELLER_TAX_ID, sample_invoice

pytestmark = pytest.mark.integration
ROUNDS = 4
WORKERS = 8
PER_UPLOAD = 50
ARGS = ("--processing-s", "0.2", "--clock-start", "2026-06-01T10:00:00+08:00", "--clock-rate", "50")


@dataclass
class Seen:
    ranges: list[tuple[int, int]] = field(default_factory=list)  # acknowledged (201) ranges, by sequence
    uploads: dict[str, list[str]] = field(default_factory=dict)  # acknowledged (202) upload -> its numbers
    accepted: set[str] = field(default_factory=set)  # numbers seen 00 before a kill
    last_time: float = 0.0  # the latest X-Bureau-Time seen

    def clock(self, resp: aiohttp.ClientResponse) -> float:
        stamp = parse_rfc3339(resp.headers["X-Bureau-Time"])
        self.last_time = max(self.last_time, stamp)
        return stamp


def kprq(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(epoch) + CST_OFFSET_S))


async def load(url: str, tag: str, seen: Seen, stop_after_s: float, kill: Any) -> None:
    counter = iter(range(10**9))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        async def worker(w: int) -> None:
            while True:
                i = next(counter)
                body = {"request_id": f"{tag}-{w}-{i}", "seller_tax_id": SELLER_TAX_ID, "count": PER_UPLOAD}
                try:
                    async with session.post(f"{url}/api/v1/lq/ranges", json=body) as resp:
                        assert resp.status == 201, await resp.text()
                        answer = await resp.json()
                        now = seen.clock(resp)
                    seen.ranges.append((int(answer["first"][6:]), int(answer["last"][6:])))
                    first = answer["first"]
                    numbers = [f"{first[:6]}{int(first[6:]) + k:014d}" for k in range(PER_UPLOAD)]
                    invoices = [sample_invoice(request_id=None, external_id=f"{tag}-{n}", invoice_number=n,
                                               issued_at=kprq(now)) for n in numbers]
                    async with session.post(f"{url}/api/v1/lq/uploads", json={"invoices": invoices}) as resp:
                        assert resp.status == 202, await resp.text()
                        seen.uploads[(await resp.json())["upload_id"]] = numbers
                        seen.clock(resp)
                except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                    return  # killed: this call's outcome is indeterminate

        async def poller() -> None:
            while True:
                for upload_id in list(seen.uploads):
                    try:
                        async with session.get(f"{url}/api/v1/lq/uploads/{upload_id}") as resp:
                            results = (await resp.json())["results"]
                            seen.clock(resp)
                    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError):
                        return
                    seen.accepted.update(r["invoice_number"] for r in results if r["code"] == "00")
                await asyncio.sleep(0.05)

        tasks = [asyncio.create_task(worker(w)) for w in range(WORKERS)] + [asyncio.create_task(poller())]
        await asyncio.sleep(stop_after_s)
        kill()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)


async def audit(url: str, seen: Seen) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        async with session.get(f"{url}/api/v1/time") as resp:
            restarted_at = parse_rfc3339((await resp.json())["now"])
        assert restarted_at >= seen.last_time, "bureau time went back across the restart"
        seen.last_time = restarted_at
        deadline = time.monotonic() + 30
        for upload_id, numbers in seen.uploads.items():
            while True:
                async with session.get(f"{url}/api/v1/lq/uploads/{upload_id}") as resp:
                    assert resp.status == 200, f"acknowledged upload {upload_id} is gone: {resp.status}"
                    results = (await resp.json())["results"]
                if all(r["code"] != "01" for r in results):
                    break
                assert time.monotonic() < deadline, f"{upload_id} still processing after the restart"
                await asyncio.sleep(0.05)
            assert [r["invoice_number"] for r in results] == numbers
            assert {r["code"] for r in results} == {"00"}, results
        async with session.get(f"{url}/admin/ledger") as resp:
            ledger = [json.loads(line) for line in (await resp.text()).splitlines()]
    numbers = [line["invoice_number"] for line in ledger]
    assert len(numbers) == len(set(numbers)), "an invoice number repeats in the ledger"
    assert seen.accepted <= set(numbers), f"accepted invoices lost: {sorted(seen.accepted - set(numbers))[:5]}"
    spans = sorted(seen.ranges)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), "two acknowledged ranges overlap"


def test_kill_9_during_uploads_loses_nothing_acknowledged(start_bureau: Any, tmp_path: Path) -> None:
    db = tmp_path / "lq-kill9.db"
    rng = random.Random(18)
    seen = Seen()
    for round_ in range(ROUNDS):
        bureau = start_bureau(*ARGS, db=db)
        before = len(seen.uploads)
        asyncio.run(load(bureau.url, f"K{round_}", seen, rng.uniform(0.6, 1.2),
                         lambda proc=bureau.proc: proc.send_signal(signal.SIGKILL)))
        bureau.proc.wait(10)
        assert len(seen.uploads) > before, "no upload was acknowledged before the kill: the round proves nothing"
        auditor = start_bureau(*ARGS, db=db)
        asyncio.run(audit(auditor.url, seen))
        auditor.proc.send_signal(signal.SIGKILL)
        auditor.proc.wait(10)
    assert seen.accepted, "no invoice was seen accepted before a kill: the test proves little"

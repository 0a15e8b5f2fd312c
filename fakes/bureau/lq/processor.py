"""The upload processor: judges each stored invoice when it is due and commits its result.

An invoice is due ``processing_s`` real seconds after its upload's receipt, or later when an
``upload_stuck`` fault was drawn for it (``seconds`` after receipt; without ``seconds``, until
the fault is removed: the board tells the processor of every change). One task on the event
loop pops what is due, judges it (``judge.judge``) and hands the outcome to the ledger: an
accepted invoice is one invoice row carrying its result row in the same transaction, so ``00``
and the ledger line are durable together; the group commit writes many of them per fsync.

Before its commit an accepted number is claimed in memory (a second upload of it answers 03),
with its quota and its red-letter effect; a failed commit undoes them and retries later.
After a restart, invoices without a result are judged again (faults do not survive a restart).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from fakes.bureau import records
from fakes.bureau.clock import BureauClock
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.specs import Fault
from fakes.bureau.ledger import InvoiceRow, Ledger, Statement
from fakes.bureau.lq import store
from fakes.bureau.lq.judge import Context, Verdict, judge
from fakes.bureau.lq.ranges import RangeBook
from fakes.bureau.lq.red import RedDesk
from fakes.bureau.lq.uploads import Upload
from fakes.bureau.quota import QuotaBook
from fakes.bureau.settings import Settings

QUOTA_FAULT = frozenset({"quota_exhausted"})
MAX_PER_TURN = 500  # invoices judged before the loop serves requests again
RETRY_S = 1.0


class Processor:
    def __init__(self, settings: Settings, ledger: Ledger, clock: BureauClock, board: FaultBoard,
                 ranges: RangeBook, quota: QuotaBook, reds: RedDesk, accepted: set[str],
                 take_seq: Callable[[], int], on_accepted: Callable[[], None]) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clock = clock
        self.board = board
        self.ranges = ranges
        self.quota = quota
        self.reds = reds
        self.accepted = accepted
        self._take_seq = take_seq
        self._on_accepted = on_accepted
        self.pending: dict[int, Upload] = {}
        self._heap: list[tuple[float, int, int, int]] = []  # (due, tiebreak, upload seq, index)
        self._held: dict[tuple[int, int], Fault] = {}
        self._tiebreak = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        board.listeners.append(self.release_removed)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="lq-processor")

    async def stop(self) -> None:
        """Stop judging; invoices not judged stay 01 in the database and are judged after a restart."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def admit(self, upload: Upload) -> None:
        """Schedule every not yet final invoice of a (durably stored) upload."""
        self.pending[upload.seq] = upload
        for idx in sorted(upload.remaining):
            self._schedule(upload, idx)
        self._wake.set()

    def release_removed(self) -> None:
        """Invoices held by an ``upload_stuck`` without ``seconds`` go once that fault is removed."""
        for key, fault in list(self._held.items()):
            if not self.board.active(fault):
                del self._held[key]
                upload = self.pending.get(key[0])
                if upload is not None:
                    self._push(max(time.time(), upload.received_real + self.settings.processing_s), upload, key[1])
        self._wake.set()

    def reset(self) -> None:
        self.pending, self._heap, self._held = {}, [], {}

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def waiting(self) -> int:
        return sum(len(u.remaining) for u in self.pending.values())

    # --- scheduling ---------------------------------------------------------------------------

    def _schedule(self, upload: Upload, idx: int) -> None:
        due = upload.received_real + self.settings.processing_s
        for fault in upload.faults[idx]:
            if fault.kind != "upload_stuck":
                continue
            seconds = fault.params["seconds"]
            if seconds is None:
                if self.board.active(fault):  # it may have been removed while the upload was stored
                    self._held[(upload.seq, idx)] = fault
                    return
            else:
                due = max(due, upload.received_real + float(seconds))
        self._push(due, upload, idx)

    def _push(self, due: float, upload: Upload, idx: int) -> None:
        self._tiebreak += 1
        heapq.heappush(self._heap, (due, self._tiebreak, upload.seq, idx))

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            now = time.time()
            judged = 0
            while self._heap and self._heap[0][0] <= now and judged < MAX_PER_TURN:
                _, _, seq, idx = heapq.heappop(self._heap)
                upload = self.pending.get(seq)
                if upload is not None and idx in upload.remaining:
                    self._judge(upload, idx)
                    judged += 1
            if judged:
                await asyncio.sleep(0)
                continue
            timeout = self._heap[0][0] - now if self._heap else None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    # --- judging ------------------------------------------------------------------------------

    def _judge(self, upload: Upload, idx: int) -> None:
        item = upload.invoices[idx]
        drawn = upload.faults[idx]
        reject = next((f.params["code"] for f in drawn if f.kind == "upload_reject"), None)
        exhausted = bool(self.board.acting_per_invoice(QUOTA_FAULT, "POST", upload.path))
        now = self.clock.now()
        verdict = judge(item, Context(now, upload.received_at, self.settings, self.ranges, self.accepted, self.quota,
                                      self.reds, upload.policy, exhausted, reject))
        kinds = sorted({f.kind for f in drawn if f.kind == "upload_stuck"} | set(verdict.acted))
        result = (store.INSERT_RESULT, (upload.seq, idx, verdict.code, _text(verdict.message),
                                        _json_list(verdict.details_json()), verdict.detail_code, _json_list(kinds), now))
        accepted = verdict.accepted
        if accepted is None:
            fut = self.ledger.submit_statements([result])
        else:
            self.accepted.add(accepted.number)
            after: list[Statement] = [result]
            red = accepted.red
            if red is not None:
                self.reds.apply(red, accepted.number)
                after.append((store.USE_CONFIRMATION, (accepted.number, red.confirmation.confirmation_id)))
            rid, ext = item.get("request_id"), item["external_id"]
            # The payload column serves the synchronous dedup; an lq row's request is its upload's body.
            fut = self.ledger.submit_invoice(InvoiceRow(
                self._take_seq(), accepted.number, accepted.seller, rid if isinstance(rid, str) else None, ext,
                red.blue_number if red else None, "", records.to_json(accepted.record),
                reverses=red.blue_number if red and red.full else None, channel="lq", upload_id=upload.upload_id,
                after=tuple(after)))
        fut.add_done_callback(partial(self._settled, upload, idx, verdict))

    def _settled(self, upload: Upload, idx: int, verdict: Verdict, fut: asyncio.Future[float]) -> None:
        accepted = verdict.accepted
        if fut.cancelled() or fut.exception() is not None:
            if accepted is not None:  # undo the claims; judge it again shortly
                self.accepted.discard(accepted.number)
                if accepted.quota is not None:
                    self.quota.give_back(accepted.seller, *accepted.quota)
                if accepted.red is not None:
                    self.reds.undo(accepted.red)
            self._push(time.time() + RETRY_S, upload, idx)
            self._wake.set()
            return
        upload.remaining.discard(idx)
        if accepted is not None:
            self._on_accepted()
        if not upload.remaining:
            self.pending.pop(upload.seq, None)


def _json_list(items: list[Any]) -> str:
    return json.dumps(items, ensure_ascii=True) if items else "[]"  # most are empty: skip the encoder


def _text(value: str) -> str:
    """Text SQLite can store (a lone surrogate would fail the commit, and then every retry)."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def restored(stored: store.StoredUpload, policy: Any) -> Upload:
    """An upload found unfinished at start-up, ready to ``admit`` (no faults: they did not survive)."""
    invoices = json.loads(stored.body)["invoices"]
    remaining = set(range(len(invoices))) - stored.done
    return Upload(stored.seq, stored.upload_id, stored.received_at, stored.received_real, stored.path, invoices,
                  policy, [[] for _ in invoices], remaining)

"""The asynchronous channel assembled: its parts, built at start-up from the database."""

from __future__ import annotations

import sqlite3
from typing import Any

from fakes.bureau.clock import BureauClock
from fakes.bureau.errors import ApiError
from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.ledger import Ledger, record_with_status
from fakes.bureau.lq import store
from fakes.bureau.lq.confirmations import ConfirmationBook
from fakes.bureau.lq.processor import Processor, restored
from fakes.bureau.lq.ranges import RangeBook
from fakes.bureau.lq.red import RedDesk
from fakes.bureau.lq.uploads import UploadDesk
from fakes.bureau.service import Bureau, hidden


def load(path: str) -> store.LqLoaded:
    """The channel's start-up state (creating its tables on a new database)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return store.load(conn)
    finally:
        conn.close()


class LqChannel:
    def __init__(self, bureau: Bureau, board: FaultBoard, loaded: store.LqLoaded) -> None:
        settings, ledger, clock = bureau.settings, bureau.ledger, bureau.clock
        self.ledger: Ledger = ledger
        self.clock: BureauClock = clock
        self.ranges = RangeBook(ledger, clock, settings.region, loaded)
        self.confirmations = ConfirmationBook(settings, ledger, clock, loaded)
        self.reds = RedDesk(ledger, self.confirmations, loaded)
        self.accepted = loaded.accepted
        self.uploads = UploadDesk(settings, ledger, clock, board, loaded)

        def counted() -> None:
            bureau.invoices += 1

        self.processor = Processor(settings, ledger, clock, board, self.ranges, bureau.quota, self.reds,
                                   self.accepted, bureau.take_seq, counted)
        for stored in loaded.unfinished:
            self.processor.admit(restored(stored, bureau.default_policy))

    def start(self) -> None:
        self.processor.start()

    async def stop(self) -> None:
        await self.processor.stop()

    def invoice(self, number: str, lag_s: float) -> dict[str, Any]:
        """An accepted invoice by its number (the only look-up on this channel)."""
        row = self.ledger.read_one("SELECT record, status, committed_at FROM invoices WHERE number = ?"
                                   " AND channel = 'lq'", (number,))
        if row is None or hidden(row[2], lag_s):
            raise ApiError(404, "NOT_FOUND", f"no accepted invoice numbered {number!r}")
        return record_with_status(row[0], row[1])

    async def reset(self) -> None:
        """Forget everything of the channel; its sequences keep counting."""
        hwms = {"lq_ranges": self.ranges.reset(), "lq_uploads": self.uploads.reset(),
                "lq_confirmations": self.confirmations.reset()}
        self.processor.reset()
        self.reds.reset()
        self.accepted.clear()
        await self.ledger.submit_statements(store.reset_statements(hwms))

    def stats(self) -> dict[str, Any]:
        return {"ranges": self.ranges.count, "uploads_unfinished": len(self.processor.pending),
                "invoices_waiting": self.processor.waiting, "invoices_held": self.processor.held,
                "accepted": len(self.accepted)}

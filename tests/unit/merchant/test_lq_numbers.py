"""The number book: range answers, number formats, and durability of ranges and counters."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fakes.merchant.lq_numbers import NumberBook, RangeAnswerError, parse_range

ROOT = Path(__file__).resolve().parents[3]


def answer(first: int, count: int, year: int = 2026, region: str = "11") -> dict[str, object]:
    yy = f"{year % 100:02d}"
    return {"range_id": f"R{yy}{first:014d}", "year": year, "first": f"{yy}{region}70{first:014d}",
            "last": f"{yy}{region}70{first + count - 1:014d}", "count": count}


def test_numbers_are_20_digits_from_the_range_in_order(tmp_path: Path) -> None:
    async def go() -> list[str]:
        book = NumberBook(tmp_path / "n.sqlite3")
        book.open()
        await book.add(answer(1, 5))
        got = await book.take(2026, 3) + await book.take(2026, 2)
        await book.close()
        return got

    numbers = asyncio.run(go())
    assert numbers == [f"261170{seq:014d}" for seq in range(1, 6)]
    assert all(len(n) == 20 and n.isdigit() for n in numbers)


def test_take_spans_ranges_of_the_year_only_and_refuses_beyond_what_is_left(tmp_path: Path) -> None:
    async def go() -> None:
        book = NumberBook(None)
        await book.add(answer(10, 2))
        await book.add(answer(100, 3))
        await book.add(answer(500, 4, year=2027))
        assert (book.left(2026), book.left(2027), book.left(2025)) == (5, 4, 0)
        assert await book.take(2026, 4) == ["26117000000000000010", "26117000000000000011",
                                            "26117000000000000100", "26117000000000000101"]
        assert await book.take(2027, 1) == ["27117000000000000500"]
        with pytest.raises(ValueError, match="only 1 numbers left for 2026"):
            await book.take(2026, 2)

    asyncio.run(go())


def test_a_replayed_range_answer_changes_nothing(tmp_path: Path) -> None:
    async def go() -> None:
        book = NumberBook(tmp_path / "n.sqlite3")
        book.open()
        await book.add(answer(1, 3))
        await book.take(2026, 2)
        await book.add(answer(1, 3))  # the same range again (a 200 replay)
        assert book.left(2026) == 1
        await book.close()

    asyncio.run(go())


@pytest.mark.parametrize("bad", [
    {"range_id": "R1", "year": 2026, "first": "2611700000000000001", "last": "26117000000000000002"},  # 19 digits
    {"range_id": "R1", "year": 2027, "first": "26117000000000000001", "last": "26117000000000000002"},  # year
    {"range_id": "R1", "year": 2026, "first": "26117000000000000009", "last": "26117000000000000002"},  # order
    {"range_id": "R1", "year": 2026, "first": "26117000000000000001", "last": "26127000000000000002"},  # prefix
    {"year": 2026, "first": "26117000000000000001", "last": "26117000000000000002"},
])
def test_malformed_range_answers_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(RangeAnswerError):
        parse_range(bad)


def test_ranges_counters_and_intents_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "n.sqlite3"

    async def first() -> list[str]:
        book = NumberBook(path)
        book.open()
        await book.add(answer(1, 10))
        taken = await book.take(2026, 4)
        intent = await book.new_intent(1000)
        assert book.intent == intent
        return taken  # no close: as if the process died here

    async def second() -> tuple[list[str], str | None]:
        book = NumberBook(path)
        book.open()
        got = await book.take(2026, 6)
        rid = book.intent.request_id if book.intent else None
        await book.close()
        return got, rid

    taken = asyncio.run(first())
    after, intent = asyncio.run(second())
    assert not set(taken) & set(after) and len(after) == 6
    assert intent is not None and intent.startswith("MR-")  # the allocation retry replays the same request


def test_the_memory_book_forgets_everything(tmp_path: Path) -> None:
    async def go() -> None:
        book = NumberBook(None)
        book.open()
        await book.add(answer(1, 10))
        await book.take(2026, 3)
        assert not book.durable and NumberBook(None).left(2026) == 0

    asyncio.run(go())


def test_void_stops_using_the_range_of_a_number(tmp_path: Path) -> None:
    async def go() -> None:
        book = NumberBook(tmp_path / "n.sqlite3")
        book.open()
        await book.add(answer(1, 10))
        await book.add(answer(50, 10))
        await book.void("26117000000000000003")
        assert book.left(2026) == 10
        assert (await book.take(2026, 1)) == ["26117000000000000050"]
        await book.close()
        again = NumberBook(tmp_path / "n.sqlite3")
        again.open()
        assert again.left(2026) == 9
        await again.close()

    asyncio.run(go())


TAKER = """
import asyncio, sys
from pathlib import Path
from fakes.merchant.lq_numbers import NumberBook

async def main():
    book = NumberBook(Path(sys.argv[1]))
    book.open()
    if book.left(2026) == 0:
        await book.add({"range_id": "R1", "year": 2026, "first": "26117000000000000001",
                        "last": "26117000000000100000", "count": 100000})
    while True:
        for n in await book.take(2026, 3):
            print(n, flush=True)

asyncio.run(main())
"""


def test_sigkill_while_numbering_never_reuses_a_number(tmp_path: Path) -> None:
    """A process takes numbers as fast as it can and prints each once ``take`` returned; it is
    killed with SIGKILL twice. Every number printed is unique across the three lives."""
    path, seen = tmp_path / "n.sqlite3", list[str]()
    for life in range(3):
        out = tmp_path / f"out{life}.txt"
        with open(out, "w") as sink:
            proc = subprocess.Popen([sys.executable, "-c", TAKER, str(path)], cwd=ROOT, stdout=sink)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and out.stat().st_size < 20 * 21 and proc.poll() is None:
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        seen.extend(line for line in out.read_text().splitlines() if len(line) == 20)
    assert len(seen) >= 60
    assert len(seen) == len(set(seen)), "a number was handed out twice across a SIGKILL"

"""``slicer``: cut each chunk into pieces of about ``average_size`` ± ``size_variation`` bytes,
sent as separate writes ``delay`` µs apart (the last piece waits too).

Chunks are halved recursively until every piece is at most average + variation; each split
point moves by a uniform integer in [-variation, variation). Toxiproxy crashes on
``average_size`` 0 and can panic when the variation reaches the average; here the first is a
400 and split points are clamped inside the chunk, so any variation ≥ 0 is safe.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState, register


def split_points(size: int, average: int, variation: int, rng: random.Random) -> list[int]:
    """Piece boundaries (end offsets, ascending) for a chunk of ``size`` bytes."""
    limit = average + variation
    ends: list[int] = []
    stack = [(0, size)]
    while stack:
        start, end = stack.pop()
        if end - start <= limit:
            ends.append(end)
            continue
        mid = start + (end - start) // 2
        if variation > 0:
            mid += rng.randrange(-variation, variation)
        mid = min(max(mid, start + 1), end - 1)
        stack.append((mid, end))    # right half popped after the left half
        stack.append((start, mid))
    return ends


@register
class SlicerToxic(Toxic):
    type_name = "slicer"
    attribute_names = ("average_size", "size_variation", "delay")

    def problem(self) -> str | None:
        avg, var = self.attributes["average_size"], self.attributes["size_variation"]
        if avg <= 0:
            return f"slicer average_size must be greater than 0, got {avg}"
        if var < 0:
            return f"slicer size_variation must not be negative, got {var}"
        return None

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        avg, var = self.attributes["average_size"], self.attributes["size_variation"]
        delay_s = max(0, self.attributes["delay"]) / 1_000_000
        loop = state.link.loop
        start, pacing = 0, delay_s > 0
        for end in split_points(len(chunk.data), avg, var, state.rng):
            yield Chunk(chunk.data[start:end], chunk.ts)
            start = end
            if pacing and not await self.sleep_until(loop, loop.time() + delay_s):
                pacing = False      # interrupted: the rest goes out without delay

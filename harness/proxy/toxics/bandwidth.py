"""``bandwidth``: limit a direction to ``rate`` KB/s (1 KB = 1000 bytes); ``rate`` ≤ 0 is no limit.

Each chunk is held for its own transmit time (no credit for idle time, so no burst); chunks
larger than 100 ms worth of bytes go out in 100 ms pieces. Like Toxiproxy's time debt, time
overslept (a busy scheduler) is credited to the next piece, so lateness does not accumulate
over a transfer. An interruption sends the rest at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState, register


@register
class BandwidthToxic(Toxic):
    type_name = "bandwidth"
    attribute_names = ("rate",)

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        rate = self.attributes["rate"]
        if rate <= 0:
            yield chunk
            return
        loop = state.link.loop
        piece = rate * 100                  # bytes per 100 ms
        data = chunk.data
        while data:
            part, data = data[:piece], data[piece:]
            state.debt += len(part) / (rate * 1000.0)
            start = loop.time()
            if state.debt > 0:
                finished = await self.sleep_until(loop, start + state.debt)
                # Only oversleep becomes credit; waiting for data never does (no bursts).
                state.debt -= loop.time() - start
                if not finished:
                    state.debt = 0.0
                    yield Chunk(part + data, chunk.ts)
                    return
            yield Chunk(part, chunk.ts)

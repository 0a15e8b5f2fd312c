"""``latency``: delay each chunk by ``latency`` ms plus a jitter in [-jitter, jitter) ms.

The delay runs from the chunk's timestamp, which each latency toxic moves forward to its
release time: stacked toxics add up, time spent queued before a toxic counts against its
delay, and a steady stream is shifted without losing throughput (the link reads ahead up to
1024 chunks). An update or removal releases the waiting chunk at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState, register


@register
class LatencyToxic(Toxic):
    type_name = "latency"
    attribute_names = ("latency", "jitter")
    buffers = True

    def delay_ms(self, state: ToxicState) -> int:
        jitter = self.attributes["jitter"]
        extra = state.rng.randrange(-jitter, jitter) if jitter > 0 else 0
        return self.attributes["latency"] + extra

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        delay = self.delay_ms(state)
        if delay > 0:
            deadline = chunk.ts + delay / 1000.0
            loop = state.link.loop
            if await self.sleep_until(loop, deadline):
                chunk.ts = deadline
            else:
                chunk.ts = loop.time()
        yield chunk

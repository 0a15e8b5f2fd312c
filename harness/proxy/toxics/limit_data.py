"""``limit_data``: let ``bytes`` bytes through on each link, then close the connection.

The count lives in the link's state, so it survives updates; a chunk that crosses the limit
is cut to what remains; ``bytes`` 0 closes on the first chunk without delivering anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from harness.proxy.toxics.base import END, Chunk, EndOfStream, Toxic, ToxicState, register


@register
class LimitDataToxic(Toxic):
    type_name = "limit_data"
    attribute_names = ("bytes",)

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        remaining = self.attributes["bytes"] - state.count
        if remaining > 0:
            part = chunk.data[:remaining]
            state.count += len(part)
            yield Chunk(part, chunk.ts)
        if state.count >= self.attributes["bytes"]:
            yield END

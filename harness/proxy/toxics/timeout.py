"""``timeout``: swallow all data of the direction; close the connection ``timeout`` ms later.

The clock starts when the toxic's worker starts on the link (connection set-up, toxic added,
toxic updated); ``timeout`` 0 never closes. Removing the toxic closes every connection it was
attached to, even where toxicity had left it inactive (Toxiproxy ≥ 2.1.1).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState, register


@register
class TimeoutToxic(Toxic):
    type_name = "timeout"
    attribute_names = ("timeout",)

    def started(self, state: ToxicState) -> None:
        ms = self.attributes["timeout"]
        if ms > 0:
            state.timer = state.link.loop.call_later(ms / 1000.0, state.link.close_connection)

    def stopped(self, state: ToxicState, removed: bool) -> None:
        state.cancel_timer()
        if removed:
            state.link.close_connection()

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        return
        yield  # an async generator that yields nothing: the data is thrown away

"""``reset_peer``: on the first chunk (or end-of-stream) of its direction, wait ``timeout`` ms,
then reset the connection (SO_LINGER 0: the peers see ECONNRESET).

The triggering chunk and everything after it are thrown away. Unlike Toxiproxy, the RST is
tied to the toxic firing, not to its presence when the connection was set up (Toxiproxy
issue #603); removal never blocks, and a reset already triggered still happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState, register


@register
class ResetPeerToxic(Toxic):
    type_name = "reset_peer"
    attribute_names = ("timeout",)

    def _trigger(self, state: ToxicState) -> None:
        if state.fired:
            return
        state.fired = True
        delay = max(0, self.attributes["timeout"]) / 1000.0
        link = state.link
        link.loop.call_later(delay, lambda: link.close_connection(rst=True))

    def stopped(self, state: ToxicState, removed: bool) -> None:
        pass  # a triggered reset is not cancelled

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        self._trigger(state)
        return
        yield

    async def end(self, state: ToxicState) -> bool:
        self._trigger(state)
        return False

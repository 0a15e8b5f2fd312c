"""``slow_close``: pass data unchanged, but hold this direction's end-of-stream for ``delay`` ms.

Interrupted by removal, the close goes on at once; by an update, a fresh full delay starts.
"""

from __future__ import annotations

from harness.proxy.toxics.base import Toxic, ToxicState, register


@register
class SlowCloseToxic(Toxic):
    type_name = "slow_close"
    attribute_names = ("delay",)

    async def end(self, state: ToxicState) -> bool:
        loop = state.link.loop
        while not self.removed:
            if await self.sleep_until(loop, loop.time() + self.attributes["delay"] / 1000.0):
                break
        return True

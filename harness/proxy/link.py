"""One direction of one proxied connection: a source socket, a chain of toxics, a destination.

::

    source ──read──▶ [fast path: write straight through]  ──────────────▶ destination
                   └▶ buffer ─▶ writer task ─▶ toxic 1 ─▶ … ─▶ toxic n ─▶ destination

With no toxic in its direction a link is a plain relay: each read is written to the
destination at once (TCP_NODELAY on both sockets). As soon as the direction has a toxic, reads
are stamped and queued, and one writer task pushes each chunk through the chain in order.
The chain is the proxy's live list, so toxics added, updated or removed act on open links:
a chunk visits every toxic present when it gets there, exactly once, and nothing is dropped or
reordered. When the chain empties and the buffer drains, the link drops back to the fast path.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from typing import TYPE_CHECKING

from harness.proxy.toxics.base import Chunk, EndOfStream, Toxic, ToxicState

if TYPE_CHECKING:
    from harness.proxy.connection import Connection, Side

log = logging.getLogger("harness.proxy.link")
_EOF = None
_BUFFER_PLAIN = 4        # chunks read ahead without a latency toxic (backpressure, as Go)
_BUFFER_LATENCY = 1024   # Go's latency toxic buffers 1024 chunks


class Link:
    def __init__(self, conn: Connection, direction: str, chain: list[Toxic],
                 src: Side, dst: Side) -> None:
        self.conn = conn
        self.direction = direction
        self.chain = chain
        self.src = src
        self.dst = dst
        self.loop = conn.loop
        self.states: dict[int, ToxicState] = {}
        self.buffer: deque[Chunk | None] = deque()
        self.writer: asyncio.Task[None] | None = None
        self.ended = False
        self._wake: asyncio.Future[None] | None = None

    # -- toxics attached live ----------------------------------------------------------------
    def _rng(self, toxic: Toxic) -> random.Random:
        return self.conn.proxy.seeds.stream(
            self.conn.proxy.name, toxic.name, self.conn.index, self.direction)

    def update_fast_path(self) -> None:
        """Let the source write straight to the destination while nothing needs the chain."""
        plain = not self.chain and self.writer is None and not self.ended and not self.buffer
        self.src.fast_dst = self.dst.transport if plain else None

    def attach(self, toxic: Toxic) -> None:
        self.src.fast_dst = None
        state = ToxicState(self, self._rng(toxic))
        self.states[toxic.uid] = state
        self._start(toxic, state)

    def restart(self, toxic: Toxic) -> None:
        state = self.states.get(toxic.uid)
        if state is not None:
            toxic.stopped(state, removed=False)
            self._start(toxic, state)

    def detach(self, toxic: Toxic) -> None:
        state = self.states.pop(toxic.uid, None)
        if state is not None:
            toxic.stopped(state, removed=True)

    @staticmethod
    def _start(toxic: Toxic, state: ToxicState) -> None:
        # Toxicity is drawn whenever the worker (re)starts on this link.
        state.active = toxic.toxicity >= 1 or (toxic.toxicity > 0 and state.rng.random() < toxic.toxicity)
        if state.active:
            toxic.started(state)

    def close_connection(self, rst: bool = False) -> None:
        self.conn.close(rst=rst)

    # -- data from the source ------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.ended:
            return
        if self.writer is None and not self.chain:
            self.dst.write(data)
            return
        self.buffer.append(Chunk(data, self.loop.time()))
        self._kick()

    def feed_eof(self) -> None:
        if self.ended:
            return
        if self.writer is None and not self.chain:
            self.ended = True
            self.src.fast_dst = None
            self.conn.close()
            return
        self.buffer.append(_EOF)
        self._kick()

    def _kick(self) -> None:
        limit = _BUFFER_LATENCY if any(t.buffers for t in self.chain) else _BUFFER_PLAIN
        if len(self.buffer) >= limit:
            self.src.hold("buffer")
        if self.writer is None:
            self.writer = self.loop.create_task(self._write_loop())
        elif self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    # -- the writer --------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        try:
            while not self.ended:
                if not self.buffer:
                    if not self.chain:
                        self.writer = None
                        self.update_fast_path()     # back to the fast path
                        return
                    self._wake = self.loop.create_future()
                    await self._wake
                    continue
                item = self.buffer.popleft()
                if len(self.buffer) < _BUFFER_PLAIN:
                    self.src.release("buffer")
                if item is _EOF:
                    await self._push_eof(frozenset())
                else:
                    await self._push(item, frozenset())
        except asyncio.CancelledError:
            raise
        except Exception:       # a failing toxic must not leave the connection hanging
            log.exception("link %s of %s failed; closing the connection",
                          self.direction, self.conn.proxy.name)
            self.ended = True
            self.conn.close(abort=True)
        finally:
            self.writer = None

    def _next(self, done: frozenset[int]) -> tuple[Toxic, ToxicState] | None:
        for toxic in self.chain:
            if toxic.uid not in done:
                state = self.states.get(toxic.uid)
                if state is not None:
                    return toxic, state
        return None

    async def _push(self, chunk: Chunk, done: frozenset[int]) -> None:
        if self.ended:
            return
        step = self._next(done)
        if step is None:
            await self.dst.write_and_drain(chunk.data)
            return
        toxic, state = step
        done = done | {toxic.uid}
        if not state.active:
            await self._push(chunk, done)
            return
        async for out in toxic.pipe(chunk, state):
            if isinstance(out, EndOfStream):
                await self._push_eof(done)
                return
            await self._push(out, done)

    async def _push_eof(self, done: frozenset[int]) -> None:
        if self.ended:
            return
        step = self._next(done)
        while step is not None:
            toxic, state = step
            done = done | {toxic.uid}
            if state.active and not await toxic.end(state):
                self.ended = True       # swallowed (reset_peer): the toxic closes it
                return
            step = self._next(done)
        self.ended = True
        self.conn.close()

    def dispose(self) -> None:
        """The connection is gone: stop timers and the writer (never from inside the writer)."""
        self.ended = True
        self.src.fast_dst = None
        for state in self.states.values():
            state.cancel_timer()
        task = self.writer
        if task is not None and task is not asyncio.current_task():
            task.cancel()

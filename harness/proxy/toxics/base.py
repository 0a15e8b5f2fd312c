"""The toxic framework: a toxic's configuration, its per-link worker state, the registry.

A ``Toxic`` is one configured toxic of a proxy, shared by every link of its direction. Its
work on one link (one connection, one direction) keeps a ``ToxicState``: whether toxicity let
it act there, its own random stream, and whatever the toxic remembers (``limit_data``'s byte
count survives updates because the state does).

A link pushes each chunk through the chain in order; a toxic's ``pipe`` yields zero or more
chunks (or ``END`` to end the stream early) and ``end`` decides what happens to the
end-of-stream. Waits go through ``Toxic.sleep_until`` so that an update or removal interrupts
them at once, which is how held chunks are released without loss when the chain changes.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


@dataclass(slots=True)
class Chunk:
    """Bytes read from a source socket in one read, stamped with the loop time they arrived."""

    data: bytes
    ts: float


class EndOfStream:
    """Yielded by a toxic to end its link's stream here (``limit_data`` reaching its limit)."""


END = EndOfStream()


class LinkHandle(Protocol):
    """What a toxic may ask of the link it works on."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def close_connection(self, rst: bool = False) -> None:
        """Tear the whole connection down: FIN both ways, or RST when ``rst``."""
        ...


class ToxicState:
    """One toxic's worker on one link."""

    __slots__ = ("link", "rng", "active", "timer", "count", "fired", "debt")

    def __init__(self, link: LinkHandle, rng: random.Random) -> None:
        self.link = link
        self.rng = rng
        self.active = False
        self.timer: asyncio.TimerHandle | None = None
        self.count = 0          # limit_data: bytes passed on this link
        self.fired = False      # reset_peer: triggered already
        self.debt = 0.0         # bandwidth: seconds of transmit time owed (< 0: overslept)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


_uids = itertools.count(1)


class Toxic:
    """Base class: a pass-through. Subclasses set ``type_name`` and ``attribute_names``."""

    type_name: ClassVar[str] = ""
    attribute_names: ClassVar[tuple[str, ...]] = ()
    buffers: ClassVar[bool] = False   # reads ahead (latency): the link buffers 1024 chunks

    def __init__(self, name: str, stream: str, toxicity: float, attributes: dict[str, int]) -> None:
        self.uid = next(_uids)
        self.name = name
        self.stream = stream            # echoed as the client sent it
        self.direction = stream.lower()
        self.toxicity = toxicity
        self.attributes = {k: int(attributes.get(k) or 0) for k in self.attribute_names}
        self.removed = False
        self._waiters: set[asyncio.Future[bool]] = set()

    # -- configuration -------------------------------------------------------------------
    def problem(self) -> str | None:
        """A 400 message when the attributes cannot work (Toxiproxy would crash); else None."""
        return None

    def to_json(self) -> dict[str, Any]:
        from harness.proxy.jsonio import float32_json

        return {
            "attributes": dict(self.attributes),
            "name": self.name,
            "type": self.type_name,
            "stream": self.stream,
            "toxicity": float32_json(self.toxicity),
        }

    # -- life on a link ------------------------------------------------------------------
    def started(self, state: ToxicState) -> None:
        """The worker (re)started on a link and toxicity chose it to act."""

    def stopped(self, state: ToxicState, removed: bool) -> None:
        """The worker stops on a link: ``removed`` for good, else restarting after an update."""
        state.cancel_timer()

    async def pipe(self, chunk: Chunk, state: ToxicState) -> AsyncIterator[Chunk | EndOfStream]:
        """Transform one chunk (only called when ``state.active``)."""
        yield chunk

    async def end(self, state: ToxicState) -> bool:
        """The source ended: True passes the end-of-stream on, False swallows it."""
        return True

    # -- interruptible waits ---------------------------------------------------------------
    async def sleep_until(self, loop: asyncio.AbstractEventLoop, deadline: float) -> bool:
        """Wait until loop time ``deadline``; False when an update or removal interrupted it."""
        if deadline <= loop.time():
            return True
        fut: asyncio.Future[bool] = loop.create_future()
        handle = loop.call_at(deadline, _resolve, fut, True)
        self._waiters.add(fut)
        try:
            return await fut
        finally:
            handle.cancel()
            self._waiters.discard(fut)

    def interrupt(self) -> None:
        """Wake every wait of this toxic on every link (an update or a removal happened)."""
        for fut in list(self._waiters):
            _resolve(fut, False)


def _resolve(fut: asyncio.Future[bool], value: bool) -> None:
    if not fut.done():
        fut.set_result(value)


REGISTRY: dict[str, type[Toxic]] = {}


def register(cls: type[Toxic]) -> type[Toxic]:
    """Class decorator: make a toxic type available to the API under ``cls.type_name``."""
    REGISTRY[cls.type_name] = cls
    return cls

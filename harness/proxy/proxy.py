"""One proxy: its listener, its open connections and its two toxic chains.

``listen`` is the string the client gave until the first successful bind, then the address
actually bound; re-enabling rebinds that address, so a port-0 proxy keeps its port.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from harness.proxy import listen as addr
from harness.proxy.connection import ClientSide, Connection
from harness.proxy.errors import TOXIC_EXISTS, TOXIC_NOT_FOUND, fail
from harness.proxy.link import Link
from harness.proxy.rng import SeedSource
from harness.proxy.toxics.base import Toxic

DIRECTIONS = ("upstream", "downstream")


class Proxy:
    def __init__(self, name: str, listen: str, upstream: str, seeds: SeedSource) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.seeds = seeds
        self.loop = asyncio.get_running_loop()
        self.server: asyncio.AbstractServer | None = None
        self.connections: set[Connection] = set()
        self.chains: dict[str, list[Toxic]] = {d: [] for d in DIRECTIONS}
        self.links: dict[str, set[Link]] = {d: set() for d in DIRECTIONS}
        self._conn_ids = itertools.count()

    @property
    def enabled(self) -> bool:
        return self.server is not None

    def next_connection_index(self) -> int:
        return next(self._conn_ids)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},
            "toxics": [t.to_json() for t in self.toxics()],
        }

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind the stored listen address (ApiError 500 on failure) and accept connections."""
        if self.server is not None:
            return
        requested = await addr.listen_address(self.listen)
        sock = addr.bind(requested)
        try:
            self.server = await self.loop.create_server(lambda: ClientSide(self), sock=sock)
        except OSError as exc:
            sock.close()
            raise fail((f"listen tcp {requested}: {exc}", 500)) from None
        self.listen = str(addr.bound_address(sock, requested))

    def stop(self) -> None:
        """Close the listener (new connects are refused) and every open connection at once."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for conn in list(self.connections):
            conn.close(abort=True)

    # -- toxics ------------------------------------------------------------------------------
    def toxics(self) -> list[Toxic]:
        return self.chains["upstream"] + self.chains["downstream"]

    def find_toxic(self, name: str) -> Toxic:
        for toxic in self.toxics():
            if toxic.name == name:
                return toxic
        raise fail(TOXIC_NOT_FOUND)

    def add_toxic(self, toxic: Toxic) -> None:
        if any(t.name == toxic.name for t in self.toxics()):
            raise fail(TOXIC_EXISTS)
        self.chains[toxic.direction].append(toxic)
        for link in list(self.links[toxic.direction]):
            link.attach(toxic)

    def update_toxic(self, toxic: Toxic, attributes: dict[str, int], toxicity: float | None) -> None:
        toxic.attributes.update(attributes)
        if toxicity is not None:
            toxic.toxicity = toxicity
        toxic.interrupt()
        for link in list(self.links[toxic.direction]):
            link.restart(toxic)

    def remove_toxic(self, toxic: Toxic) -> None:
        self.chains[toxic.direction].remove(toxic)
        toxic.removed = True
        toxic.interrupt()
        for link in list(self.links[toxic.direction]):
            link.detach(toxic)

    def remove_all_toxics(self) -> None:
        for toxic in self.toxics():
            self.remove_toxic(toxic)

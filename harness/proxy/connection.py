"""A proxied connection: the client socket, the upstream socket and the two links between them.

Closing follows Toxiproxy (§6.3 of the reference): there is no half-close. When either link's
stream ends, both sockets are fully closed (FIN), or reset (SO_LINGER 0, RST) when a
``reset_peer`` toxic fired. Disabling or deleting the proxy aborts every connection at once.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import TYPE_CHECKING, cast

from harness.proxy.link import Link

if TYPE_CHECKING:
    from harness.proxy.proxy import Proxy

DIAL_TIMEOUT_S = 10.0   # Go dials without a timeout; a bound keeps a blackholed upstream finite
WRITE_HIGH_WATER = 1 << 20  # pause the peer past 1 MiB queued: fewer pause/resume cycles in bulk


def _nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Side(asyncio.Protocol):
    """One socket of a connection; reads feed ``out_link``, writes come from the other link."""

    def __init__(self, conn: Connection | None = None) -> None:
        self.conn = conn
        self.transport: asyncio.Transport | None = None
        self.out_link: Link | None = None       # the link this socket is the source of
        self.in_link: Link | None = None        # the link this socket is the destination of
        self._holds: set[str] = set()
        self._drained: asyncio.Future[None] | None = None
        self.write_paused = False
        self.fast_dst: asyncio.Transport | None = None  # set while the outgoing link is a plain relay
        self.early: list[bytes] = []    # read before the links existed (uvloop may start
        self.early_eof = False          # reading right after connection_made)

    # -- asyncio callbacks --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        _nodelay(transport)
        self.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)

    def data_received(self, data: bytes) -> None:
        fast = self.fast_dst
        if fast is not None:        # the fast path: no toxic in this direction
            try:
                fast.write(data)
            except RuntimeError:    # uvloop: the peer's handle closed before we heard of it
                self.fast_dst = None
                if self.conn is not None:
                    self.conn.close()
        elif self.out_link is not None:
            self.out_link.feed(data)
        else:
            self.early.append(data)
            self.hold("early")

    def eof_received(self) -> bool:
        if self.out_link is not None:
            self.out_link.feed_eof()
        else:
            self.early_eof = True
        return True     # keep the transport: the connection decides when to close it

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.out_link is not None:
            self.out_link.feed_eof()
        elif self.conn is not None:
            self.conn.close()
        self._wake_writer()

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.in_link is not None:
            self.in_link.src.hold("peer")

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.in_link is not None:
            self.in_link.src.release("peer")
        self._wake_writer()

    # -- flow control ------------------------------------------------------------------------
    def hold(self, reason: str) -> None:
        # Pause every time, not only on the first reason: uvloop starts reading right after
        # connection_made, silently undoing a pause made inside it.
        self._holds.add(reason)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def release(self, reason: str) -> None:
        if reason in self._holds:
            self._holds.discard(reason)
            if not self._holds and self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    async def write_and_drain(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(data)
        if self.write_paused:
            self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def _wake_writer(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)


class ClientSide(Side):
    """The accepted client socket: its arrival creates the connection and dials upstream."""

    def __init__(self, proxy: Proxy) -> None:
        super().__init__()
        self.proxy = proxy

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.hold("dial")       # nothing is read before the upstream is connected
        self.conn = Connection(self.proxy, self)


class Connection:
    def __init__(self, proxy: Proxy, client: ClientSide) -> None:
        self.proxy = proxy
        self.loop = proxy.loop
        self.index = proxy.next_connection_index()
        self.client = client
        self.upstream = Side(self)
        self.links: list[Link] = []
        self.closed = False
        proxy.connections.add(self)
        self._dial_task = self.loop.create_task(self._dial())

    async def _dial(self) -> None:
        host, _, port = self.proxy.upstream.rpartition(":")
        host = host.strip("[]")
        try:
            await asyncio.wait_for(
                self.loop.create_connection(lambda: self.upstream, host or "127.0.0.1", int(port)),
                DIAL_TIMEOUT_S)
        except (OSError, ValueError, asyncio.TimeoutError):
            self.close()    # the client sees a connect and then EOF, as with Toxiproxy
            return
        if self.closed:
            if self.upstream.transport is not None:
                self.upstream.transport.abort()
            return
        up = Link(self, "upstream", self.proxy.chains["upstream"], self.client, self.upstream)
        down = Link(self, "downstream", self.proxy.chains["downstream"], self.upstream, self.client)
        self.client.out_link, self.upstream.in_link = up, up
        self.upstream.out_link, self.client.in_link = down, down
        self.links = [up, down]
        for link in self.links:
            for toxic in link.chain:
                link.attach(toxic)
            link.update_fast_path()
            self.proxy.links[link.direction].add(link)
        for side, link in ((self.client, up), (self.upstream, down)):
            for data in side.early:
                link.feed(data)
            side.early.clear()
            if side.early_eof or side.transport is None:
                link.feed_eof()
        if not self.closed:
            self.upstream.release("early")
            self.client.release("early")
            self.client.release("dial")

    def close(self, rst: bool = False, abort: bool = False) -> None:
        """Tear down both sockets (idempotent): FIN, RST when ``rst``, or at once when ``abort``."""
        if self.closed:
            return
        self.closed = True
        if not self._dial_task.done() and self._dial_task is not asyncio.current_task():
            self._dial_task.cancel()
        for link in self.links:
            link.dispose()
            self.proxy.links[link.direction].discard(link)
        self.proxy.connections.discard(self)
        for side in (self.client, self.upstream):
            transport = side.transport
            if transport is None:
                continue
            if rst:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    try:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                transport.abort()
            elif abort:
                transport.abort()
            else:
                transport.close()

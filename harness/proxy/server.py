"""The server process: the API listener plus the proxy table, started and stopped as one.

``serve`` runs until its ``stop`` event is set (the CLI sets it on SIGTERM/SIGINT); on the way
out every proxy is stopped, so no listener or proxied connection outlives the server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from pathlib import Path
from typing import Any

from harness.proxy.api import Api, parse_populate
from harness.proxy.errors import ApiError
from harness.proxy.http import serve_connection
from harness.proxy.rng import SeedSource

log = logging.getLogger("harness.proxy")


class ConfigError(Exception):
    """The ``--config`` file cannot be used; the message names the file, entry and value."""


class ProxyServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8474, seed: int | None = None) -> None:
        self.host = host
        self.port = port
        self.api = Api(SeedSource(seed))
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)     # tracked so close() ends idle keep-alive connections
        try:
            await serve_connection(reader, writer, self.api.handle)
        except asyncio.CancelledError:
            pass                    # shutting down: end quietly
        finally:
            self._clients.discard(task)

    async def start(self) -> None:
        """Bind the API address (OSError when it cannot) and start answering."""
        # Go binds `localhost` to 127.0.0.1 only; asyncio would add ::1 as a second socket.
        host = "127.0.0.1" if self.host == "localhost" else self.host
        self._server = await asyncio.start_server(
            self._client, host, self.port,
            reuse_address=True)
        sock = self._server.sockets[0]
        self.port = int(sock.getsockname()[1])
        for s in self._server.sockets:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def populate_file(self, path: Path) -> None:
        """Run populate from a JSON file, as ``toxiproxy-server -config`` does."""
        try:
            raw: Any = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON: {exc}") from None
        try:
            entries = parse_populate(raw)
        except ApiError as err:
            raise ConfigError(f"{path}: {err.message} (expected a JSON array of "
                              '{"name", "upstream", "listen"?, "enabled"?})') from None
        async with self.api.lock:
            for i, entry in enumerate(entries):
                try:
                    await self.api.populate_one(entry)
                except ApiError as err:
                    raise ConfigError(f"{path}: [{i}] (proxy {entry['name']!r}, listen "
                                      f"{entry['listen']!r}): {err.message}") from None

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self.api.close_all()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.wait(list(self._clients), timeout=2)

    async def serve(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.close()


def new_loop() -> asyncio.AbstractEventLoop:
    """A uvloop loop when uvloop is installed (faster relays), else the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()

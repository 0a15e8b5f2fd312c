"""Run the embedded server in a background thread of the current process.

For tests and for a harness that wants a proxy without a subprocess::

    with EmbeddedServer(seed=7) as server:
        url = server.url          # http://127.0.0.1:<port>
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from harness.proxy.server import ProxyServer, new_loop


class EmbeddedServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None) -> None:
        self.server = ProxyServer(host, port, seed)
        self.loop = new_loop()
        self._thread = threading.Thread(target=self._run, name="embedded-toxiproxy", daemon=True)
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.server.close()
            await asyncio.sleep(0.01)   # let transports finish closing

    def start(self) -> EmbeddedServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the embedded proxy server did not start within 10 s")
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""The embedded Toxiproxy-compatible server.

An asyncio re-implementation of the Toxiproxy 2.x REST API and data path, used when the
Toxiproxy binary is not installed. Layout, outside in::

    cli.py        `invoice-chaos proxy`
    server.py     the process: API listener + proxy table, start/stop
    http.py       a minimal HTTP/1.1 server (exact status codes, bodies and headers)
    api.py        routes and the proxy endpoints; api_toxics.py the toxic endpoints
    proxy.py      one proxy: listener, connections, its toxic chains
    link.py       one direction of one connection: fast relay or the toxic chain
    toxics/       one module per toxic, each registered by name

Behaviour follows ``shared/reference/toxiproxy-api.md``; the deliberate differences are in
``docs/proxy.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.proxy.embedded import EmbeddedServer

__all__ = ["EmbeddedServer"]


def __getattr__(name: str) -> Any:
    # Lazy: `invoice-chaos --help` imports harness.proxy.cli and should not load the server.
    if name == "EmbeddedServer":
        from harness.proxy.embedded import EmbeddedServer

        return EmbeddedServer
    raise AttributeError(name)

"""The ``listen`` address: parse, resolve and bind it the way Go's ``net.Listen("tcp", …)`` does.

Errors carry Go-like text and status 500, which is what Toxiproxy answers for any bind,
resolve or parse failure of ``listen``.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
from dataclasses import dataclass

from harness.proxy.errors import ApiError


@dataclass(frozen=True)
class Address:
    """A resolved listen address; ``wildcard`` means a dual-stack socket reported as ``[::]``."""

    host: str
    port: int
    wildcard: bool = False

    def __str__(self) -> str:
        if self.wildcard:
            return f"[::]:{self.port}"
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def split_host_port(listen: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort`` for the cases Toxiproxy meets."""
    if listen.startswith("["):
        end = listen.find("]")
        if end < 0:
            raise ApiError(f"address {listen}: missing ']' in address", 500)
        host, rest = listen[1:end], listen[end + 1:]
        if not rest.startswith(":"):
            raise ApiError(f"address {listen}: missing port in address", 500)
        return host, rest[1:]
    if ":" not in listen:
        raise ApiError(f"address {listen}: missing port in address", 500)
    host, _, port = listen.rpartition(":")
    if ":" in host:
        raise ApiError(f"address {listen}: too many colons in address", 500)
    return host, port


async def resolve(listen: str) -> Address:
    """Resolve ``listen`` to the address a bind would use (first IPv4 address of a name)."""
    if listen == "":
        return Address("::", 0, wildcard=True)      # Go: all interfaces, an ephemeral port
    host, port_text = split_host_port(listen)
    if not port_text.isdigit() or int(port_text) > 65535:
        raise ApiError(f"listen tcp: address {port_text}: invalid port", 500)
    port = int(port_text)
    if host in ("", "0.0.0.0", "::"):
        return Address("::", port, wildcard=True)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ApiError(f"listen tcp: lookup {host}: no such host", 500) from None
    v4 = [i for i in infos if i[0] == socket.AF_INET]
    chosen = (v4 or infos)[0]
    return Address(str(chosen[4][0]), port)


def bind(addr: Address, backlog: int = 1024) -> socket.socket:
    """A listening socket with SO_REUSEADDR (so a just-closed port rebinds at once)."""
    family = socket.AF_INET6 if addr.wildcard or ":" in addr.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if addr.wildcard:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(("::" if addr.wildcard else addr.host, addr.port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = "address already in use"
        raise ApiError(f"listen tcp {addr}: bind: {reason}", 500) from None
    return sock


def bound_address(sock: socket.socket, requested: Address) -> Address:
    """The address actually bound (port 0 replaced by the kernel's choice)."""
    host, port = sock.getsockname()[:2]
    return Address(requested.host if not requested.wildcard else "::", int(port), requested.wildcard)

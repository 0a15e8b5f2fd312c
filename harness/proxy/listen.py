"""The ``listen`` address: parse, resolve and bind it the way Go's ``net.Listen("tcp", …)`` does.

Errors carry Go-like text and status 500, which is what Toxiproxy answers for any bind,
resolve or parse failure of ``listen``. ``resolve`` raises Go's bare address error
(``address local373: missing port in address``), which is what an update answers (Go's
``net.ResolveTCPAddr``); a bind (``listen_address``) prefixes it with ``listen tcp: `` as
``net.Listen`` does, on create, populate and enable.
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


# Go's own table, used where /etc/services does not name a port.
GO_SERVICES = {"domain": 53, "ftp": 21, "ftps": 990, "gopher": 70, "http": 80, "imap2": 143,
               "imap3": 220, "imaps": 993, "pop3": 110, "pop3s": 995, "smtp": 25,
               "submissions": 465, "ssh": 22, "telnet": 23}


def parse_port(text: str) -> int:
    """Go's port parsing: empty is 0, one leading sign is allowed, anything else that is not
    a number is a service name (``/etc/services``); the result must lie in 0-65535."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if text and not (digits.isascii() and digits.isdigit()):
        try:
            return socket.getservbyname(text.lower(), "tcp")
        except OSError:
            if text.lower() in GO_SERVICES:
                return GO_SERVICES[text.lower()]
            raise ApiError(f"address tcp/{text}: unknown port", 500) from None
    port = -int(digits or 0) if text[:1] == "-" else int(digits or 0)
    if not 0 <= port <= 65535:
        raise ApiError(f"address {text}: invalid port", 500)
    return port


async def resolve(listen: str) -> Address:
    """Resolve ``listen`` to the address a bind would use (first IPv4 address of a name)."""
    if listen == "":
        return Address("::", 0, wildcard=True)      # Go: all interfaces, an ephemeral port
    host, port_text = split_host_port(listen)
    port = parse_port(port_text)
    if host in ("", "0.0.0.0", "::"):
        return Address("::", port, wildcard=True)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ApiError(f"lookup {host}: no such host", 500) from None
    v4 = [i for i in infos if i[0] == socket.AF_INET]
    chosen = (v4 or infos)[0]
    return Address(str(chosen[4][0]), port)


async def listen_address(listen: str) -> Address:
    """``resolve`` for a bind: its errors read ``listen tcp: …``, as Go's ``net.Listen`` says."""
    try:
        return await resolve(listen)
    except ApiError as exc:
        raise ApiError(f"listen tcp: {exc.message}", exc.status) from None


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

"""What a backend must offer: services that start, health-wait, log, and can be signalled.

The local backend runs processes on 127.0.0.1; the Docker backend runs containers.
Both give the same capabilities so the run engine and the process faults never ask which one
they are talking to.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class Service(Protocol):
    name: str
    url: str              # base URL the harness reaches it on
    log_path: Path

    @property
    def alive(self) -> bool: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def returncode(self) -> int | None:
        """The exit code once it exited, else None."""
        ...

    async def start(self) -> None: ...

    health_timeout_s: float
    health_hint: str

    async def wait_healthy(self, deadline_s: float | None = None) -> None:
        """Return once the health URL answers 2xx within ``deadline_s`` (default
        ``health_timeout_s``); raise ``BackendError`` (with the log tail and the hint) if not."""
        ...

    async def kill(self) -> None:
        """SIGKILL: no goodbye, no flush."""
        ...

    async def pause(self) -> None: ...

    async def resume(self) -> None: ...

    async def restart(self) -> None:
        """Stop (gracefully, then by force) and start again; waits for health."""
        ...

    async def stop(self) -> None:
        """Idempotent graceful stop with a forced kill after a grace period."""
        ...


class Backend(Protocol):
    name: str

    def service(
        self,
        name: str,
        argv: Sequence[str] | str,
        *,
        env: Mapping[str, str],
        port: int,
        health_path: str,
        shell: bool = False,
    ) -> Service: ...

    async def close(self) -> None:
        """Stop every service this backend started; safe to call more than once."""
        ...

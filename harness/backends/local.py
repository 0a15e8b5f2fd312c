"""Local backend: each service is a process group on 127.0.0.1.

Every service runs in its own session (process group), so signals reach its children too
(``--sut-cmd "sh -c ..."`` or a uvicorn with workers) and ``stop`` leaves nothing behind. Every
group is also remembered in a module-level registry that an ``atexit`` hook kills, so even a
crash of the harness's own code leaves no process listening; and in the lifeline's registry
(``harness.lifeline``), whose reaper ends them when the harness is killed outright.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import BackendError
from harness.lifeline import LIFELINE, die_with_parent
from harness.net import http_ok

_LIVE_GROUPS: set[int] = set()


def _kill_leftovers() -> None:
    for pgid in list(_LIVE_GROUPS):
        _signal_group(pgid, signal.SIGCONT)
        _signal_group(pgid, signal.SIGKILL)
        LIFELINE.remove(pgid)
    _LIVE_GROUPS.clear()
    LIFELINE.close()


atexit.register(_kill_leftovers)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join("    " + line for line in tail) or "    (empty log)"


class LocalService:
    """One process group on this machine."""

    def __init__(self, name: str, argv: Sequence[str] | str, env: Mapping[str, str], port: int,
                 health_path: str, log_path: Path, shell: bool = False, host: str = "127.0.0.1",
                 run_dir: str = "") -> None:
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.port = port
        self.url = f"http://{host}:{port}"
        self.health_url = self.url + health_path
        self.log_path = log_path
        self.shell = shell
        self.run_dir = run_dir
        self._proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll() if self._proc else None

    async def start(self) -> None:
        if self.alive:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} start {self.name}: {self.argv}\n".encode())
        log.flush()
        try:
            self._proc = subprocess.Popen(
                self.argv, shell=self.shell, env={**os.environ, **self.env}, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise BackendError(f"{self.name}: cannot start {self.argv!r}: {exc}") from exc
        finally:
            log.close()
        _LIVE_GROUPS.add(self._proc.pid)
        LIFELINE.add(self._proc.pid, self.name, str(self.argv), self.run_dir)
        self.starts += 1

    # How long a start may take, and what to say when it takes longer (the SUT's are set from
    # the scenario: ``services.sut.health_timeout_s``).
    health_timeout_s: float = 30.0
    health_hint: str = ""

    async def wait_healthy(self, deadline_s: float | None = None) -> None:
        deadline_s = self.health_timeout_s if deadline_s is None else deadline_s
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if not self.alive:
                raise BackendError(
                    f"{self.name} exited with code {self.returncode} before it was healthy; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}")
            if await asyncio.to_thread(http_ok, self.health_url, 1.0):
                return
            await asyncio.sleep(0.1)
        raise BackendError(
            f"{self.name} did not answer {self.health_url} within {deadline_s:g} s{self.health_hint}; "
            f"last lines of {self.log_path}:\n{log_tail(self.log_path)}")

    async def kill(self) -> None:
        if self._proc is None:
            return
        _signal_group(self._proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self._reap, 5.0)

    async def pause(self) -> None:
        if self.alive and self._proc:
            _signal_group(self._proc.pid, signal.SIGSTOP)

    async def resume(self) -> None:
        if self._proc:
            _signal_group(self._proc.pid, signal.SIGCONT)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        await self.wait_healthy()

    async def stop(self, grace_s: float = 5.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGCONT)  # a paused process cannot act on SIGTERM
            _signal_group(proc.pid, signal.SIGTERM)
            await asyncio.to_thread(self._reap, grace_s)
        # Children of the group may outlive the leader; make sure none is left.
        _signal_group(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(self._reap, 5.0)

    def _reap(self, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5.0)
        if not _group_alive(proc.pid):
            _LIVE_GROUPS.discard(proc.pid)
            LIFELINE.remove(proc.pid)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalBackend:
    name = "local"

    def __init__(self, logs_dir: Path) -> None:
        self.logs_dir = logs_dir
        self.services: list[LocalService] = []

    def service(self, name: str, argv: Sequence[str] | str, *, env: Mapping[str, str], port: int,
                health_path: str, shell: bool = False) -> LocalService:
        svc = LocalService(name, argv, env, port, health_path, self.logs_dir / f"{name}.log", shell=shell,
                           run_dir=str(self.logs_dir.parent))
        self.services.append(svc)
        return svc

    async def close(self) -> None:
        await asyncio.gather(*(s.stop() for s in reversed(self.services)), return_exceptions=True)

"""Every service the harness starts dies with the harness, however the harness dies.

Ctrl-C, SIGTERM and a crash of the harness's own code run its cleanup; SIGKILL (a CI job
past its limit, the OOM killer) runs nothing. So each harness process keeps:

- a **registry** file (``<state dir>/local/<pid>-<start>.json``) listing the process group of
  every service it started (bureau, proxy, SUT, Locust), each with its leader's start time;
- a **reaper**: a small process in its own session, holding the read end of a pipe whose
  write end only the harness holds. When the harness dies the kernel closes that end, the
  reaper reads end-of-file, and kills (SIGCONT, then SIGKILL) every group the registry still
  lists, then removes the registry;
- ``PR_SET_PDEATHSIG`` on each direct child (Linux), for the instant between a service's start
  and its registration.

``invoice-chaos cleanup`` (and every ``run``) also ends the groups of registries whose harness
is gone, in case even the reaper was killed. A group is killed only while its leader is the
process that was registered (same start time), or, with the leader gone, while the group still
has members (a process group id cannot be reused while it has members).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1
STATE_ENV = "INVOICE_CHAOS_STATE_DIR"


def state_dir() -> Path:
    """Where harnesses keep their registries: $INVOICE_CHAOS_STATE_DIR, else the XDG state dir."""
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "invoice-chaos"


def start_time(pid: int) -> float | None:
    """A process's start time (clock ticks since boot, from /proc), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
    fields = stat[stat.rfind(b")") + 2:].split()
    return float(fields[19])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None   # not Linux: the reaper alone keeps the promise


# Looked up once here: between fork and exec the child should do as little as it can.
_PRCTL = _prctl()


def die_with_parent() -> None:
    """``preexec_fn`` for a child: SIGKILL it when the thread that started it dies (Linux)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


@dataclass(frozen=True)
class Group:
    pgid: int
    name: str                 # "bureau", "sut", "load", ...
    leader_started: float | None
    command: str
    run_dir: str


def ours(group: Group) -> bool:
    """Whether the registered group still exists and is still the one registered."""
    now = start_time(group.pgid)
    if now is not None:
        return group.leader_started is None or now == group.leader_started
    return group_alive(group.pgid)   # leader gone, members left: the id cannot have been reused


def end_group(group: Group) -> bool:
    """SIGCONT (a paused group cannot die of SIGTERM, and should not stay stopped) and SIGKILL."""
    if not ours(group):
        return False
    for sig in (signal.SIGCONT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group.pgid, sig)
    return True


@dataclass
class Registry:
    """The registry of one harness process (see the module's docstring)."""

    path: Path
    harness_pid: int
    harness_started: float | None
    host: str
    groups: dict[int, Group]

    @classmethod
    def read(cls, path: Path) -> Registry | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            groups = {int(g["pgid"]): Group(**g) for g in data["groups"]}
            return cls(path, int(data["harness_pid"]), data.get("harness_started"), str(data.get("host", "")), groups)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def write(self) -> None:
        body = {"harness_pid": self.harness_pid, "harness_started": self.harness_started, "host": self.host,
                "groups": [asdict(g) for g in self.groups.values()]}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        tmp.replace(self.path)

    @property
    def stale(self) -> bool:
        """Its harness is gone (this host only: a registry on a shared disk names its host)."""
        if self.host and self.host != socket.gethostname():
            return False
        now = start_time(self.harness_pid)
        return now is None or (self.harness_started is not None and now != self.harness_started)


class Lifeline:
    """This process's registry and reaper, started with the first service."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registry: Registry | None = None
        self._pipe_w: int | None = None
        self._reaper: subprocess.Popen[bytes] | None = None

    def add(self, pgid: int, name: str, command: str, run_dir: str = "") -> None:
        with self._lock:
            registry = self._ensure()
            registry.groups[pgid] = Group(pgid, name, start_time(pgid), command[:300], run_dir)
            registry.write()

    def remove(self, pgid: int) -> None:
        with self._lock:
            if self._registry is not None and self._registry.groups.pop(pgid, None) is not None:
                self._registry.write()

    def close(self) -> None:
        """At exit: with every service stopped the registry goes; with any left, the reaper
        (reading end-of-file now) ends them and removes it."""
        with self._lock:
            if self._registry is not None and not self._registry.groups:
                with contextlib.suppress(OSError):
                    self._registry.path.unlink()
            self._registry = None
            if self._pipe_w is not None:
                with contextlib.suppress(OSError):
                    os.close(self._pipe_w)
                self._pipe_w = None

    def _ensure(self) -> Registry:
        if self._registry is not None:
            return self._registry
        folder = state_dir() / "local"
        folder.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        started = start_time(pid)
        path = folder / f"{pid}-{int(started or 0)}.json"
        self._registry = Registry(path, pid, started, socket.gethostname(), {})
        self._registry.write()
        read_end, self._pipe_w = os.pipe()   # both non-inheritable: no service holds the write end
        try:
            self._reaper = subprocess.Popen(
                [sys.executable, "-m", "harness.lifeline", str(path)], stdin=read_end,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                cwd="/", env={**os.environ, "PYTHONPATH": _package_root()})
        finally:
            os.close(read_end)
        return self._registry


def _package_root() -> str:
    here = Path(__file__).resolve().parents[1]
    return os.pathsep.join(p for p in (str(here), os.environ.get("PYTHONPATH", "")) if p)


LIFELINE = Lifeline()


def reap_stale(say: Callable[[str], None] | None = None, *, dry_run: bool = False) -> list[Group]:
    """End the services of every registry whose harness is gone; returns the groups found alive."""
    found: list[Group] = []
    for registry in _registries():
        if not registry.stale:
            continue
        for group in registry.groups.values():
            if ours(group):
                found.append(group)
                if say is not None:
                    say(f"{'would end' if dry_run else 'ending'} {group.name} (process group {group.pgid}) of "
                        f"a harness that is gone (pid {registry.harness_pid}; run {group.run_dir or '?'})")
                if not dry_run:
                    end_group(group)
        if not dry_run:
            with contextlib.suppress(OSError):
                registry.path.unlink()
    return found


def _registries() -> Iterator[Registry]:
    folder = state_dir() / "local"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        registry = Registry.read(path)
        if registry is not None:
            yield registry


def _reap(path: Path) -> None:
    """The reaper: wait for end-of-file on stdin (the harness is gone), then end what is left."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)  # only end-of-file ends the watch
    while os.read(0, 4096):
        pass
    registry = Registry.read(path)
    if registry is None:
        return   # a normal exit removed it
    for group in registry.groups.values():
        end_group(group)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and any(ours(g) for g in registry.groups.values()):
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    _reap(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())


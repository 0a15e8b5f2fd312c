"""The fault protocol: every family applies a fault and hands back how to revert it.

A fault family (network, bureau, process, load) is an ``Injector`` registered by name in
``harness.faults.registry``. The schedule (``harness.faults.schedule``) decides *when*; the
injector decides *how*; checkers never see either, only the recorded windows.

``apply`` returns a ``Revert``: an idempotent coroutine function the caller pushes onto an
exit stack, so a revert runs exactly once whether the window ends on time, the run fails or
the user presses Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Revert = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class FaultSpec:
    """One scheduled fault, resolved from the scenario (durations already time-scaled)."""

    id: str
    family: str                 # "network" | "bureau" | "process" | "load"
    kind: str                   # e.g. "down", "latency", "ghost_commit", "kill"
    target: str                 # e.g. "bureau" (the SUT -> bureau link), "sut"
    start_s: float              # seconds from the start of the load
    duration_s: float | None    # None: stays until the end of the load
    params: Mapping[str, Any] = field(default_factory=dict)


class FaultContext(Protocol):
    """What an injector may reach: set up by the run before any fault fires."""

    @property
    def toxiproxy_url(self) -> str: ...

    @property
    def bureau_admin_url(self) -> str: ...

    def proxy_name(self, target: str) -> str:
        """The Toxiproxy proxy name of a network target (e.g. "bureau")."""
        ...

    def service(self, target: str) -> Any:
        """The running service handle of a process target ("sut", "bureau", "proxy")."""
        ...

    def order_ids(self, index: int) -> list[str]:
        """The ids of the ``index``-th order (from 1) each load worker places in this run."""
        ...


class Injector(Protocol):
    family: str

    def kinds(self) -> Mapping[str, str]:
        """Kind name -> one-line description (for errors and docs)."""
        ...

    def check(self, spec: FaultSpec) -> list[str]:
        """Problems with a spec's kind, target or params, each naming the field; empty when fine."""
        ...

    async def apply(self, spec: FaultSpec, ctx: FaultContext) -> Revert:
        """Start the fault now; return the idempotent coroutine that ends it."""
        ...


def once(revert: Callable[[], Awaitable[None]]) -> Revert:
    """Wrap a revert so that calling it a second time does nothing."""
    done = False

    async def run() -> None:
        nonlocal done
        if done:
            return
        done = True
        await revert()

    return run

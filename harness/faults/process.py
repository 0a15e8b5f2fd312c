"""Process faults: crash, freeze or restart a service (the SUT, the bureau or the proxy).

- ``kill``: SIGKILL (no flush, no goodbye); revert starts it again and waits for health, so
  the drain can finish what the crash left pending. Without a duration it stays down until the
  load ends.
- ``pause``: SIGSTOP (``docker pause`` in the Docker backend), revert SIGCONT: a hung server
  that holds its connections open.
- ``restart``: a graceful stop then a start, at once; the window ends when it is healthy again.
"""

from __future__ import annotations

from collections.abc import Mapping

from harness.faults.base import FaultContext, FaultSpec, Revert, once

KINDS: dict[str, str] = {
    "kill": "SIGKILL the service; restarted when the fault ends",
    "pause": "SIGSTOP the service; SIGCONT when the fault ends",
    "restart": "stop gracefully and start again",
}
TARGETS = ("sut", "bureau", "proxy")


class ProcessInjector:
    family = "process"

    def kinds(self) -> Mapping[str, str]:
        return KINDS

    def check(self, spec: FaultSpec) -> list[str]:
        problems = []
        if spec.kind not in KINDS:
            problems.append(f"kind: {spec.kind!r} is not a process fault; use one of {', '.join(KINDS)}")
        if spec.target not in TARGETS:
            problems.append(f"target: {spec.target!r} is not a service; use one of {', '.join(TARGETS)}")
        if spec.params:
            problems.append(f"params: process faults take no parameters (got {', '.join(spec.params)})")
        return problems

    async def apply(self, spec: FaultSpec, ctx: FaultContext) -> Revert:
        svc = ctx.service(spec.target)
        if spec.kind == "kill":
            await svc.kill()

            async def revert() -> None:
                await svc.start()
                await svc.wait_healthy()

            return once(revert)
        if spec.kind == "pause":
            await svc.pause()
            return once(svc.resume)
        await svc.restart()

        async def nothing() -> None:
            return None

        return once(nothing)

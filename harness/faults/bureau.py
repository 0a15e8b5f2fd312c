"""Bureau-side faults: set through the fake bureau's admin API (CONTRACT §2).

Each fault is added to the bureau's active list under its scenario id and removed by id on
revert, so overlapping bureau faults coexist. ``check`` validates parameters offline with the
bureau's own fault specifications (``fakes.bureau.faults.specs``), so ``validate`` catches a
typo before any run; a 422 from the live bureau still becomes a ``FaultError``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.errors import FaultError
from harness.faults.base import FaultContext, FaultSpec, Revert, once

KINDS: dict[str, str] = {
    "latency": "delay requests before handling (ms, jitter_ms)",
    "error": "answer with an error status before committing (status)",
    "ghost_commit": "commit, then answer an error: the ambiguous outcome (status, hang_s)",
    "rate_limit": "429 with Retry-After beyond rps (rps, retry_after)",
    "maintenance": "503 MAINTENANCE with Retry-After (retry_after)",
    "visibility_lag": "reads hide records younger than seconds (seconds)",
    "malformed_response": "broken bodies (mode, when, status)",
    "false_duplicate": "409 DUPLICATE_REQUEST for fresh requests",
    "policy_change": "validate under a new policy (rates, required_field)",
}


class BureauInjector:
    family = "bureau"

    def kinds(self) -> Mapping[str, str]:
        from fakes.bureau.faults.specs import KINDS as SPECS

        return {kind: KINDS.get(kind, "see docs/bureau.md") for kind in SPECS}

    def check(self, spec: FaultSpec) -> list[str]:
        from fakes.bureau.faults.specs import parse_faults

        kinds = self.kinds()
        if spec.kind not in kinds:
            return [f"kind: {spec.kind!r} is not a bureau fault; use one of {', '.join(kinds)}"]
        problems = []
        if spec.target != "bureau":
            problems.append(f"target: bureau faults act on the bureau; got {spec.target!r}")
        reserved = {"id", "kind"} & set(spec.params)
        if reserved:
            problems.append(f"params: {', '.join(sorted(reserved))} cannot be parameters (set them on the fault itself)")
        _, found = parse_faults([{"id": spec.id, "kind": spec.kind, **spec.params}])
        # The bureau names fields as faults[0].ms; in a scenario they are the fault's params.ms.
        problems += [p.message.replace("faults[0].", "params.").replace("faults[0]", "params") for p in found]
        return problems

    async def apply(self, spec: FaultSpec, ctx: FaultContext) -> Revert:
        body: dict[str, Any] = {"id": spec.id, "kind": spec.kind, **spec.params}
        url = ctx.bureau_admin_url
        await _edit(url, spec, lambda faults: [f for f in faults if f.get("id") != spec.id] + [body])

        async def revert() -> None:
            await _edit(url, spec, lambda faults: [f for f in faults if f.get("id") != spec.id])

        return once(revert)


# The admin API replaces the whole list, so a read-modify-write must not interleave with
# another window opening or closing at the same instant: one lock per bureau.
# Per event loop: `suite` and `run --repeat` run one loop per run in one process, an asyncio
# lock belongs to the loop it was first used in, and a later run may get the same port back.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


async def _edit(url: str, spec: FaultSpec, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.setdefault(url, asyncio.Lock())
    async with lock, httpx.AsyncClient(base_url=url, timeout=5.0) as client:
        await _put(client, change(await _get(client)), spec)


async def _get(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    try:
        resp = await client.get("/admin/faults")
        resp.raise_for_status()
        return list(resp.json())
    except (httpx.HTTPError, ValueError) as exc:
        raise FaultError(f"cannot read the bureau's active faults: {exc}") from exc


async def _put(client: httpx.AsyncClient, faults: list[dict[str, Any]], spec: FaultSpec) -> None:
    try:
        resp = await client.put("/admin/faults", json=faults)
    except httpx.HTTPError as exc:
        raise FaultError(f"fault {spec.id}: the bureau's admin API did not answer: {exc}") from exc
    if resp.status_code == 422:
        raise FaultError(f"fault {spec.id} ({spec.kind}): the bureau refused its parameters: {resp.text}")
    if resp.status_code >= 400:
        raise FaultError(f"fault {spec.id}: PUT /admin/faults answered {resp.status_code}: {resp.text[:200]}")

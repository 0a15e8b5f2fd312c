"""Bureau-side faults: set through the fake bureau's admin API (CONTRACT §2).

Each fault is added to the bureau's active list under its scenario id and removed by id on
revert, so overlapping bureau faults coexist. ``check`` validates parameters offline with the
bureau's own fault specifications (``fakes.bureau.faults.specs``), so ``validate`` catches a
typo before any run; a 422 from the live bureau still becomes a ``FaultError``.

Deterministic triggers, for replays that must hit the same requests: ``after_requests`` and
``every_n`` go to the bureau as they are; ``orders: [5, 17]`` (the 5th and 17th order the load
places, of each worker) becomes the bureau's ``match.external_ids`` with this run's order ids.

``clock_jump`` (CONTRACT §5.1) is not an ``/admin/faults`` kind: the harness moves the bureau
clock forward through ``PUT /admin/clock`` at the fault's start. It has no revert (the clock
never goes back): its window is the instant.
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
    "quota_exhausted": "refuse every blue invoice as over quota (暂停赋额)",
    "auth_expired": "401 AUTH_EXPIRED on every public call (forced re-authentication)",
    "upload_stuck": "uploaded invoices stay at result 01 (seconds; absent: until reverted)",
    "upload_reject": "uploaded invoices refused 02 with a detail code (code)",
    "clock_jump": "move the bureau clock forward at once (advance_s, bureau seconds); an instant, no revert",
}
INSTANT = frozenset({"clock_jump"})   # applied at start_s; the window has no length


class BureauInjector:
    family = "bureau"

    def kinds(self) -> Mapping[str, str]:
        from fakes.bureau.faults.specs import KINDS as SPECS

        return {kind: KINDS.get(kind, "see docs/bureau.md") for kind in [*SPECS, *INSTANT]}

    def check(self, spec: FaultSpec) -> list[str]:
        from fakes.bureau.faults.specs import parse_faults

        kinds = self.kinds()
        if spec.kind not in kinds:
            return [f"kind: {spec.kind!r} is not a bureau fault; use one of {', '.join(kinds)}"]
        problems = []
        if spec.target != "bureau":
            problems.append(f"target: bureau faults act on the bureau; got {spec.target!r}")
        if spec.kind == "clock_jump":
            return problems + _clock_jump_problems(spec)
        reserved = {"id", "kind"} & set(spec.params)
        if reserved:
            problems.append(f"params: {', '.join(sorted(reserved))} cannot be parameters (set them on the fault itself)")
        orders = spec.params.get("orders")
        if orders is not None and (not isinstance(orders, list) or not orders
                                   or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 1 for i in orders)):
            problems.append(f"params.orders: the order numbers to act on, a list of integers from 1 (got {orders!r})")
            orders = [1]
        _, found = parse_faults([_body(spec, ["X"] * len(orders) if orders else None)])
        # The bureau names fields as faults[0].ms; in a scenario they are the fault's params.ms.
        problems += [p.message.replace("faults[0].", "params.").replace("faults[0]", "params") for p in found]
        return problems

    async def apply(self, spec: FaultSpec, ctx: FaultContext) -> Revert:
        if spec.kind == "clock_jump":
            await set_clock(ctx.bureau_admin_url, {"advance_s": spec.params["advance_s"]}, spec.id)

            async def nothing() -> None:
                return None   # the clock never goes back

            return once(nothing)
        orders = spec.params.get("orders")
        body = _body(spec, [oid for i in orders for oid in ctx.order_ids(int(i))] if orders else None)
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


def _clock_jump_problems(spec: FaultSpec) -> list[str]:
    problems = [f"params.{k}: clock_jump takes only advance_s" for k in sorted(set(spec.params) - {"advance_s"})]
    value = spec.params.get("advance_s")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        problems.append(f"params.advance_s: the bureau seconds to jump forward, a number above 0 (got {value!r})")
    if spec.duration_s:
        problems.append("duration_s: a clock_jump is an instant (the clock never goes back); leave duration_s out")
    return problems


async def set_clock(admin_url: str, body: dict[str, Any], what: str) -> dict[str, Any]:
    """``PUT /admin/clock`` (CONTRACT §5.1); the clock as the bureau reports it."""
    try:
        async with httpx.AsyncClient(base_url=admin_url, timeout=5.0) as client:
            resp = await client.put("/admin/clock", json=body)
    except httpx.HTTPError as exc:
        raise FaultError(f"{what}: the bureau's admin API did not answer: {exc}") from exc
    if resp.status_code != 200:
        raise FaultError(f"{what}: PUT /admin/clock {body} answered {resp.status_code}: {resp.text[:300]}")
    return dict(resp.json())


def _body(spec: FaultSpec, external_ids: list[str] | None) -> dict[str, Any]:
    """The fault as the bureau's admin API takes it (``orders`` become ``match.external_ids``)."""
    body: dict[str, Any] = {"id": spec.id, "kind": spec.kind, **{k: v for k, v in spec.params.items() if k != "orders"}}
    if external_ids is not None:
        body["match"] = {**(body.get("match") or {}), "external_ids": external_ids}
    return body

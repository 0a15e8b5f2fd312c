"""The verdict of a run (CONTRACT §5.7): ``pass``, ``fail`` or ``unknown``, and why.

``pass`` only when every declared fault was applied and reverted, the load ran, every ledger
was read and every gate held. Anything that keeps the run from supporting a verdict (an
interrupted run, a fault that never happened, a service that died on its own, a ledger that
could not be read, a broken steady state before the first fault) makes it ``unknown``, whatever
the gates say: the audit stays in the summary as evidence, not as the verdict.

Pure functions over recorded data, like every checker.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from harness.checks.gates import default_gates

# Steady state (Chaos Toolkit's hypothesis, measured before the first fault): with at least
# this many orders in the pre-fault window, at least this share must have been taken (201/202).
STEADY_MIN_ORDERS = 5
STEADY_MIN_OK = 0.8


def gates_for(declared: Sequence[Mapping[str, Any]], anomaly_gates_off: Collection[str],
              extra_defaults: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Every gate of a run: one per anomaly list (unless turned off by name, or replaced by a
    declared gate on the same list), the defaults of optional phases, then the declared ones."""
    skip = {g["metric"] for g in declared} | {f"anomalies.{kind}" for kind in anomaly_gates_off}
    defaults = [g for g in [*default_gates(), *extra_defaults] if g["metric"] not in skip]
    return [*map(dict, defaults), *map(dict, declared)]


def fault_reasons(windows: Sequence[Mapping[str, Any]]) -> list[str]:
    """A declared fault with no applied or no reverted record leaves nothing to judge it by."""
    reasons = []
    for w in windows:
        if w.get("family") == "load":   # drawn by the load shape itself; it cannot fail to apply
            continue
        what = f"fault {w.get('id')} ({w.get('family')}/{w.get('kind')} on {w.get('target')})"
        error = f": {w['error']}" if w.get("error") else ""
        if w.get("applied_at") is None:
            planned = w.get("planned_start_s")
            when = f" (planned at {planned:g} s)" if isinstance(planned, (int, float)) else ""
            reasons.append(f"{what} was never applied{when}{error or ': the load ended first'}")
        elif w.get("reverted_at") is None:
            reasons.append(f"{what} was never reverted{error}")
    return reasons


def steady_state_reasons(ops: Sequence[Mapping[str, Any]], windows: Sequence[Mapping[str, Any]],
                         load_start_at: float) -> list[str]:
    """The SUT must be taking orders normally before the first fault: recovery figures compare
    against that window, and a broken baseline makes them meaningless."""
    applied = [w["applied_at"] for w in windows if w.get("applied_at") is not None]
    if not applied:
        return []
    first = min(applied)
    before = [op for op in ops if op.get("invoke_at") is not None and op["invoke_at"] < first]
    if len(before) < STEADY_MIN_ORDERS:
        return []
    ok = sum(1 for op in before if op.get("http_status") in (201, 202))
    if ok >= STEADY_MIN_OK * len(before):
        return []
    return [f"the SUT was not taking orders normally before the first fault: {ok} of {len(before)} orders "
            f"answered 201/202 ({ok / len(before):.0%}) in the first {first - load_start_at:.1f} s, so there is "
            "no steady state to recover to; check the SUT's log, or start the first fault later"]


def decide(gates: Sequence[Mapping[str, Any]], unknown_reasons: Sequence[str]) -> tuple[str, list[str]]:
    """``(verdict, verdict_reasons)``: ``unknown`` wins over the gates, then any failed gate."""
    if unknown_reasons:
        return "unknown", list(unknown_reasons)
    failed = [g for g in gates if not g.get("passed")]
    if failed:
        return "fail", [f"gate {g['name']} failed: {g['metric']} = {_shown(g.get('value'))}, must be "
                        f"{g['op']} {_shown(g['threshold'])}" for g in failed]
    return "pass", []


def _shown(value: Any) -> str:
    return "null" if value is None else str(value)

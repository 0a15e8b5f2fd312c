"""The smaller schedules to try next, most simplifying first (delta debugging over a schedule).

Each candidate changes one thing: drops a fault, halves a window, makes one parameter milder,
starts a fault later, halves the load, or ends the run soon after the last fault. The engine
tries them in order and restarts from the top whenever one still fails, so the schedule it
ends with is 1-minimal for these steps: no single step keeps the failure.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from harness.explore.schedule import faults_of

MIN_WINDOW_S = 0.5
RUN_MARGIN_S = 3.0   # a shortened run still lasts this long past its last fault

# How each parameter becomes milder: "down" halves it (to its floor), "up" doubles it (to its
# cap). A parameter not listed is left as it is (a status code, a mode: not a matter of degree).
MILDER: dict[str, tuple[str, float]] = {
    "probability": ("down", 0.05), "toxicity": ("down", 0.05),
    "hang_s": ("down", 0.25), "ms": ("down", 10), "jitter_ms": ("down", 10), "seconds": ("down", 0.25),
    "retry_after": ("down", 1), "delay_us": ("down", 10), "timeout_ms": ("up", 60_000),
    "rps": ("up", 10_000), "rate_kbps": ("up", 1_000_000), "bytes": ("up", 10_000_000),
    "average_size": ("up", 65_536), "every_n": ("up", 1_000), "after_requests": ("up", 100_000),
    "advance_s": ("down", 1),
}


def candidates(data: dict[str, Any], load_s: float) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(what changed, the smaller schedule)`` for every one-step simplification of ``data``;
    ``load_s`` is the load's length in the file's seconds."""
    faults = faults_of(data)
    for i, f in enumerate(faults):
        yield f"drop {f.get('id')} ({f['family']}/{f['kind']})", _with_faults(data, faults[:i] + faults[i + 1:])
    for i, f in enumerate(faults):
        d = f.get("duration_s")
        if d is not None and d > MIN_WINDOW_S:
            new = max(MIN_WINDOW_S, round(d / 2, 3))
            yield f"{f.get('id')}: window {d:g} -> {new:g} s", _edit(data, i, duration_s=new)
    for i, f in enumerate(faults):
        for name, value in (f.get("params") or {}).items():
            milder = _milder(name, value)
            if milder is not None:
                yield f"{f.get('id')}: {name} {value} -> {milder}", _edit_param(data, i, name, milder)
    for i, f in enumerate(faults):
        end = f["start_s"] + (f.get("duration_s") or 0.0)
        slack = load_s - end
        if slack > 2 * MIN_WINDOW_S:
            later = round(f["start_s"] + slack / 2, 3)
            yield f"{f.get('id')}: start {f['start_s']:g} -> {later:g} s", _edit(data, i, start_s=later)
    shape = (data.get("load") or {}).get("shape") or {}
    for key in ("target", "base"):
        value = shape.get(key)
        if isinstance(value, (int, float)) and value > 1:
            new = max(1, round(value / 2, 2))
            yield f"load {key} {value:g} -> {new:g}", _edit_shape(data, key, new)
    if shape.get("type") == "steady" and isinstance(shape.get("duration_s"), (int, float)):
        last = max((f["start_s"] + (f.get("duration_s") or 0.0) for f in faults), default=0.0)
        shorter = round(max(last + RUN_MARGIN_S, 2.0), 3)
        if shorter < shape["duration_s"] - 1.0:
            yield f"run {shape['duration_s']:g} -> {shorter:g} s", _edit_shape(data, "duration_s", shorter)


def _milder(name: str, value: Any) -> Any:
    rule = MILDER.get(name)
    if rule is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    way, limit = rule
    new = value / 2 if way == "down" else value * 2
    new = max(new, limit) if way == "down" else min(new, limit)
    if isinstance(value, int) and not isinstance(limit, float):
        new = int(round(new))
    new = round(new, 3) if isinstance(new, float) else new
    return None if new == value else new


def _with_faults(data: dict[str, Any], faults: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["faults"] = copy.deepcopy(faults)
    # A gate on a dropped fault would name nothing: keep only gates the schedule can measure.
    ids = {f.get("id") for f in faults}
    out["gates"] = [g for g in out.get("gates") or [] if not _names_other_fault(g, ids)]
    return out


def _names_other_fault(gate: dict[str, Any], ids: set[Any]) -> bool:
    parts = str(gate.get("metric", "")).split(".")
    return len(parts) > 1 and parts[0] in ("faults", "malformed_responses") and parts[1] not in ids


def _edit(data: dict[str, Any], i: int, **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["faults"][i].update(changes)
    return out


def _edit_param(data: dict[str, Any], i: int, name: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["faults"][i].setdefault("params", {})[name] = value
    return out


def _edit_shape(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["load"]["shape"][key] = value
    return out

"""Schedules: scenarios with explicit faults, drawn from a fault mix, readable as YAML.

A schedule is the data of a scenario file (a dict), so every schedule tried can be written,
read, run and committed like any scenario; ``faults`` lists every fault with its times in the
file's own seconds (``time_scale`` still applies when it runs).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from harness.scenario import Scenario, read_scenario_data, resolve_scenario


def base_data(path: Path) -> tuple[dict[str, Any], Scenario]:
    """The scenario file's data and its resolved scenario (which must have a fault mix)."""
    data, root = read_scenario_data(path)
    return data, resolve_scenario(data, root, path)


def draw(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """The scenario with ``seed`` and its ``random_faults`` drawn into explicit faults."""
    out = copy.deepcopy(data)
    out["seed"] = seed
    out.pop("sweep", None)
    scenario = Scenario.model_validate(out)
    scale = scenario.time_scale
    listed = len(scenario.faults)
    drawn = scenario.fault_specs()[listed:]
    out.pop("random_faults", None)
    out["faults"] = [*(out.get("faults") or []), *(
        {"id": s.id, "family": s.family, "kind": s.kind, "target": s.target,
         "start_s": round(s.start_s / scale, 3),
         **({} if s.duration_s is None else {"duration_s": round(s.duration_s / scale, 3)}),
         "params": dict(s.params)} for s in drawn)]
    return out


def faults_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return list(data.get("faults") or [])


def describe(data: dict[str, Any]) -> str:
    """One line: "2 faults: r1 bureau/ghost_commit 3-8.2 s (hang_s=5); r2 network/down 10-12 s"."""
    faults = faults_of(data)
    if not faults:
        return "no fault"
    parts = []
    for f in faults:
        end = f"{f['start_s'] + f['duration_s']:g}" if f.get("duration_s") is not None else "end"
        params = ", ".join(f"{k}={v}" for k, v in (f.get("params") or {}).items() if k != "match")
        parts.append(f"{f.get('id')} {f['family']}/{f['kind']} {f['start_s']:g}-{end} s" + (f" ({params})" if params else ""))
    return f"{len(faults)} fault{'s' if len(faults) != 1 else ''}: " + "; ".join(parts)


def write(data: dict[str, Any], path: Path, comment: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    path.write_text(head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path

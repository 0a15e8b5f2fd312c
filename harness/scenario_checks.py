"""What the scenario models alone cannot see, checked before any run (offline).

Fault parameters (each family checks its own, the bureau's with the bureau's own
specifications), every edge of a random mix's ranges, faults outside the load window, and
gates on metrics no run can measure. Each problem names the line, the field and the value.
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.faults.base import FaultSpec
from harness.scenario import DEFAULT_TARGETS, Scenario, _line_of


def check_scenario(scenario: Scenario, root: yaml.Node | None) -> list[str]:
    """What the models alone cannot see: fault parameters (checked by each family offline),
    faults outside the load window, and gates on metrics no run can measure."""
    from harness.checks.gates import metric_problem
    from harness.faults.registry import injector_for
    from harness.load.shapes import total_duration

    problems = []
    seen: dict[str, str] = {}
    load_s = total_duration(scenario.scaled_load().shape)
    r = scenario.random_faults
    for j, m in enumerate(r.mix if r is not None else ()):
        from harness.faults.schedule import bounds

        line = _line_of(root, ("random_faults", "mix", j))
        found = _range_problems(m.params)
        for params in [] if found else bounds(m.params):   # every edge of every range
            entry = FaultSpec(id=f"mix{j}", family=m.family, kind=m.kind,
                              target=m.target or DEFAULT_TARGETS[m.family], start_s=0.0, duration_s=1.0, params=params)
            found += [p for p in injector_for(m.family).check(entry) if p not in found]
        problems += [f"{f'line {line}: ' if line else ''}random_faults.mix[{j}].{p}" for p in found]
    if problems:
        return problems   # a broken mix cannot be drawn from
    n_listed = len(scenario.faults)
    for i, spec in enumerate(scenario.fault_specs()):
        line = _line_of(root, ("faults", i))
        where = f"line {line}: " if line else ""
        if spec.id in seen:
            problems.append(f"{where}faults[{i}].id: {spec.id!r} is used twice; fault ids must be unique")
        seen[spec.id] = spec.kind
        if i >= n_listed:
            continue  # drawn by random_faults: checked below as the mix entry it came from
        for problem in injector_for(spec.family).check(spec):
            problems.append(f"{where}faults[{i}].{problem}")
        for name, problem in _window_problems(spec, load_s, scenario.time_scale):
            line = _line_of(root, ("faults", i, name))
            problems.append(f"{f'line {line}: ' if line else ''}faults[{i}].{name}: {problem}")
    if r is not None and r.end_s > total_duration(scenario.load.shape):
        line = _line_of(root, ("random_faults", "end_s"))
        problems.append(f"{f'line {line}: ' if line else ''}random_faults.end_s: {r.end_s:g} s is after the end of "
                        f"the load ({total_duration(scenario.load.shape):g} s); drawn faults must fit inside the load")
    if scenario.scaled_load().shape.type == "spike":
        seen["load-spike"] = "spike"
    for i, gate in enumerate(scenario.gates):
        problem = metric_problem(gate.metric, seen, scenario.malformed is not None)
        if problem is not None:
            line = _line_of(root, ("gates", i, "metric"))
            problems.append(f"{f'line {line}: ' if line else ''}gates[{i}].metric: {gate.metric!r}: {problem}")
    return problems


def _range_problems(params: dict[str, Any]) -> list[str]:
    """Malformed ranges and choices in a mix entry's parameters."""
    found: list[str] = []
    for name, value in params.items():
        if not isinstance(value, dict) or not ({"range", "choice"} & set(value)):
            continue
        if "range" in value:
            lo_hi = value["range"]
            if (set(value) != {"range"} or not isinstance(lo_hi, list) or len(lo_hi) != 2
                    or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in lo_hi)
                    or lo_hi[0] > lo_hi[1]):
                found.append(f"params.{name}: a range is {{range: [low, high]}} with low <= high (got {value!r})")
        elif set(value) != {"choice"} or not isinstance(value["choice"], list) or not value["choice"]:
            found.append(f"params.{name}: a choice is {{choice: [a, b, ...]}} (got {value!r})")
    return found


def _window_problems(spec: FaultSpec, load_s: float, scale: float) -> list[tuple[str, str]]:
    """A fault must start and end while the load runs: faults are reverted when it ends, so a
    window past it would never happen (or be cut short) and the run could not judge it."""
    shown = (lambda t: f"{t / scale:g} s") if scale != 1 else (lambda t: f"{t:g} s")
    if spec.start_s >= load_s:
        return [("start_s", f"{shown(spec.start_s)} is not before the end of the load ({shown(load_s)}); "
                            "the fault would never be applied. Start it earlier or make the load longer")]
    if spec.duration_s is not None and spec.start_s + spec.duration_s > load_s + 1e-9:
        return [("duration_s", f"the fault would end at {shown(spec.start_s + spec.duration_s)}, after the load "
                               f"ends ({shown(load_s)}); shorten it, or leave duration_s out to keep it until the "
                               "end of the load")]
    return []

"""Sweeps: one scenario, one variant per value of one parameter.

A bug that depends on timing must not depend on the SUT's timeout happening to match one
number: ``sweep: {param: faults.hang.params.hang_s, values: [2, 5, 10, 30]}`` runs the
scenario once per value, so a report shows at which value the bug appears. ``param`` is a
dotted path into the scenario file; a list of faults is addressed by fault id (or the default
``f1``, ``f2``, ... of a fault without one), and missing keys are created (a parameter or a
section left to its defaults); each variant is then validated, so a misspelt name is refused. Each variant is validated like a scenario of its own; variant ``i``
runs with seed ``seed + i``, as ``--repeat`` derives seeds.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ScenarioError
from harness.scenario import Scenario, read_scenario_data, resolve_scenario


@dataclass(frozen=True)
class Variant:
    """One run of a scenario: ``label`` (``hang_s=5``), ``value`` and ``param`` (the swept
    path) are None without a sweep."""

    label: str | None
    value: Any
    scenario: Scenario
    param: str | None = None


def load_variants(path: str | Path, *, seed: int | None = None, time_scale: float | None = None) -> list[Variant]:
    """Every run a scenario file asks for: its variants, or the scenario alone."""
    p = Path(path)
    data, root = read_scenario_data(p)
    if seed is not None:
        data["seed"] = seed
    if time_scale is not None:
        data["time_scale"] = float(data.get("time_scale", 1.0)) * time_scale
    scenario = resolve_scenario(data, root, p)
    if scenario.sweep is None:
        return [Variant(None, None, scenario)]
    return variants_of(scenario, data, root, p)


def variants_of(scenario: Scenario, data: dict[str, Any], root: yaml.Node | None, p: Path) -> list[Variant]:
    assert scenario.sweep is not None
    sweep = scenario.sweep
    leaf = sweep.param.rsplit(".", 1)[-1]
    labels = [f"{leaf}={label_of(v)}" for v in sweep.values]
    if len(set(labels)) != len(labels):
        raise ScenarioError(str(p), [f"sweep.values: {list(sweep.values)!r} repeats a value; each variant must differ"])
    out = []
    for i, (value, label) in enumerate(zip(sweep.values, labels, strict=True)):
        variant = copy.deepcopy(data)
        variant.pop("sweep")
        problem = set_path(variant, sweep.param, value)
        if problem is not None:
            raise ScenarioError(str(p), [f"sweep.param: {sweep.param!r}: {problem}"])
        variant["seed"] = scenario.seed + i
        where = f"sweep.values[{i}] ({sweep.param} = {value!r}): "
        out.append(Variant(label, value, resolve_scenario(variant, root, p, where=where), sweep.param))
    return out


def label_of(value: Any) -> str:
    """A value as it reads in a folder name and a table: 5, 0.5, none, [1,2]."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float, str)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def set_path(data: dict[str, Any], path: str, value: Any) -> str | None:
    """Set ``value`` at ``path`` in ``data``; why not, when the path leads nowhere."""
    parts = path.split(".")
    node: Any = data
    walked: list[str] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(walked) or "the top level"
        if isinstance(node, list):
            index = _by_id(node, part)
            if index is None:
                ids = [_id_of(x, j) for j, x in enumerate(node)]
                return f"{here} has no entry {part!r} (ids: {', '.join(ids) or 'none'})"
            if last:
                return f"{path} names a whole entry of {here}; name one of its fields"
            node = node[index]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                return None
            if node.get(part) is None:
                # Left to its defaults in the file (a fault's params, services.bureau): create
                # it; a misspelt name is then refused when the variant is validated.
                node[part] = {}
            node = node[part]
        else:
            return f"{here} is a single value; it has no field {part!r}"
        walked.append(part)
    return None


def _by_id(items: list[Any], part: str) -> int | None:
    for j, item in enumerate(items):
        if _id_of(item, j) == part:
            return j
    return int(part) if part.isdigit() and int(part) < len(items) else None


def _id_of(item: Any, j: int) -> str:
    return str(item.get("id") or f"f{j + 1}") if isinstance(item, dict) else f"f{j + 1}"

"""JSON Schemas (draft 2020-12) for scenario files and for ``summary.json``.

- ``scenario_schema()`` is generated from the pydantic models of ``harness.scenario`` (so it
  cannot drift from what ``load_scenario`` accepts), plus, per fault family, the list of its
  kinds and their descriptions for editors' completion.
- ``summary_schema()`` is written by hand (``harness.schemas.summary``) from CONTRACT §4: it
  pins the keys CI relies on and leaves room for additions (extra keys are allowed).

``invoice-chaos schema scenario|summary [--out FILE]`` prints or writes them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def scenario_schema() -> dict[str, Any]:
    """The scenario file schema; a ``# yaml-language-server: $schema=FILE`` line uses it."""
    from harness.faults.registry import FAMILIES, injector_for
    from harness.scenario import Scenario

    body = Scenario.model_json_schema()
    fault = body["$defs"]["FaultModel"]
    rules: list[dict[str, Any]] = []
    for family in FAMILIES:
        kinds = injector_for(family).kinds()
        rules.append({
            "if": {"properties": {"family": {"const": family}}, "required": ["family"]},
            "then": {"properties": {"kind": {
                "enum": list(kinds),
                "description": "; ".join(f"{k}: {d}" for k, d in kinds.items()),
            }}},
        })
    fault["allOf"] = rules
    body["$defs"]["MixModel"]["allOf"] = rules
    body["properties"]["name"]["description"] = "the scenario's name in reports (default: the file's stem)"
    return {
        "$schema": DIALECT,
        "title": "invoice-chaos scenario",
        "description": "A chaos scenario: load, faults, drain and gates (docs/scenarios.md).",
        **{k: v for k, v in body.items() if k != "title"},
    }


def summary_schema() -> dict[str, Any]:
    """The ``summary.json`` schema (schema_version 1)."""
    from harness.schemas.summary import SUMMARY_SCHEMA

    return {"$schema": DIALECT, **SUMMARY_SCHEMA}


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "scenario": scenario_schema,
    "summary": summary_schema,
}

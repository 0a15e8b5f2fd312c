"""Fault families by name. A family module is imported only when a scenario uses it."""

from __future__ import annotations

import importlib

from harness.faults.base import Injector

FAMILIES: dict[str, tuple[str, str]] = {
    "network": ("harness.faults.network", "NetworkInjector"),
    "bureau": ("harness.faults.bureau", "BureauInjector"),
    "process": ("harness.faults.process", "ProcessInjector"),
}


def injector_for(family: str) -> Injector:
    module_name, class_name = FAMILIES[family]
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls()  # type: ignore[no-any-return]

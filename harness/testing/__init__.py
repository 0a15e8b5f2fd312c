"""Helpers behind the pytest plugin (``harness.pytest_plugin``), usable without pytest too.

- ``BureauProcess`` / ``BureauAdmin`` (``harness.testing.bureau``): a fake bureau on a free
  loopback port, and its admin API (faults, ledger, request log, reset).
- ``ChaosRunner`` / ``ChaosResult`` (``harness.testing.runner``): run a scenario (a file or a
  dict) against a SUT from Python and get its summary and run directory.

Imports are lazy: loading the plugin must not load FastAPI, pandas or the proxy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.testing.bureau import BureauAdmin, BureauProcess
    from harness.testing.runner import ChaosResult, ChaosRunner

__all__ = ["BureauAdmin", "BureauProcess", "ChaosResult", "ChaosRunner"]

_WHERE = {"BureauAdmin": "bureau", "BureauProcess": "bureau", "ChaosResult": "runner", "ChaosRunner": "runner"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"harness.testing.{_WHERE[name]}"), name)
    raise AttributeError(name)

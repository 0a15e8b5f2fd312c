"""The fault timeline records every window: applied, reverted, or why not."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from harness.faults import registry
from harness.faults.base import FaultSpec, once
from harness.timeline import Timeline


class Exploding:
    """An injector whose apply fails the way a bug or a missing service does (not FaultError)."""

    family = "test"

    def kinds(self):
        return {"boom": "raises", "fine": "works"}

    def check(self, spec):
        return []

    async def apply(self, spec, ctx):
        if spec.kind == "boom":
            raise AttributeError("'NoneType' object has no attribute 'kill'")

        async def revert():
            return None

        return once(revert)


@pytest.fixture(autouse=True)
def test_family(monkeypatch):
    monkeypatch.setitem(registry.FAMILIES, "test", (__name__, "Exploding"))


def test_an_apply_that_raises_anything_is_recorded_not_swallowed(tmp_path: Path):
    specs = [FaultSpec("k1", "test", "boom", "proxy", 0.0, 0.2), FaultSpec("f2", "test", "fine", "bureau", 0.0, 0.2)]

    async def go() -> Timeline:
        tl = Timeline(specs, ctx=None, path=tmp_path / "faults.jsonl")  # type: ignore[arg-type]
        tl.start(time.time())
        await asyncio.sleep(0.4)
        await tl.finish()
        return tl

    tl = asyncio.run(go())
    windows = {w["id"]: w for w in tl.final_windows()}
    assert windows["k1"]["applied_at"] is None and "AttributeError" in windows["k1"]["error"]
    assert windows["f2"]["applied_at"] is not None and windows["f2"]["reverted_at"] is not None
    assert any("k1" in e for e in tl.errors)
    on_disk = {json.loads(x)["id"] for x in (tmp_path / "faults.jsonl").read_text().splitlines()}
    assert on_disk == {"k1", "f2"}

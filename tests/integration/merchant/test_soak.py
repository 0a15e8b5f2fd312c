"""Soak (on demand: ``-m soak``): the resilient merchant under a rotating mix of bureau faults,
continuous load, and SIGKILLs of itself and of the bureau; no anomaly after the drain."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from merchant_procs import audit, bureau, clear_faults, drain, merchant, nonempty, orders, place, set_faults

pytestmark = [pytest.mark.integration, pytest.mark.soak]

ROTATION: list[list[dict[str, Any]]] = [
    [{"kind": "ghost_commit", "probability": 0.3}],
    [{"kind": "error", "status": 502, "probability": 0.3}, {"kind": "latency", "ms": 2500, "probability": 0.2}],
    [{"kind": "maintenance", "retry_after": 1}],
    [{"kind": "visibility_lag", "seconds": 1}, {"kind": "ghost_commit", "probability": 0.3, "hang_s": 2.5}],
    [{"kind": "malformed_response", "mode": "truncated_json", "probability": 0.3},
     {"kind": "false_duplicate", "probability": 0.2}],
    [{"kind": "rate_limit", "rps": 20, "retry_after": 1}],
    [],
]


@pytest.mark.timeout(600)
def test_resilient_soak(tmp_path: Path) -> None:
    b = bureau(tmp_path).start()
    m = merchant(tmp_path, b.url, "resilient").start()
    ops: list[dict[str, Any]] = []
    stop = threading.Event()

    def load() -> None:
        batch = 0
        while not stop.is_set() and batch < 400:  # bounded: at most 400 batches
            ops.extend(place(m.url, orders(f"soak{batch}", 10), threads=5, timeout_s=10))
            batch += 1

    loader = threading.Thread(target=load)
    loader.start()
    try:
        for step in range(21):  # 21 steps of 3 s: every mix three times
            set_faults(b.url, ROTATION[step % len(ROTATION)])
            time.sleep(3)
            if step == 8:
                m.kill()
                m.start()
            if step == 15:
                b.kill()
                time.sleep(0.5)
                b.start()
    finally:
        stop.set()
        loader.join(60)
        clear_faults(b.url)
    try:
        assert drain(m.url, limit_s=60) == 0
        found = nonempty(audit(b.url, m.url, ops))
        assert found == {}, found
        assert len(ops) > 100
    finally:
        m.stop()
        b.stop()

"""Garbage-collector settings of the bureau's server process (``invoice-chaos bureau``).

Tests that mount the app in their own process keep CPython's defaults; only the server sets
these. Measured under ``bench/bureau.py`` (docs/bureau.md, *Performance*), the cyclic collector
took about 15 µs of CPU per durable issue with the defaults:

- every request waits for its group commit, so some 64 requests' objects are alive at any
  moment: more than the default 700 allocations that trigger a young collection, which then
  ran every ~20 requests and promoted whatever was in flight;
- those promotions then triggered full collections, each walking every object of FastAPI,
  pydantic and the ledger's loaded dedup index (about 25 ms each, several a second).

A young generation larger than the in-flight working set, and the start-up heap frozen out of
the collector's sight, bring that to well under 1 µs. Nothing is kept longer than a cycle of
garbage would be anyway; reference counting still frees everything else at once.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000   # CPython's default is 700


def tune() -> None:
    """Before serving: a young generation larger than the requests in flight."""
    gc.set_threshold(GEN0_THRESHOLD, *gc.get_threshold()[1:])


def freeze() -> None:
    """Once started: the framework, the routes and the loaded ledger state live as long as the
    process, so they move to the permanent generation and full collections stop walking them."""
    gc.collect()
    gc.freeze()

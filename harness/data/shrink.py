"""A deterministic shrinker: the smallest body that still provokes the same finding.

Hypothesis shrinks inside a test; here the property is an HTTP answer from a live receiver,
checked after the faulted part of a run, so the shrinker is our own and simple: greedy passes
over candidate simplifications (drop a key, drop list items, shorten strings, cut bytes),
keeping the first candidate that still fails, until a pass finds none or the request budget is
spent. Same input, same receiver behaviour -> same result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

from harness.data.jsonbody import Pairs
from harness.data.record import Malformed

StillFails = Callable[[Malformed], Awaitable[bool]]


def _size(example: Malformed) -> int:
    return len(example.body())


def _doc_candidates(doc: Any) -> Iterator[Any]:
    """Simpler versions of ``doc``, biggest simplifications first."""
    if isinstance(doc, Pairs):
        items = doc.items
        for i in range(len(items)):
            yield Pairs(items[:i] + items[i + 1:])
        for i, (k, v) in enumerate(items):
            for smaller in _doc_candidates(v):
                yield Pairs(items[:i] + ((k, smaller),) + items[i + 1:])
    elif isinstance(doc, dict):
        for key in list(doc):
            yield {k: v for k, v in doc.items() if k != key}
        for key, value in doc.items():
            for smaller in _doc_candidates(value):
                yield {**doc, key: smaller}
    elif isinstance(doc, list):
        n = len(doc)
        if n > 1:
            yield doc[: n // 2]
            yield doc[:1]
        for i in range(n):
            yield doc[:i] + doc[i + 1:]
        for i, value in enumerate(doc):
            for smaller in _doc_candidates(value):
                yield doc[:i] + [smaller] + doc[i + 1:]
    elif isinstance(doc, str) and doc:
        if len(doc) > 2:
            yield doc[: len(doc) // 2]
            yield doc[len(doc) // 2:]
        yield doc[:-1]
        yield doc[1:]
        if len(doc) > 1:
            yield doc[:1]
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool) and doc not in (0, 1):
        yield 0
        yield 1


def _raw_candidates(raw: bytes) -> Iterator[bytes]:
    n = len(raw)
    chunk = n // 2
    while chunk >= 1:
        for start in range(0, n, chunk):
            yield raw[:start] + raw[start + chunk:]
        chunk //= 2


def _candidates(example: Malformed) -> Iterator[Malformed]:
    if example.raw is not None:
        for raw in _raw_candidates(example.raw):
            yield replace(example, raw=raw)
    else:
        for doc in _doc_candidates(example.doc):
            yield replace(example, doc=doc)


async def shrink(example: Malformed, still_fails: StillFails, *, max_attempts: int = 150) -> tuple[Malformed, int]:
    """The smallest example found that ``still_fails``, and the number of attempts spent."""
    best = example
    attempts = 0
    improved = True
    while improved and attempts < max_attempts:
        improved = False
        for candidate in _candidates(best):
            if _size(candidate) >= _size(best):
                continue
            attempts += 1
            if await still_fails(candidate):
                best, improved = candidate, True
                break
            if attempts >= max_attempts:
                break
    return best, attempts

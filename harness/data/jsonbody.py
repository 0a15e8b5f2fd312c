"""JSON documents that ``json.dumps`` cannot write: objects with duplicate keys.

A malformed example's document is plain JSON values, except that an object may be a ``Pairs``
(an ordered list of key/value pairs, keys possibly repeated). ``render`` writes either to the
exact bytes sent; receivers that follow CONTRACT §1 keep the LAST of duplicate keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Pairs", "render", "to_plain"]


@dataclass(frozen=True)
class Pairs:
    """A JSON object written key by key, in order, repeats allowed."""

    items: tuple[tuple[str, Any], ...]

    def get(self, key: str) -> Any:
        """The value a last-key-wins parser sees."""
        value = None
        for k, v in self.items:
            if k == key:
                value = v
        return value


def render(doc: Any, *, ensure_ascii: bool = False) -> str:
    """The JSON text of ``doc``; ``Pairs`` keep their repeated keys."""
    if isinstance(doc, Pairs):
        inner = ",".join(f"{json.dumps(k, ensure_ascii=ensure_ascii)}:{render(v, ensure_ascii=ensure_ascii)}"
                         for k, v in doc.items)
        return "{" + inner + "}"
    if isinstance(doc, dict):
        inner = ",".join(f"{json.dumps(k, ensure_ascii=ensure_ascii)}:{render(v, ensure_ascii=ensure_ascii)}"
                         for k, v in doc.items())
        return "{" + inner + "}"
    if isinstance(doc, list):
        return "[" + ",".join(render(v, ensure_ascii=ensure_ascii) for v in doc) + "]"
    return json.dumps(doc, ensure_ascii=ensure_ascii)


def to_plain(doc: Any) -> Any:
    """``doc`` as a last-key-wins parser would read it (for validating it in-process)."""
    if isinstance(doc, Pairs):
        out: dict[str, Any] = {}
        for k, v in doc.items:
            out.pop(k, None)
            out[k] = to_plain(v)
        return out
    if isinstance(doc, dict):
        return {k: to_plain(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [to_plain(v) for v in doc]
    return doc

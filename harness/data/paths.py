"""Field paths in JSON documents: ``("lines", 3, "tax_amount")`` <-> ``lines[3].tax_amount``.

The malformed families edit a deep copy of a valid document at a path; the path string is the
``field`` a receiver's 422 must name (CONTRACT §1).
"""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[str | int, ...]

_DELETE = object()


def path_str(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def get_at(doc: Any, path: Path) -> Any:
    node = doc
    for part in path:
        node = node[part]
    return node


def set_at(doc: Any, path: Path, value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` at ``path`` (the parent must exist)."""
    out = copy.deepcopy(doc)
    parent = get_at(out, path[:-1])
    parent[path[-1]] = value
    return out


def delete_at(doc: Any, path: Path) -> Any:
    """A deep copy of ``doc`` without the key at ``path``."""
    out = copy.deepcopy(doc)
    parent = get_at(out, path[:-1])
    del parent[path[-1]]
    return out

"""One malformed example: what is sent, to whom, and what the receiver must answer.

A ``Malformed`` carries its family (which rule it breaks), the ``field`` a conforming receiver
names in its 422 (``None`` for a body-level refusal: 400 not JSON, 413 too large), and either
a JSON document (``doc``, which may hold ``Pairs`` for duplicate keys) or raw bytes (``raw``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from harness.data.jsonbody import Pairs, render

Target = Literal["sut", "bureau"]
TARGETS: tuple[Target, ...] = ("sut", "bureau")
PATHS: dict[Target, str] = {"sut": "/invoices", "bureau": "/api/v1/invoices"}
ID_KEYS: dict[Target, str] = {"sut": "order_id", "bureau": "external_id"}


@dataclass(frozen=True)
class Malformed:
    """A request body that breaks one input rule, and the answer it deserves."""

    family: str
    target: Target
    field: str | None           # the field a 422 must name; None: any 4xx with the error shape
    note: str                   # what is wrong, for people
    doc: Any = None             # the JSON document sent (when ``raw`` is None)
    raw: bytes | None = None    # the exact bytes sent, when they are not a JSON rendering
    content_type: str = "application/json"

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        try:
            return render(self.doc).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: write it as a JSON escape
            return render(self.doc, ensure_ascii=True).encode("ascii")

    @property
    def path(self) -> str:
        return PATHS[self.target]

    def with_id(self, value: str) -> Malformed:
        """The same example under a fresh order id / external id, unless the id is what is broken."""
        key = ID_KEYS[self.target]
        if self.field == key or self.raw is not None:
            return self
        doc = self.doc
        if isinstance(doc, dict) and key in doc:
            return replace(self, doc={**doc, key: value})
        if isinstance(doc, Pairs) and any(k == key for k, _ in doc.items):
            return replace(self, doc=Pairs(tuple((k, value if k == key else v) for k, v in doc.items)))
        return self

    def describe(self) -> dict[str, Any]:
        """A JSON-ready account of the example (for records and reports)."""
        body = self.body()
        try:
            preview = body[:2000].decode("utf-8")
        except UnicodeDecodeError:
            preview = body[:1000].hex()
        return {"family": self.family, "target": self.target, "field": self.field, "note": self.note,
                "bytes": len(body), "body_preview": preview}

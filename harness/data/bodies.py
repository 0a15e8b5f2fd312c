"""Body-level families: deep nesting, oversized bodies, non-JSON and non-UTF-8 bytes.

Same signature as ``harness.data.families``. A body that is not a JSON object must be answered
400 ``MALFORMED_REQUEST`` (413 when over the bureau's size limit), so most of these name no field.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from harness.data.jsonbody import render
from harness.data.paths import Path, path_str, set_at
from harness.data.record import Malformed, Target

NOT_JSON: tuple[bytes, ...] = (
    b"", b" ", b"{", b"}", b"null", b"[]", b"[{}]", b"0", b'"invoice"', b"true", b"NaN", b"Infinity",
    b"<invoice><order_id>1</order_id></invoice>", b"<html><body>500</body></html>", b"order_id=1&kind=normal",
    b"{'order_id': '1'}", b'{"order_id": "1",}', b"{order_id: 1}", b"\x00\x00\x00\x00",
)
MAX_BODY_BYTES = 5 * 1024 * 1024  # the bureau's default limit (CONTRACT §1)


def deep_nesting(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A name that is a list nested 20-300 levels deep (a 422 at that field, not a crash)."""
    depth = draw(st.integers(20, 300))
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    path: Path = draw(st.sampled_from((("buyer", "name"), ("lines", 0, "name"), ("buyer",))))
    doc = set_at(base, path, value)
    return Malformed("deep_nesting", target, path_str(path), f"{path_str(path)} nested {depth} deep", doc=doc)


def nesting_bombs(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Brackets nested 5,000-200,000 deep: beyond any parser's recursion limit, so a 400."""
    depth = draw(st.sampled_from((5_000, 50_000, 200_000)))
    opener, closer = draw(st.sampled_from(((b"[", b"]"), (b'{"a":', b"}"))))
    inner = opener * depth + b"1" + closer * depth
    text = render({**base, "buyer": "@@"}).encode("utf-8")
    raw = draw(st.sampled_from((inner, text.replace(b'"@@"', inner))))
    return Malformed("nesting_bomb", target, None, f"nested {depth} deep ({len(raw)} bytes)", raw=raw)


def not_json(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """Not a JSON object: empty, other JSON values, XML, HTML, forms, truncated or trailing junk."""
    text = render(base).encode("utf-8")
    choice = draw(st.sampled_from(("fixed", "truncated", "trailing", "array")))
    content_type = "application/json"
    if choice == "fixed":
        raw = draw(st.sampled_from(NOT_JSON))
        if raw.startswith(b"order_id="):
            content_type = "application/x-www-form-urlencoded"
    elif choice == "truncated":
        raw = text[: draw(st.integers(1, len(text) - 1))]
    elif choice == "trailing":
        raw = text + draw(st.sampled_from((b"}", b"x", b",{}", b"\x00", b"]")))
    else:
        raw = render([base]).encode("utf-8")
    return Malformed("not_json", target, None, f"{choice}: {raw[:40]!r}", raw=raw, content_type=content_type)


def not_utf8(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A JSON object in GBK / GB18030 / Latin-1 bytes, or with stray bytes that are not UTF-8."""
    doc = set_at(base, ("buyer", "name"), "福建示例贸易有限公司é")
    codec = draw(st.sampled_from(("gbk", "gb18030", "latin-1", "stray")))
    if codec == "stray":
        text = render(set_at(base, ("buyer", "name"), "@@")).encode("utf-8")
        raw = text.replace(b"@@", draw(st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe4\xbd"))))
    elif codec == "latin-1":
        raw = render(set_at(base, ("buyer", "name"), "Société Générale")).encode("latin-1", "replace")
    else:
        raw = render(doc).encode(codec, "replace")
    return Malformed("not_utf8", target, None, f"body in {codec}", raw=raw)


def utf16_bodies(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """A JSON object in UTF-16 or UTF-32 (RFC 8259: JSON between systems MUST be UTF-8).

    Not a default family: Python's ``json.loads(bytes)`` detects and accepts these encodings."""
    codec = draw(st.sampled_from(("utf-16", "utf-16-le", "utf-32")))
    return Malformed("utf16_body", target, None, f"body in {codec}", raw=render(base).encode(codec))


def oversized_bodies(draw: st.DrawFn, target: Target, base: dict[str, Any]) -> Malformed:
    """(bureau) A body just over the 5 MiB limit: 413 PAYLOAD_TOO_LARGE."""
    extra = draw(st.integers(1, 4096))
    doc = {**base, "x_padding": ""}
    size = len(render(doc).encode("utf-8"))
    doc["x_padding"] = "A" * (MAX_BODY_BYTES - size + extra)
    return Malformed("oversized_body", target, None, f"{MAX_BODY_BYTES + extra} bytes", doc=doc)

"""JSON the way Go's ``encoding/json`` reads and writes it for Toxiproxy.

Reading: only the first JSON value of a body counts, keys match case-insensitively, ``null``
means "not given", and a value of the wrong JSON type is a 400 ``bad request body: …``.
Writing: compact, with ``<``, ``>``, ``&`` escaped as Go does.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from harness.proxy.errors import bad_body

def _reject_constant(name: str) -> Any:
    raise bad_body(f"invalid character '{name[0]}' looking for beginning of value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)   # Go has no NaN/Infinity
_FLOAT32_MAX = 3.4028234663852886e38
_INT64 = (-(2**63), 2**63 - 1)
_GO_KIND = {dict: "object", list: "array", str: "string", bool: "bool", type(None): "null"}


def parse_body(body: bytes) -> Any:
    """The first JSON value of ``body``; trailing bytes are ignored, as Go's decoder does."""
    text = body.decode("utf-8", errors="replace")
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise bad_body("EOF")
    try:
        value, _ = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise bad_body(f"invalid JSON: {exc.msg} at offset {exc.pos}") from None
    return value


def kind_of(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return _GO_KIND.get(type(value), type(value).__name__)


def expect_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` as a dict with lower-cased keys (Go matches struct fields case-insensitively)."""
    if not isinstance(value, dict):
        raise bad_body(f"json: cannot unmarshal {kind_of(value)} into Go value of type {what}")
    return {str(k).lower(): v for k, v in value.items()}


def opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _type_error(value, where, key, "string")


def opt_bool(obj: dict[str, Any], key: str, where: str) -> bool | None:
    value = obj.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _type_error(value, where, key, "bool")


def opt_float(obj: dict[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) > _FLOAT32_MAX:
            raise bad_body(f"json: cannot unmarshal number {value} into Go struct field "
                           f"{where}.{key} of type float32")
        return float32(float(value))
    raise _type_error(value, where, key, "float32")


def opt_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    """An integer attribute: a fraction, exponent, string or bool is a 400, as in Go."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and _INT64[0] <= value <= _INT64[1]:
        return value
    shown = "number " + repr(value) if isinstance(value, (int, float)) else kind_of(value)
    raise bad_body(f"json: cannot unmarshal {shown} into Go struct field {where}.{key} of type int64")


def _type_error(value: Any, where: str, key: str, go_type: str) -> Exception:
    return bad_body(
        f"json: cannot unmarshal {kind_of(value)} into Go struct field {where}.{key} of type {go_type}"
    )


def float32(x: float) -> float:
    """Round to float32, the type Toxiproxy stores toxicity in."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def float32_json(x: float) -> float | int:
    """A Python number whose JSON text is Go's shortest float32 rendering (1, 0.5, 0.2)."""
    if x == int(x) and abs(x) < 1e21:
        return int(x)
    for digits in range(1, 10):
        text = f"{x:.{digits}g}"
        if float32(float(text)) == x:
            return float(text)
    return x


def dumps(value: Any) -> bytes:
    """Compact JSON with Go's HTML escaping."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text.encode()

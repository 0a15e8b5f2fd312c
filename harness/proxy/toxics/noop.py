"""``noop``: passes everything through unchanged (a valid API type, used by Go's own tests)."""

from __future__ import annotations

from harness.proxy.toxics.base import Toxic, register


@register
class NoopToxic(Toxic):
    type_name = "noop"

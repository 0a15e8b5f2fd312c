"""Toxics, one module each, registered by name in ``REGISTRY`` on import."""

from harness.proxy.toxics import (  # noqa: F401 - imported to register
    bandwidth,
    latency,
    limit_data,
    noop,
    reset_peer,
    slicer,
    slow_close,
    timeout,
)
from harness.proxy.toxics.base import REGISTRY, Toxic

__all__ = ["REGISTRY", "Toxic"]

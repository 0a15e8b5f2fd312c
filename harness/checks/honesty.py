"""Whether a run's figures can be trusted (CONTRACT §4 ``compromised``), from recorded data.

Soft doubts keep the verdict and are listed in ``compromised_reasons``: the open-model load
sent somewhat fewer orders than its shape declares, it lagged behind its schedule, or the
machine was saturated (``--fail-on-compromised`` makes them fail a run). A load that sent no
orders, or far fewer than declared, did not run: that is a reason for ``unknown``
(``load_did_not_run``), since no verdict can be given about a load that did not happen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.load.shapes import LoadConfig, cumulative, total_duration

SHORTFALL = 0.10     # more than 10% of the declared orders missing
FAR_BEHIND = 0.50    # more than half of them missing: the load did not run
LAG_SHARE = 0.10     # behind schedule for more than 10% of the load's seconds
SATURATED_CPU = 95.0  # median machine CPU over the run, percent


def _sent(operations: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 for op in operations if op.get("kind", "issue") == "issue")


def load_shortfall(load: LoadConfig, operations: Sequence[Mapping[str, Any]]) -> list[str]:
    if load.model != "open":
        return []
    expected = cumulative(load.shape, total_duration(load.shape))
    sent = _sent(operations)
    if expected >= 10 and (1 - FAR_BEHIND) * expected <= sent < (1 - SHORTFALL) * expected:
        return [f"the load fell behind its shape: {sent} orders sent of {expected:.0f} declared ({sent / expected:.0%})"]
    return []


def load_did_not_run(load: LoadConfig, operations: Sequence[Mapping[str, Any]]) -> list[str]:
    """A reason for ``unknown``: no orders at all, or an open load far behind its shape."""
    sent = _sent(operations)
    if sent == 0:
        return ["the load sent no orders: nothing was tested (see logs/load.log)"]
    if load.model != "open":
        return []
    expected = cumulative(load.shape, total_duration(load.shape))
    if expected >= 10 and sent < (1 - FAR_BEHIND) * expected:
        return [f"the load ran far behind its shape: {sent} orders sent of {expected:.0f} declared "
                f"({sent / expected:.0%}); the machine or the load generator could not keep up"]
    return []


def load_lag(load: LoadConfig, load_summary: Mapping[str, Any]) -> list[str]:
    lag_s = load_summary.get("open_model_lag_s") or 0
    duration = total_duration(load.shape)
    if duration > 0 and lag_s / duration > LAG_SHARE:
        return [f"the open-model load lagged behind its schedule for {lag_s} of {duration:.0f} s "
                f"(worst {load_summary.get('max_lag_s', 0):.1f} s late): arrival rates were lower than declared"]
    return []


def saturation(probes: Sequence[Mapping[str, Any]]) -> list[str]:
    cpu = sorted(p["machine_cpu"] for p in probes if p.get("machine_cpu") is not None)
    if cpu and cpu[len(cpu) // 2] >= SATURATED_CPU:
        return [f"the machine was saturated: median CPU {cpu[len(cpu) // 2]:.0f}% during the run"]
    return []


def compromised_reasons(load: LoadConfig, operations: Sequence[Mapping[str, Any]],
                        probes: Sequence[Mapping[str, Any]], load_summary: Mapping[str, Any]) -> list[str]:
    return load_shortfall(load, operations) + load_lag(load, load_summary) + saturation(probes)

"""The fake bureau's command line for a scenario: built once, for every backend.

Bureau time: a scenario's ``services.bureau.clock.start`` is bureau time at the start of the
load. The clock never goes backwards (CONTRACT §5.1), so the bureau starts that far back
(``CLOCK_LEAD_S``) and the harness moves it forward to ``start`` when the load begins
(``harness.faults.bureau.set_clock``): service start-up time does not shift the scenario.
"""

from __future__ import annotations

from datetime import timedelta

from harness.scenario import Scenario

CLOCK_LEAD_S = 600.0   # more than any start-up of the services takes


def bureau_args(scenario: Scenario) -> list[str]:
    """Options after ``bureau --port P --db D`` (seed, region, dedup, rates, §5 settings, clock)."""
    b = scenario.services.bureau
    args = ["--seed", str(scenario.seed), "--region", b.region, "--dedup", b.dedup, "--allow-reset"]
    if b.rates:
        args += ["--rates", ",".join(b.rates)]
    for name, value in b.settings.model_dump(exclude_none=True).items():
        args += [f"--{name.replace('_', '-')}", f"{value:g}" if isinstance(value, float) else str(value)]
    if b.clock is not None:
        if b.clock.start is not None:
            args += ["--clock-start", (b.clock.start - timedelta(seconds=CLOCK_LEAD_S)).isoformat()]
        args += ["--clock-rate", f"{b.clock.rate:g}"]
    return args

"""The malformed phase of a run: malformed requests beside the load, then shrunk findings.

Driven by ``harness.run``::

    phase = MalformedPhase(config, ...)     # after the load driver started
    await phase.start(load_start_at)        # sends on schedule, concurrently with the load
    ...                                     # load ends, faults reverted, drain
    await phase.finish()                    # quiet system: confirm + shrink, write malformed.json
    await phase.stop()                      # always (exit stack): idempotent

Each request is an ``Operation`` of kind ``malformed`` in ``operations-malformed.jsonl``, kept
apart from the load's accounting. A malformed order the SUT passed on to the bureau shows up in
the audit as ``unexpected``.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from pathlib import Path
from typing import Any

import httpx

from harness.data.campaign import Campaign
from harness.data.config import MalformedConfig
from harness.data.examples import draw_examples
from harness.data.record import Malformed, Target
from harness.data.report import build_report, write_report
from harness.history import Recorder

log = logging.getLogger("invoice-chaos.malformed")
MAX_IN_FLIGHT = 16


class MalformedPhase:
    def __init__(self, config: MalformedConfig, *, urls: dict[Target, str], run_dir: Path, seed: int, run_id: str,
                 load_duration_s: float, seller: tuple[str, str], rates: tuple[str, ...]) -> None:
        self.config = config
        self.run_dir = run_dir
        self.seed = seed
        self._duration_s = config.duration_s if config.duration_s is not None else max(1.0, load_duration_s - config.start_s)
        self._seller, self._rates = seller, rates
        self._recorder = Recorder(run_dir / "operations-malformed.jsonl")
        self.campaign = Campaign({t: urls[t] for t in config.targets}, id_prefix=f"mal-{run_id}",
                                 timeout_s=config.timeout_s, recorder=self._recorder)
        self._client: httpx.AsyncClient | None = None  # opened by start()
        self._task: asyncio.Task[None] | None = None
        self._reported = False
        self._stopped = False

    def examples(self) -> list[Malformed]:
        """The batch this phase sends: rate x duration, at most ``max_examples``, over the targets."""
        total = min(self.config.max_examples, max(1, math.ceil(self.config.rate_per_s * self._duration_s)))
        per_target = -(-total // len(self.config.targets))
        batches = [draw_examples(t, count=per_target, seed_value=self.seed, families=self.config.families,
                                 rates=self._rates, seller=self._seller) for t in self.config.targets]
        mixed: list[Malformed] = []
        for i in range(per_target):
            mixed.extend(batch[i] for batch in batches if i < len(batch))
        return mixed[:total]

    async def start(self, load_start_at: float) -> None:
        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=MAX_IN_FLIGHT))
        examples = await asyncio.to_thread(self.examples)
        self._task = asyncio.create_task(self._send_all(examples, load_start_at + self.config.start_s),
                                         name="malformed")

    async def _send_all(self, examples: list[Malformed], begin_at: float) -> None:
        gate = asyncio.Semaphore(MAX_IN_FLIGHT)
        pending: set[asyncio.Task[Any]] = set()

        async def one(example: Malformed) -> None:
            async with gate:
                assert self._client is not None
                await self.campaign.send_one(self._client, example)

        for i, example in enumerate(examples):
            delay = begin_at + i / self.config.rate_per_s - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one(example))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def finish(self) -> dict[str, Any]:
        """Stop sending, then against the quiet system confirm and shrink every finding and
        write ``malformed.json`` / ``malformed.md``; returns the report."""
        await self._cancel()
        if self.config.shrink_budget_s > 0 and self._client is not None:
            await self.campaign.confirm_and_shrink(self._client, max_findings=self.config.max_findings,
                                                   budget_s=self.config.shrink_budget_s)
        return self._write()

    def _write(self) -> dict[str, Any]:
        report = build_report(self.campaign, self.run_dir, seed=self.seed)
        write_report(report, self.run_dir)
        self._reported = True
        return report

    async def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._recorder.flush()

    async def stop(self) -> None:
        """Idempotent; an interrupted run still gets a report of what was sent (unconfirmed)."""
        if self._stopped:
            return
        self._stopped = True
        await self._cancel()
        if not self._reported and self.campaign.sent:
            try:
                self._write()
            except OSError as exc:  # pragma: no cover - a full disk must not hide the run's own error
                log.warning("could not write the malformed report: %s", exc)
        self._recorder.close()
        if self._client is not None:
            await self._client.aclose()


def phase_for_run(scenario: Any, services: Any, run_dir: Path, run_id: str) -> MalformedPhase:
    """The phase of ``scenario.malformed`` for a started stack (``harness.services.Stack``):
    malformed orders to the SUT, malformed invoices straight to the bureau (not via the proxy)."""
    from fakes.bureau.rules import DEFAULT_RATES
    from harness.load.shapes import total_duration

    config: MalformedConfig = scenario.malformed.scaled(scenario.time_scale)
    seller = scenario.services.seller
    return MalformedPhase(config, urls={"sut": services.sut_url, "bureau": services.bureau.url}, run_dir=run_dir,
                          seed=scenario.seed, run_id=run_id,
                          load_duration_s=total_duration(scenario.scaled_load().shape),
                          seller=(seller.tax_id, seller.name), rates=tuple(scenario.services.bureau.rates or DEFAULT_RATES))

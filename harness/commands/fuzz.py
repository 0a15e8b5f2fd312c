"""`invoice-chaos fuzz`: send malformed input to any SUT (or bureau) and report shrunk findings.

Exit status (CONTRACT §4): 0 no finding, 1 findings, 2 bad input, 3 the target is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from harness.data.record import Target

HELP = "fuzz a SUT's POST /invoices (or a bureau's POST /api/v1/invoices) with malformed input"
EXAMPLE = ("invoice-chaos fuzz --target http://127.0.0.1:8080 --examples 300 --seed 7 --max-time 60 "
           "--out reports/fuzz")
CONCURRENCY = 4


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, metavar="URL", help="base URL of the SUT (or, with --bureau, the bureau)")
    p.add_argument("--bureau", action="store_true", help="the target is a tax bureau (CONTRACT §1), not a SUT")
    p.add_argument("--examples", type=int, default=200, metavar="N", help="malformed requests to send (default 200)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the examples (default 0)")
    p.add_argument("--max-time", type=float, default=120.0, metavar="S",
                   help="seconds for sending, and again at most for shrinking (default 120)")
    p.add_argument("--families", metavar="A,B", help="comma-separated families, or 'all' (default: the default families)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to wait for each answer (default 10)")
    p.add_argument("--out", type=Path, metavar="DIR", help="report directory (default reports/<UTC time>-fuzz/)")


def _check(args: argparse.Namespace) -> list[str] | None:
    from harness.data.malformed import family_names
    from harness.errors import InputError

    parts = urlsplit(args.target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--target {args.target!r}: give a base URL with a scheme, like http://127.0.0.1:8080")
    if args.examples < 1:
        raise InputError(f"--examples {args.examples}: give a positive count")
    if args.max_time <= 0 or args.timeout <= 0:
        raise InputError(f"--max-time {args.max_time} / --timeout {args.timeout}: give positive seconds")
    families = None if args.families is None else [f.strip() for f in args.families.split(",") if f.strip()]
    target: Target = "bureau" if args.bureau else "sut"
    try:
        if not family_names(target, families):
            raise InputError(f"--families {args.families!r}: none applies to a {target}")
    except ValueError as exc:
        raise InputError(f"--families: {exc}") from None
    return families


async def _reachable(url: str) -> None:
    import httpx

    from harness.errors import EnvironmentFailure

    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            await client.get(url.rstrip("/") + "/health")
    except httpx.HTTPError as exc:
        raise EnvironmentFailure(f"--target {url}: unreachable ({type(exc).__name__}: {exc}); is it running?") from None


async def _fuzz(args: argparse.Namespace, families: list[str] | None, out: Path) -> dict[str, object]:
    import httpx

    from harness.data.campaign import Campaign
    from harness.data.examples import draw_examples
    from harness.data.report import build_report, write_report

    target: Target = "bureau" if args.bureau else "sut"
    await _reachable(args.target)
    examples = await asyncio.to_thread(draw_examples, target, count=args.examples, seed_value=args.seed,
                                       families=families)
    campaign = Campaign({target: args.target.rstrip("/")}, id_prefix=f"fuzz{args.seed}", timeout_s=args.timeout)
    deadline = time.monotonic() + args.max_time
    queue = list(reversed(examples))
    async with httpx.AsyncClient() as client:

        async def worker() -> None:
            while queue and time.monotonic() < deadline:
                await campaign.send_one(client, queue.pop())

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        await campaign.confirm_and_shrink(client, budget_s=args.max_time)
    report = build_report(campaign, out, seed=args.seed)
    write_report(report, out)
    return report


def run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    families = _check(args)
    out: Path = args.out or Path("reports") / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-fuzz"
    report = asyncio.run(_fuzz(args, families, out))
    totals = report["totals"]
    assert isinstance(totals, dict)
    print(f"fuzz: {totals['sent']} sent, {totals['rejected']} rejected as expected, {totals['findings']} finding(s); "
          f"report in {out / 'malformed.md'}", file=sys.stderr)
    print(out / "malformed.json")
    return 1 if totals["findings"] else 0

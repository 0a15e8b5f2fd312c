"""``invoice-chaos bureau``: run the fake tax bureau (数电票 platform model) alone."""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
from types import FrameType
from decimal import Decimal, InvalidOperation
from pathlib import Path

from typing import TYPE_CHECKING, Any

from harness.errors import EnvironmentFailure, InputError

if TYPE_CHECKING:  # the real import stays inside run paths: `invoice-chaos --help` stays fast
    from fakes.bureau.settings import Settings

HELP = "Run the fake tax bureau (数电票 e-invoice platform model) with its admin and fault API."
EXAMPLE = ("invoice-chaos bureau --port 8000 --db bureau.db --seed 7 --allow-reset"
           " --clock-start 2026-11-30T23:59:30+08:00 --quota-monthly 1000000.00")
# CONTRACT §5 settings: a scenario's services.bureau.settings key is the option without "--",
# with "_" for "-" (quota_monthly -> --quota-monthly).
SECTION_5 = "asynchronous 乐企 channel, bureau clock and account rules (CONTRACT §5)"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=str, default="8000", help="port to listen on (default 8000)")
    parser.add_argument("--db", default="bureau.db", help="SQLite ledger file (default bureau.db)")
    parser.add_argument("--seed", type=str, default="0", help="seed of the fault RNG (default 0)")
    parser.add_argument("--region", default="11", help="2-digit region code in invoice numbers (default 11, Beijing)")
    parser.add_argument("--dedup", default="request_id", help="request_id (replay repeats) or none (web channel)")
    parser.add_argument("--allow-reset", action="store_true", help="allow POST /admin/reset")
    parser.add_argument("--max-body-bytes", type=str, default=str(5 * 1024 * 1024),
                        help="largest accepted body; bigger ones get 413 (default 5 MiB)")
    parser.add_argument("--commit-batch", type=str, default="2000", help=argparse.SUPPRESS)
    parser.add_argument("--rates", default=None, help="rate table, e.g. 0.13,0.09,0.06,0.05,0.03,0.01,0")
    lq = parser.add_argument_group(SECTION_5)
    lq.add_argument("--quota-monthly", default=None, metavar="MONEY",
                    help="授信额度: total_amount a seller may invoice per calendar month (CST), e.g. 1000000.00;"
                         " beyond it QUOTA_EXCEEDED (default: unlimited)")
    lq.add_argument("--processing-s", default="1", metavar="S",
                    help="real seconds from an upload's receipt until its invoices are judged (default 1)")
    lq.add_argument("--result-ttl-s", default="43200", metavar="S",
                    help="bureau seconds an upload's results stay readable after the last became final;"
                         " then 410 RESULT_EXPIRED (default 43200 = 12 h)")
    lq.add_argument("--upload-deadline-s", default="172800", metavar="S",
                    help="bureau seconds from issued_at within which an invoice must be received;"
                         " later: DEADLINE_PASSED (default 172800 = 48 h)")
    lq.add_argument("--close-day", default="13", metavar="DAY",
                    help="day of the month (1-28) whose 00:00 CST closes the previous month: MONTH_CLOSED (default 13)")
    lq.add_argument("--buyer-confirms", default="1", metavar="P",
                    help="probability (0-1) that the simulated buyer confirms a red-letter application (default 1)")
    lq.add_argument("--buyer-delay-s", default="2", metavar="S",
                    help="bureau seconds until the simulated buyer confirms (default 2)")
    lq.add_argument("--clock-start", default=None, metavar="RFC3339",
                    help="bureau time when a new database starts, e.g. 2026-12-31T23:59:30+08:00 (default: real"
                         " time); a database that has a clock keeps it (it never goes backwards)")
    lq.add_argument("--clock-rate", default="1", metavar="R",
                    help="bureau seconds per real second of a new database's clock, above 0 and at most 100000"
                         " (default 1)")


def _int(option: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not an integer") from None
    if not low <= number <= high:
        raise InputError(f"{option} {value!r} must be from {low} to {high}")
    return number


def _number(option: str, value: str, low: float, high: float, *, low_open: bool = False) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not a number") from None
    if not math.isfinite(number) or number < low or number > high or (low_open and number == low):
        bound = f"above {low:g}" if low_open else f"from {low:g}"
        raise InputError(f"{option} {value!r} must be {bound} to {high:g}")
    return number


def _section_5(args: argparse.Namespace) -> dict[str, Any]:
    from fakes.bureau.clock import MAX_RATE, parse_rfc3339
    from fakes.bureau.rules import MONEY_RE

    if args.quota_monthly is not None and (not MONEY_RE.fullmatch(args.quota_monthly)
                                           or args.quota_monthly.startswith("-")):
        raise InputError(f"--quota-monthly {args.quota_monthly!r} must be money with two decimals, like 1000000.00")
    start = None
    if args.clock_start is not None:
        try:
            start = parse_rfc3339(args.clock_start)
        except ValueError as exc:
            raise InputError(f"--clock-start: {exc}") from None
    year = 365 * 86400.0
    return {
        "quota_monthly": args.quota_monthly,
        "processing_s": _number("--processing-s", args.processing_s, 0, 86400),
        "result_ttl_s": _number("--result-ttl-s", args.result_ttl_s, 0, 100 * year),
        "upload_deadline_s": _number("--upload-deadline-s", args.upload_deadline_s, 0, 100 * year),
        "close_day": _int("--close-day", args.close_day, 1, 28),
        "buyer_confirms": _number("--buyer-confirms", args.buyer_confirms, 0, 1),
        "buyer_delay_s": _number("--buyer-delay-s", args.buyer_delay_s, 0, 100 * year),
        "clock_start": start,
        "clock_rate": _number("--clock-rate", args.clock_rate, 0, MAX_RATE, low_open=True),
    }


def settings_from(args: argparse.Namespace) -> Settings:
    from fakes.bureau.numbering import REGION_RE
    from fakes.bureau.rules import DEFAULT_RATES, RATE_RE
    from fakes.bureau.settings import Settings

    if not REGION_RE.fullmatch(args.region):
        raise InputError(f"--region {args.region!r} must be 2 digits, e.g. 11 (Beijing)")
    db_dir = Path(args.db).resolve().parent
    if not db_dir.is_dir():
        raise InputError(f"--db {args.db!r}: the directory {str(db_dir)!r} does not exist")
    if args.dedup not in ("request_id", "none"):
        raise InputError(f"--dedup {args.dedup!r} must be request_id or none")
    rates: tuple[str, ...] = DEFAULT_RATES
    if args.rates is not None:
        rates = tuple(r.strip() for r in args.rates.split(","))
        for rate in rates:
            try:
                ok = bool(RATE_RE.fullmatch(rate)) and Decimal(rate) < 1
            except InvalidOperation:
                ok = False
            if not ok:
                raise InputError(f"--rates: {rate!r} in {args.rates!r} is not a rate like 0.06")
    return Settings(
        db_path=args.db,
        seed=_int("--seed", args.seed, 0, 2**63 - 1),
        region=args.region,
        dedup=args.dedup,
        allow_reset=bool(args.allow_reset),
        max_body_bytes=_int("--max-body-bytes", args.max_body_bytes, 1, 2**40),
        rates=rates,
        commit_batch=_int("--commit-batch", args.commit_batch, 1, 100_000),
        admin_token=os.environ.get("BUREAU_ADMIN_TOKEN") or None,
        **_section_5(args),
    )


def run(args: argparse.Namespace) -> int:
    port = _int("--port", args.port, 0, 65535)
    settings = settings_from(args)
    import sqlite3

    import uvicorn

    from fakes.bureau.app import create_app
    from fakes.bureau.ledger import Ledger

    try:  # fail early, naming the file, rather than deep inside the server's startup
        Ledger(settings.db_path).open()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"--db {settings.db_path!r} is not a usable bureau ledger: {exc}") from None

    from fakes.bureau import heap

    class Server(uvicorn.Server):
        """uvicorn re-raises a caught SIGTERM after its graceful stop; a stop asked for is a success."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            heap.freeze()   # the ledger state is loaded: what exists now lives as long as the process

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            captured = getattr(self, "_captured_signals", None)
            if sig == signal.SIGTERM and isinstance(captured, list) and sig in captured:
                captured.remove(sig)

    # On SIGTERM/SIGINT uvicorn stops accepting, finishes requests in flight, runs the lifespan
    # shutdown (the ledger commits what is queued), then returns.
    config = uvicorn.Config(create_app(settings), host=args.host, port=port, access_log=False,
                            log_level="warning", lifespan="on")
    server = Server(config)
    heap.tune()
    try:
        server.run()
    except SystemExit:
        if not server.started:  # uvicorn exits on a failed bind or startup
            raise EnvironmentFailure(f"the bureau could not start on {args.host}:{port} (port in use?)") from None
        raise
    return 0 if server.started else 3

"""``invoice-chaos bureau``: run the fake tax bureau (数电票 platform model) alone."""

from __future__ import annotations

import argparse
import os
import signal
from types import FrameType
from decimal import Decimal, InvalidOperation
from pathlib import Path

from typing import TYPE_CHECKING

from harness.errors import EnvironmentFailure, InputError

if TYPE_CHECKING:  # the real import stays inside run paths: `invoice-chaos --help` stays fast
    from fakes.bureau.settings import Settings

HELP = "Run the fake tax bureau (数电票 e-invoice platform model) with its admin and fault API."
EXAMPLE = "invoice-chaos bureau --port 8000 --db bureau.db --seed 7 --allow-reset"


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


def _int(option: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{option} {value!r} is not an integer") from None
    if not low <= number <= high:
        raise InputError(f"{option} {value!r} must be from {low} to {high}")
    return number


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

    class Server(uvicorn.Server):
        """uvicorn re-raises a caught SIGTERM after its graceful stop; a stop asked for is a success."""

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
    try:
        server.run()
    except SystemExit:
        if not server.started:  # uvicorn exits on a failed bind or startup
            raise EnvironmentFailure(f"the bureau could not start on {args.host}:{port} (port in use?)") from None
        raise
    return 0 if server.started else 3

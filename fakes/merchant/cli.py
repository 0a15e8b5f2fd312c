"""`invoice-chaos merchant`: run the reference merchant client (the SUT) alone.

Options default to the SUT environment of CONTRACT §3 (HOST, PORT, BUREAU_URL, SELLER_TAX_ID,
SELLER_NAME, STATE_DIR) and §5.7 (BUREAU_TIME_URL), so the harness starts it with nothing but
the environment. ``--channel lq`` issues through the asynchronous 乐企 channel (CONTRACT §5.3-§5.4).
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from harness.errors import InputError

HELP = "Run the reference merchant invoicing client (naive, retrying or resilient profile)."
EXAMPLE = ("invoice-chaos merchant --port 8081 --bureau-url http://127.0.0.1:26001 "
           "--profile resilient --state-dir /tmp/merchant")

DEFAULT_SELLER_TAX_ID = "91110108551385082Q"
DEFAULT_SELLER_NAME = "北京示例科技有限公司"
PROFILES = ("naive", "retrying", "resilient")
CHANNELS = ("sync", "lq")


def configure(parser: argparse.ArgumentParser) -> None:
    env = os.environ.get
    parser.add_argument("--host", default=env("HOST", "127.0.0.1"), help="address to listen on (env HOST)")
    parser.add_argument("--port", default=env("PORT", "8081"), help="port to listen on (env PORT; default 8081)")
    parser.add_argument("--bureau-url", default=env("BUREAU_URL", "http://127.0.0.1:26001"),
                        help="base URL of the tax bureau, as reached through the proxy (env BUREAU_URL)")
    parser.add_argument("--profile", default="resilient",
                        help=f"behaviour: {', '.join(PROFILES)} (default resilient)")
    parser.add_argument("--state-dir", default=env("STATE_DIR", ".merchant-state"),
                        help="directory of the durable outbox; survives restarts (env STATE_DIR)")
    parser.add_argument("--seller-tax-id", default=env("SELLER_TAX_ID", DEFAULT_SELLER_TAX_ID),
                        help="the merchant's 统一社会信用代码 (env SELLER_TAX_ID)")
    parser.add_argument("--seller-name", default=env("SELLER_NAME", DEFAULT_SELLER_NAME),
                        help="the merchant's name (env SELLER_NAME)")
    parser.add_argument("--seed", default=None, help="seed of the retry jitter (default: random)")
    parser.add_argument("--channel", default="sync",
                        help="sync (POST /api/v1/invoices, CONTRACT §1) or lq (number ranges, batch uploads and "
                             "polled results of the 乐企 channel, CONTRACT §5.3-§5.4); default sync")
    parser.add_argument("--bureau-time-url", default=env("BUREAU_TIME_URL"),
                        help="lq: where to read bureau time (env BUREAU_TIME_URL; default BUREAU_URL + /api/v1/time)")
    parser.add_argument("--confirm-wait-s", default="1",
                        help="resilient: seconds POST /invoices waits for the bureau's confirmation before it "
                             "answers 202 pending (default 1)")


def parse_port(value: str) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 <= port <= 65535:
        raise InputError(f"--port {value!r}: must be an integer 0-65535")
    return port


def check(args: argparse.Namespace) -> tuple[int, int | None]:
    """Validate options into (port, seed); ``InputError`` names the option and the value."""
    from fakes.bureau.rules import is_valid_uscc

    port = parse_port(args.port)
    if args.profile not in PROFILES:
        raise InputError(f"--profile {args.profile!r}: choose one of {', '.join(PROFILES)}")
    if args.channel not in CHANNELS:
        raise InputError(f"--channel {args.channel!r}: choose one of {', '.join(CHANNELS)}")
    if args.bureau_time_url is not None and not str(args.bureau_time_url).startswith(("http://", "https://")):
        raise InputError(f"--bureau-time-url {args.bureau_time_url!r} (or BUREAU_TIME_URL): must be an http:// "
                         "or https:// URL, e.g. http://127.0.0.1:26001/api/v1/time")
    confirm_wait_s(args)
    if not is_valid_uscc(args.seller_tax_id):
        raise InputError(f"--seller-tax-id {args.seller_tax_id!r}: not a valid 18-character 统一社会信用代码")
    if not 1 <= len(args.seller_name) <= 200:
        raise InputError(f"--seller-name {args.seller_name!r}: must be 1-200 characters")
    if not str(args.bureau_url).startswith(("http://", "https://")):
        raise InputError(f"--bureau-url {args.bureau_url!r}: must be an http:// or https:// URL")
    seed: int | None = None
    if args.seed is not None:
        try:
            seed = int(args.seed)
        except ValueError:
            raise InputError(f"--seed {args.seed!r}: must be an integer") from None
    state_dir = Path(args.state_dir)
    if state_dir.exists() and not state_dir.is_dir():
        raise InputError(f"--state-dir {args.state_dir!r}: exists and is not a directory")
    return port, seed


def confirm_wait_s(args: argparse.Namespace) -> float:
    try:
        seconds = float(args.confirm_wait_s)
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= 60:
        raise InputError(f"--confirm-wait-s {args.confirm_wait_s!r}: must be a number of seconds from 0 to 60")
    return seconds


def run(args: argparse.Namespace) -> int:
    port, seed = check(args)
    import uvicorn

    from fakes.merchant.app import Settings, create_app
    from fakes.merchant.lq_state import LqTuning
    from fakes.merchant.orders import Seller
    from fakes.merchant.resilient import Tuning

    try:
        Path(args.state_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--state-dir {args.state_dir!r}: cannot create it ({exc.strerror})") from None
    settings = Settings(
        bureau_url=args.bureau_url,
        state_dir=Path(args.state_dir),
        seller=Seller(args.seller_tax_id, args.seller_name),
        profile=args.profile,
        seed=seed,
        channel=args.channel,
        bureau_time_url=args.bureau_time_url,
        tuning=Tuning(confirm_wait_s=confirm_wait_s(args)),
        lq_tuning=LqTuning(confirm_wait_s=confirm_wait_s(args)),
    )
    config = uvicorn.Config(
        create_app(settings), host=args.host, port=port, access_log=False, log_level="warning",
        loop="uvloop", http="httptools", timeout_graceful_shutdown=5,
    )
    # uvicorn turns SIGTERM into a graceful shutdown (the lifespan flushes the outbox), then
    # re-raises it with the handler that was there before: make that one a no-op, so a SIGTERM
    # ends the process with status 0 instead of dying by the signal.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        uvicorn.Server(config).run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0

"""``invoice-chaos proxy``: run the embedded Toxiproxy-compatible server alone."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import EnvironmentFailure, InputError

HELP = ("Run the embedded Toxiproxy-compatible fault proxy server (the Toxiproxy 2.x REST API "
        "and every toxic), for the harness or any Toxiproxy client.")
EXAMPLE = "invoice-chaos proxy --port 8474 --seed 7 --config proxies.json"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="API address (default 127.0.0.1; Toxiproxy's default `localhost` "
                             "binds 127.0.0.1 too)")
    parser.add_argument("--port", type=int, default=8474, help="API port (default 8474)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="JSON array of proxies to create at start-up, as POST /populate")
    parser.add_argument("--seed", type=int, metavar="N",
                        help="seed for toxicity, jitter and slicing; the same seed reproduces "
                             "the same draws per proxy, toxic and connection (default: random)")


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port: {args.port} is not a TCP port (0-65535)")
    import logging
    import os

    from harness.proxy.server import new_loop

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper()
                        if os.environ.get("LOG_LEVEL", "info").upper() in logging.getLevelNamesMapping()
                        else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    loop = new_loop()
    try:
        return loop.run_until_complete(_serve(args))
    finally:
        loop.close()


async def _serve(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from harness.proxy.server import ConfigError, ProxyServer

    server = ProxyServer(args.host, args.port, args.seed)
    try:
        await server.start()
    except OSError as exc:
        raise EnvironmentFailure(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}; "
            "choose another --port") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        if args.config is not None:
            try:
                await server.populate_file(args.config)
            except ConfigError as exc:
                raise InputError(f"--config {exc}") from None
        print(f"toxiproxy-compatible API listening on http://{args.host}:{server.port} "
              f"(seed {server.api.seeds.seed})", flush=True)
        await stop.wait()
    finally:
        await server.close()
    print("proxy server stopped", file=sys.stderr, flush=True)
    return 0

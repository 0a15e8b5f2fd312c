"""`invoice-chaos images`: build (offline) or list the service images of the Docker backend."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HELP = "build the service images offline from a local base image, or list them"
EXAMPLE = "invoice-chaos images build --base invoice-chaos/base:bookworm"


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = sub.add_parser("build", help="build the bureau, merchant and proxy images (no registry needed)",
                       description="Build every service image from a local base image and a wheelhouse made "
                                   "on the host; nothing is pulled.")
    b.add_argument("--base", metavar="IMAGE",
                   help="base image with python3 (default: python:3.11-slim-bookworm if present, else "
                        "invoice-chaos/base:bookworm, which scripts/docker-setup makes)")
    b.add_argument("--wheelhouse", type=Path, metavar="DIR",
                   help="where the host's wheels go (default build/wheelhouse in the checkout)")
    b.add_argument("--only", choices=["bureau", "merchant", "proxy"], action="append",
                   help="build only this image (repeatable)")
    sub.add_parser("list", help="show the service images and whether each is built")


def say(message: str) -> None:
    print(message, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from harness import images
    from harness.backends.engine import connect

    client = connect()
    try:
        if args.action == "list":
            for target in images.TARGETS:
                name = images.image_name(target)
                print(f"{name:40} {'present' if images.has_image(client, name) else 'missing'}")
            return 0
        started = time.monotonic()
        base = images.choose_base(client, args.base)
        wheelhouse = args.wheelhouse or images.ROOT / "build" / "wheelhouse"
        images.make_wheelhouse(wheelhouse, say)
        targets = tuple(args.only) if args.only else images.TARGETS
        timings = images.build_images(client, base, wheelhouse, say, targets)
        for target, seconds in timings.items():
            print(f"{images.image_name(target)}  built in {seconds:.1f} s")
        say(f"images built from {base} in {time.monotonic() - started:.0f} s")
        return 0
    finally:
        client.close()

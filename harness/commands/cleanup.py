"""`invoice-chaos cleanup`: remove the containers, networks and volumes crashed runs left behind.

Only objects labelled ``invoice-chaos`` are touched (every run labels what it creates), so other
containers on the engine are safe. Images stay unless ``--images`` is given.
"""

from __future__ import annotations

import argparse

HELP = "remove the Docker containers, networks and volumes that runs left behind (by label)"
EXAMPLE = "invoice-chaos cleanup --run 12345007"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", metavar="RUN_ID", help="only this run's objects (run.json's run_id)")
    p.add_argument("--images", action="store_true", help="also remove the service images (invoice-chaos/*)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")


def run(args: argparse.Namespace) -> int:
    import docker.errors

    from harness.backends.engine import LABEL, RUN_LABEL, connect

    client = connect()
    flt = {"label": f"{RUN_LABEL}={args.run}" if args.run else LABEL}
    removed = 0
    try:
        for obj in client.containers.list(all=True, filters=flt):
            print(f"container {obj.name} ({obj.status})")
            if not args.dry_run:
                _quietly(lambda o=obj: o.remove(force=True, v=True), docker.errors.NotFound)
            removed += 1
        for kind in ("networks", "volumes"):
            for obj in getattr(client, kind).list(filters=flt):
                print(f"{kind[:-1]} {obj.name}")
                if not args.dry_run:
                    _quietly(obj.remove, docker.errors.NotFound)
                removed += 1
        if args.images:
            for image in client.images.list(filters={"label": LABEL}):
                tags = ", ".join(image.tags) or image.short_id
                print(f"image {tags}")
                if not args.dry_run:
                    _quietly(lambda i=image: client.images.remove(i.id, force=True), docker.errors.ImageNotFound)
                removed += 1
    finally:
        client.close()
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {removed} object(s)" if removed else "nothing to remove")
    return 0


def _quietly(action: object, gone: type[Exception]) -> None:
    try:
        action()  # type: ignore[operator]
    except gone:
        pass

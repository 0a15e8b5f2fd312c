"""`invoice-chaos cleanup`: end what runs whose harness is gone left behind.

Two kinds of leftovers, both found from what the harness recorded, so nothing else is touched:

- local services (bureau, proxy, SUT, Locust) of a harness killed outright, from the
  registries in the state directory (``harness.lifeline``); their reaper normally ends them
  within a second, this is the fallback;
- Docker containers, networks and volumes labelled ``invoice-chaos`` whose run's harness is
  gone (``harness.backends.docker_lifeline``). ``--all`` also removes runs whose harness still
  runs (or runs on another host), ``--run ID`` one run whatever its state. Images stay unless
  ``--images`` is given. No Docker engine is no error: the local part still runs.
"""

from __future__ import annotations

import argparse

HELP = "end the services and remove the Docker objects that runs whose harness is gone left behind"
EXAMPLE = "invoice-chaos cleanup --dry-run"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", metavar="RUN_ID", help="only this run's Docker objects (run.json's run_id), stale or not")
    p.add_argument("--all", action="store_true",
                   help="every invoice-chaos Docker object, also of runs whose harness still runs")
    p.add_argument("--images", action="store_true", help="also remove the service images (invoice-chaos/*)")
    p.add_argument("--dry-run", action="store_true", help="list what would be removed, remove nothing")


def run(args: argparse.Namespace) -> int:
    from harness.lifeline import reap_stale

    found = len(reap_stale(print, dry_run=args.dry_run))
    found += _docker(args)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {found} leftover(s)" if found else "nothing to remove")
    return 0


def _docker(args: argparse.Namespace) -> int:
    from harness.backends.engine import LABEL, RUN_LABEL, engine_answers

    why_not = engine_answers()
    if why_not is not None:
        print(f"Docker: skipped ({why_not.split(';')[0]})")
        return 0
    import docker.errors

    from harness.backends.docker_lifeline import stale_runs
    from harness.backends.engine import connect

    client = connect()
    removed = 0
    try:
        stale = stale_runs(client)
        flt = {"label": f"{RUN_LABEL}={args.run}" if args.run else LABEL}
        kept: set[str] = set()
        for kind in ("containers", "networks", "volumes"):
            coll = getattr(client, kind)
            for obj in coll.list(all=True, filters=flt) if kind == "containers" else coll.list(filters=flt):
                tags = obj.labels if kind == "containers" else (obj.attrs.get("Labels") or {})
                run_id = tags.get(RUN_LABEL, "?")
                if not (args.run or args.all or run_id in stale):
                    kept.add(run_id)
                    continue
                why = stale.get(run_id, "asked for")
                status = f", {obj.status}" if kind == "containers" else ""
                print(f"{kind[:-1]} {obj.name} (run {run_id}{status}): {why}")
                if not args.dry_run:
                    _quietly(lambda o=obj, k=kind: o.remove(force=True, v=True) if k == "containers" else o.remove(),
                             docker.errors.NotFound)
                removed += 1
        if kept:
            print(f"kept the Docker objects of {len(kept)} run(s) whose harness still runs ({', '.join(sorted(kept))}); "
                  "--all removes them too")
        if args.images:
            for image in client.images.list(filters={"label": LABEL}):
                print(f"image {', '.join(image.tags) or image.short_id}")
                if not args.dry_run:
                    _quietly(lambda i=image: client.images.remove(i.id, force=True), docker.errors.ImageNotFound)
                removed += 1
    finally:
        client.close()
    return removed


def _quietly(action: object, gone: type[Exception]) -> None:
    try:
        action()  # type: ignore[operator]
    except gone:
        pass

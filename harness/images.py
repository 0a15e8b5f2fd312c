"""The service images: their names, and an offline build from a local base and a host wheelhouse.

Contract: ``build_images`` never reaches an image registry. The wheelhouse (``build/wheelhouse``
in the checkout) holds the wheels of the ``service`` extra (downloaded by the host's pip, which
can verify the package index) and this checkout's own wheel; the Docker build installs from it
with ``--no-index``. The build context is a temporary directory with only the Dockerfile and
the wheels, so the checkout's ``.venv`` and reports never travel to the engine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import BackendError, InputError

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "docker" / "Dockerfile"
TARGETS = ("bureau", "merchant", "proxy")
OFFICIAL_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "invoice-chaos/base:bookworm"   # made by scripts/docker-setup (debootstrap)
REPO = "invoice-chaos"


def image_name(target: str, version: str = __version__) -> str:
    """The tag of one service image, e.g. ``invoice-chaos/bureau:0.1.0``."""
    return f"{REPO}/{target}:{version}"


def has_image(client: Any, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
    except docker.errors.ImageNotFound:
        return False
    return True


def choose_base(client: Any, base: str | None) -> str:
    """The base to build from: the one given, else the official slim image or the debootstrap one, if local."""
    if base:
        if not has_image(client, base):
            raise InputError(f"--base {base}: no such image in the local Docker image store "
                             f"(`docker images`); make one with scripts/docker-setup, or `docker pull {base}`")
        return base
    for name in (OFFICIAL_BASE, LOCAL_BASE):
        if has_image(client, name):
            return name
    raise BackendError(f"no base image: neither {OFFICIAL_BASE} nor {LOCAL_BASE} is in the local image store; "
                       f"run `scripts/docker-setup` (builds {LOCAL_BASE} with debootstrap, no registry needed) "
                       f"or `docker pull {OFFICIAL_BASE}`, or pass --base IMAGE")


def service_requirements() -> list[str]:
    """The ``service`` extra of pyproject.toml: what the images install, and nothing else."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["optional-dependencies"]["service"])


def make_wheelhouse(dest: Path, say: Callable[[str], None]) -> None:
    """Fill ``dest`` with wheels of the service extra and this checkout (host pip, binary only)."""
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("invoice_chaos-*.whl"):
        old.unlink()
    reqs = service_requirements()
    (dest / "requirements.txt").write_text("\n".join(reqs) + "\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    say(f"wheelhouse: {dest} ({len(reqs)} requirements of the service extra)")
    _run(pip + ["download", "--only-binary=:all:", "--dest", str(dest), "-r", str(dest / "requirements.txt")],
         "pip download of the service extra failed (does the host reach the package index?)")
    _run(pip + ["wheel", "--no-deps", "--wheel-dir", str(dest), str(ROOT)],
         "building the invoice-chaos wheel failed")


def _run(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise BackendError(f"{what}:\n{tail}")


def build_images(client: Any, base: str, wheelhouse: Path, say: Callable[[str], None],
                 targets: tuple[str, ...] = TARGETS) -> dict[str, float]:
    """Build every target from ``base``; returns seconds per target. Raises ``BackendError`` with the build log tail."""
    import docker.errors

    _check_python(client, base)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="invoice-chaos-build-") as tmp:
        ctx = Path(tmp)
        shutil.copy(DOCKERFILE, ctx / "Dockerfile")
        shutil.copy(DOCKERFILE.parent / "service-entry.py", ctx / "service-entry.py")
        shutil.copytree(wheelhouse, ctx / "wheels")
        for target in targets:
            started = time.monotonic()
            say(f"building {image_name(target)} from {base} ...")
            try:
                client.images.build(path=str(ctx), target=target, tag=image_name(target), rm=True,
                                    buildargs={"BASE": base, "VERSION": __version__},
                                    labels={"invoice-chaos": "1"})
            except docker.errors.BuildError as exc:
                lines = [str(c.get("stream") or c.get("error") or "").rstrip() for c in exc.build_log]
                tail = "\n".join(line for line in lines if line)[-3000:]
                raise BackendError(f"building {image_name(target)} failed: {exc.msg}\n{tail}") from None
            timings[target] = round(time.monotonic() - started, 1)
    return timings


def _check_python(client: Any, base: str) -> None:
    """The host's wheels fit only the same Python minor version; say so before a long build fails."""
    want = f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        out = client.containers.run(base, ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                    remove=True, network_disabled=True, entrypoint=[])
    except Exception as exc:  # noqa: BLE001 - any failure here means the base is unusable
        raise BackendError(f"base image {base}: cannot run python3 in it ({exc}); "
                           "the base needs python3 with its venv module") from None
    got = out.decode().strip()
    if got != want:
        raise InputError(f"base image {base} has Python {got}, the host {want}: the host's wheels would not fit; "
                         f"use a base with Python {want} (e.g. python:{want}-slim-bookworm) or run with that Python")

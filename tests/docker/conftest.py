"""Docker tests: skipped, with the reason, when no engine answers or the images are not built.

CI (`.ci/run`) installs and starts an engine and builds the images first; on a laptop run
`scripts/docker-setup && .venv/bin/invoice-chaos images build` (docs/docker.md).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def docker_unavailable() -> str | None:
    """None when the engine answers and the service images exist, else why the tests skip."""
    from harness import images
    from harness.backends.engine import connect, engine_answers

    reason = engine_answers()
    if reason:
        return f"no Docker engine: {reason}"
    client = connect()
    try:
        missing = [images.image_name(t) for t in images.TARGETS if not images.has_image(client, images.image_name(t))]
    finally:
        client.close()
    if missing:
        return f"service images not built ({', '.join(missing)}): run `invoice-chaos images build`"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("docker") is None:
            continue
        reason = docker_unavailable()
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def client() -> Iterator[Any]:
    from harness.backends.engine import connect

    c = connect()
    yield c
    c.close()


def _cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `invoice-chaos ARGS...` from the checkout; returns the completed process."""
    return _cli


@pytest.fixture
def objects_of_run(client: Any) -> Callable[[str], list[str]]:
    """Names of every container, network and volume labelled with a run id."""
    def names(run_id: str) -> list[str]:
        flt = {"label": f"invoice-chaos.run={run_id}"}
        return ([c.name for c in client.containers.list(all=True, filters=flt)]
                + [n.name for n in client.networks.list(filters=flt)]
                + [v.name for v in client.volumes.list(filters=flt)])
    return names

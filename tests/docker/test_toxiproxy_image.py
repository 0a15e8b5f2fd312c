"""The real-Toxiproxy path: a local image named by --toxiproxy-image runs with its own command.

No registry is reachable in tests, so the embedded proxy's image stands in for
ghcr.io/shopify/toxiproxy under another tag: what is checked is the harness's side (the image
is found locally, started without a command, driven through the Toxiproxy API, recorded).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import images

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def standin(client: Any) -> Iterator[str]:
    tag = f"t{uuid.uuid4().hex[:8]}"
    client.images.get(images.image_name("proxy")).tag("invoice-chaos-test/toxiproxy", tag=tag)
    name = f"invoice-chaos-test/toxiproxy:{tag}"
    yield name
    client.images.remove(name)


def test_local_toxiproxy_image_is_used_and_recorded(standin: str, tmp_path: Path, cli: Any,
                                                    objects_of_run: Any) -> None:
    out = tmp_path / "run"
    proc = cli("run", str(ROOT / "tests" / "docker" / "data" / "short-down.yaml"), "--backend", "docker",
               "--toxiproxy-image", standin, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = json.loads((out / "run.json").read_text())
    assert meta["services"]["proxy"] == {"kind": "toxiproxy", "image": standin, "reason": "image present locally"}
    summary = json.loads((out / "summary.json").read_text())
    (fault,) = summary["faults"]
    assert fault["time_to_detect_s"] is not None   # the down fault really went through that proxy
    assert objects_of_run(meta["run_id"]) == []

"""The Docker backend's service handle: labels, 127.0.0.1-only ports, pause, SIGKILL, restart,
state that survives, logs, and removal of everything (also on Ctrl-C and by `cleanup`)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness import images
from harness.backends.docker import DockerBackend, DockerService
from harness.backends.engine import LABEL, RUN_LABEL
from harness.net import http_ok

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.docker

INVOICE = {
    "external_id": "ORDER-1", "request_id": "R-1", "kind": "normal",
    "seller": {"tax_id": "91110108551385082Q", "name": "北京示例科技有限公司"},
    "buyer": {"tax_id": "91350100M000100Y43", "name": "福建示例贸易有限公司"},
    "lines": [{"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
               "quantity": "2", "unit_price": "50.00", "amount": "100.00", "tax_rate": "0.06", "tax_amount": "6.00"}],
    "total_amount": "100.00", "total_tax": "6.00", "total_with_tax": "106.00",
}


def ledger_size(svc: DockerService) -> int:
    text = httpx.get(f"{svc.url}/admin/ledger", timeout=5).text
    return len([line for line in text.splitlines() if line.strip()])


async def lifecycle(backend: DockerBackend, client: Any) -> DockerService:
    await backend.open()
    svc = backend.container("bureau", images.image_name("bureau"),
                            ["bureau", "--host", "0.0.0.0", "--port", "8000", "--db", "/data/bureau.db"],
                            env={}, port=8000, health_path="/health", volume="/data")
    await svc.start()
    await svc.wait_healthy()
    attrs = client.containers.get(svc.hostname).attrs
    assert attrs["Config"]["Labels"][RUN_LABEL] == backend.run_id and attrs["Config"]["Labels"][LABEL] == "1"
    assert attrs["Config"]["User"] == "app"
    bindings = attrs["HostConfig"]["PortBindings"]["8000/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    assert httpx.post(f"{svc.url}/api/v1/invoices", json=INVOICE, timeout=10).status_code == 201

    await svc.pause()
    assert svc.alive and not http_ok(svc.health_url, 1.0)
    await svc.resume()
    assert http_ok(svc.health_url, 5.0)

    await svc.kill()
    assert not svc.alive and svc.returncode == 137
    await svc.start()
    await svc.wait_healthy()
    assert ledger_size(svc) == 1, "the ledger must survive SIGKILL (same container, /data volume)"

    await svc.restart()
    assert svc.alive and ledger_size(svc) == 1 and svc.starts == 3
    return svc


def test_service_lifecycle_and_removal(tmp_path: Path, client: Any, objects_of_run: Any) -> None:
    backend = DockerBackend(tmp_path / "logs", f"t{uuid.uuid4().hex[:8]}", client)

    async def main() -> DockerService:
        try:
            return await lifecycle(backend, client)
        finally:
            await backend.close()

    svc = asyncio.run(main())
    assert objects_of_run(backend.run_id) == []
    assert svc.log_path.read_text().startswith(f"--- container {svc.hostname}")


def test_ctrl_c_removes_every_container(tmp_path: Path, objects_of_run: Any) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "scenarios/smoke.yaml", "--backend", "docker",
                             "--out", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        ops = out / "operations.jsonl"
        while time.monotonic() < deadline and not (ops.exists() and ops.stat().st_size > 2000):
            time.sleep(0.2)
        assert ops.exists(), "the load never started"
        run_id = json.loads((out / "run.json").read_text())["run_id"]
        assert objects_of_run(run_id), "expected the run's containers while it runs"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-3000:]
    assert objects_of_run(run_id) == []
    assert json.loads((out / "run.json").read_text())["interrupted"] is True


def test_cleanup_removes_leftovers_by_label(client: Any, cli: Any, objects_of_run: Any) -> None:
    run_id = f"t{uuid.uuid4().hex[:8]}"
    labels = {LABEL: "1", RUN_LABEL: run_id}
    client.networks.create(f"ic-{run_id}", labels=labels)
    client.containers.create(images.image_name("bureau"), name=f"ic-{run_id}-bureau", labels=labels)
    bystander = client.containers.create(images.image_name("bureau"), name=f"bystander-{run_id}")
    try:
        dry = cli("cleanup", "--run", run_id, "--dry-run")
        assert dry.returncode == 0 and f"ic-{run_id}-bureau" in dry.stdout
        assert len(objects_of_run(run_id)) == 2
        done = cli("cleanup", "--run", run_id)
        assert done.returncode == 0, done.stderr
        assert objects_of_run(run_id) == []
        bystander.reload()   # an unlabelled container is never touched
    finally:
        bystander.remove(force=True, v=True)


def test_vendor_image_gets_the_contract_environment(tmp_path: Path, cli: Any, objects_of_run: Any) -> None:
    """--sut-image (the merchant image stands in for a vendor's): paused, killed, restarted from /state."""
    out = tmp_path / "run"
    proc = cli("run", str(ROOT / "tests" / "docker" / "data" / "sut-faults.yaml"),
               "--sut-image", images.image_name("merchant"), "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert summary["verdict"] == "pass"
    meta = json.loads((out / "run.json").read_text())
    assert meta["backend"] == "docker" and meta["sut"] == f"image:{images.image_name('merchant')}"
    assert objects_of_run(meta["run_id"]) == []

"""Start the services of a run (bureau, fault proxy, SUT) and wire SUT -> proxy -> bureau.

Everything listens on 127.0.0.1 on ports the OS hands out, except the proxy's listen address
for ``--sut-url`` runs, which the already running SUT was configured with (``--bureau-listen``).
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.backends.local import LocalBackend, LocalService
from harness.errors import BackendError, InputError
from harness.net import free_port
from harness.scenario import Scenario

PY = sys.executable


@dataclass(frozen=True)
class SutChoice:
    """How the SUT runs: a reference profile, a command, or a URL of a running SUT."""

    reference: str | None = None
    cmd: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        if self.reference:
            return f"reference:{self.reference}"
        return f"cmd:{self.cmd}" if self.cmd else f"url:{self.url}"


def choose_sut(scenario: Scenario, sut: str | None, sut_cmd: str | None, sut_url: str | None) -> SutChoice:
    given = [x for x in (sut, sut_cmd, sut_url) if x]
    if len(given) > 1:
        raise InputError("give one of --sut, --sut-cmd, --sut-url")
    if sut:
        kind, _, profile = sut.partition(":")
        if kind != "reference" or profile not in ("naive", "retrying", "resilient"):
            raise InputError(f"--sut {sut!r}: use reference:naive, reference:retrying or reference:resilient, or --sut-cmd / --sut-url")
        return SutChoice(reference=profile)
    if sut_cmd:
        return SutChoice(cmd=sut_cmd)
    if sut_url:
        return SutChoice(url=sut_url.rstrip("/"))
    s = scenario.services.sut
    if s.image:
        raise InputError("services.sut.image needs the Docker backend, which this version does not have yet; use --sut-cmd")
    if s.cmd:
        return SutChoice(cmd=s.cmd)
    if s.url:
        return SutChoice(url=s.url.rstrip("/"))
    return SutChoice(reference=s.reference or "resilient")


@dataclass
class Stack:
    """The running services of one run, and what the faults need to reach them."""

    bureau: LocalService
    proxy: LocalService | None
    sut: LocalService | None
    sut_url: str
    toxiproxy_url: str
    proxy_name: str
    proxy_listen: str
    sut_capabilities: list[str] = field(default_factory=list)

    @property
    def bureau_admin_url(self) -> str:
        return self.bureau.url

    def service(self, target: str) -> LocalService:
        svc = {"bureau": self.bureau, "proxy": self.proxy, "sut": self.sut}.get(target)
        if svc is None:
            raise BackendError(f"no {target} process to act on in this run")
        return svc


async def start_stack(
    stack: AsyncExitStack,
    backend: LocalBackend,
    scenario: Scenario,
    sut: SutChoice,
    *,
    run_id: str,
    state_dir: Path,
    toxiproxy_url: str | None,
    bureau_listen: str,
) -> Stack:
    b = scenario.services.bureau
    bureau_port = free_port()
    bureau_argv = [PY, "-m", "harness.cli", "bureau", "--port", str(bureau_port),
                   "--db", str(state_dir / "bureau.db"), "--seed", str(scenario.seed),
                   "--region", b.region, "--dedup", b.dedup, "--allow-reset"]
    if b.rates:
        bureau_argv += ["--rates", ",".join(b.rates)]
    bureau = backend.service("bureau", bureau_argv, env={}, port=bureau_port, health_path="/health")
    proxy: LocalService | None = None
    if toxiproxy_url is None:
        proxy_port = free_port()
        proxy = backend.service("proxy", [PY, "-m", "harness.cli", "proxy", "--port", str(proxy_port),
                                          "--seed", str(scenario.seed)],
                                env={}, port=proxy_port, health_path="/version")
        toxiproxy_url = proxy.url
    await asyncio.gather(bureau.start(), *([proxy.start()] if proxy else []))
    await asyncio.gather(bureau.wait_healthy(), *([proxy.wait_healthy()] if proxy else []))

    from harness.faults.network import ToxiproxyClient

    adapter = ToxiproxyClient(toxiproxy_url)
    proxy_name = f"ic-{run_id}-bureau"
    listen = bureau_listen if sut.url else f"127.0.0.1:{free_port()}"
    bound = await asyncio.to_thread(adapter.create_proxy, proxy_name, listen, f"127.0.0.1:{bureau_port}")
    stack.push_async_callback(asyncio.to_thread, _delete_quietly, adapter, proxy_name)

    sut_svc: LocalService | None = None
    if sut.url:
        sut_url = sut.url
    else:
        sut_port = free_port()
        env = {
            "HOST": "127.0.0.1", "PORT": str(sut_port), "BUREAU_URL": f"http://{bound}",
            "SELLER_TAX_ID": scenario.services.seller.tax_id, "SELLER_NAME": scenario.services.seller.name,
            "STATE_DIR": str(state_dir / "sut"),
        }
        (state_dir / "sut").mkdir(parents=True, exist_ok=True)
        if sut.reference:
            argv: list[str] | str = [PY, "-m", "harness.cli", "merchant", "--profile", sut.reference]
            sut_svc = backend.service("sut", argv, env=env, port=sut_port, health_path="/health")
        else:
            assert sut.cmd is not None
            _check_cmd(sut.cmd)
            sut_svc = backend.service("sut", sut.cmd, env=env, port=sut_port, health_path="/health", shell=True)
        await sut_svc.start()
        await sut_svc.wait_healthy()
        sut_url = sut_svc.url
    caps = await _capabilities(sut_url)
    return Stack(bureau=bureau, proxy=proxy, sut=sut_svc, sut_url=sut_url, toxiproxy_url=toxiproxy_url,
                 proxy_name=proxy_name, proxy_listen=bound, sut_capabilities=caps)


def _check_cmd(cmd: str) -> None:
    try:
        words = shlex.split(cmd)
    except ValueError as exc:
        raise InputError(f"--sut-cmd {cmd!r}: cannot be parsed as a shell command: {exc}") from None
    if not words:
        raise InputError("--sut-cmd is empty; give the command that starts your SUT")


def _delete_quietly(adapter: Any, name: str) -> None:
    try:
        adapter.delete_proxy(name)
    except Exception:  # noqa: BLE001 - cleanup must go on; the proxy server is stopped next anyway
        pass


async def _capabilities(sut_url: str) -> list[str]:
    try:
        async with httpx.AsyncClient(timeout=5.0) as client:
            resp = await client.get(f"{sut_url}/health")
    except httpx.HTTPError as exc:
        raise BackendError(f"the SUT at {sut_url} does not answer GET /health: {exc}") from exc
    if resp.status_code != 200:
        raise BackendError(f"the SUT at {sut_url} answered GET /health with {resp.status_code}, not 200")
    try:
        caps = resp.json().get("capabilities", [])
    except (ValueError, AttributeError):
        caps = []
    return [str(c) for c in caps] if isinstance(caps, list) else []

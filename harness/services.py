"""Start the services of a run (bureau, fault proxy, SUT) and wire SUT -> proxy -> bureau.

Everything listens on 127.0.0.1 on ports the OS hands out, except the proxy's listen address
for ``--sut-url`` runs, which the already running SUT was configured with (``--bureau-listen``).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from harness.backends.base import Service
from harness.backends.local import LocalBackend
from harness.bureau_command import bureau_args
from harness.errors import BackendError, InputError
from harness.labels import check_label
from harness.net import free_port
from harness.proxy.original import check_option, server_argv
from harness.scenario import Scenario

PY = sys.executable


@dataclass(frozen=True)
class SutChoice:
    """How the SUT runs: a reference profile, a command, or a URL of a running SUT; ``name``
    is the label a person gave it (``--label``, ``services.sut.label``), e.g. a vendor's."""

    reference: str | None = None
    cmd: str | None = None
    url: str | None = None
    image: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        """What reports and ``compare`` call the SUT: its name, else how it was started."""
        return self.name or self.spec

    @property
    def spec(self) -> str:
        """How the SUT was started (``reference:resilient``, ``cmd:...``, ``image:...``, ``url:...``)."""
        if self.reference:
            return f"reference:{self.reference}"
        if self.image:
            return f"image:{self.image}"
        return f"cmd:{self.cmd}" if self.cmd else f"url:{self.url}"


def choose_sut(scenario: Scenario, sut: str | None, sut_cmd: str | None, sut_url: str | None,
               sut_image: str | None = None, backend: str = "local", label: str | None = None) -> SutChoice:
    """The SUT of a run. ``label`` (``--label``) names it; without it, the scenario's
    ``services.sut.label`` names the scenario's own SUT (not one the command line swapped in)."""
    given = [x for x in (sut, sut_cmd, sut_url, sut_image) if x]
    if len(given) > 1:
        raise InputError("give one of --sut, --sut-cmd, --sut-url, --sut-image")
    if label is not None:
        try:
            check_label(label)
        except ValueError as exc:
            raise InputError(f"--label {label!r}: {exc}") from None
    choice = _choose_sut(scenario, sut, sut_cmd, sut_url, sut_image)
    name = label if label is not None else (None if given else scenario.services.sut.label)
    if name:
        choice = replace(choice, name=name)
    if choice.image and backend != "docker":
        raise InputError(f"SUT image {choice.image}: images run on the Docker backend; add --backend docker")
    if choice.cmd and backend == "docker":
        raise InputError(f"SUT command {choice.cmd!r}: the Docker backend runs images, not host commands; "
                         "use --sut-image, or --backend local")
    return choice


def _choose_sut(scenario: Scenario, sut: str | None, sut_cmd: str | None, sut_url: str | None,
                sut_image: str | None) -> SutChoice:
    if sut_image:
        return SutChoice(image=sut_image)
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
        return SutChoice(image=s.image)
    if s.cmd:
        return SutChoice(cmd=s.cmd)
    if s.url:
        return SutChoice(url=s.url.rstrip("/"))
    return SutChoice(reference=s.reference or "resilient")


@dataclass
class Stack:
    """The running services of one run, and what the faults need to reach them."""

    bureau: Service
    proxy: Service | None
    sut: Service | None
    sut_url: str
    toxiproxy_url: str
    proxy_name: str
    proxy_listen: str
    sut_capabilities: list[str] = field(default_factory=list)
    proxy_info: dict[str, str] = field(default_factory=lambda: {"kind": "embedded"})  # which proxy ran

    @property
    def bureau_admin_url(self) -> str:
        return self.bureau.url

    def service(self, target: str) -> Service:
        svc = {"bureau": self.bureau, "proxy": self.proxy, "sut": self.sut}.get(target)
        if svc is None:
            raise BackendError(f"no {target} process to act on in this run")
        return svc


async def start_stack(
    stack: AsyncExitStack,
    backend: Any,
    scenario: Scenario,
    sut: SutChoice,
    *,
    run_id: str,
    state_dir: Path,
    toxiproxy_url: str | None,
    bureau_listen: str,
    toxiproxy_image: str = "ghcr.io/shopify/toxiproxy",
    pull: bool = False,
    toxiproxy_bin: Path | None = None,
) -> Stack:
    """Start bureau, proxy and SUT on ``backend`` (a ``LocalBackend`` or a ``DockerBackend``).

    The proxy is the embedded one, the server at ``toxiproxy_url``, or the Toxiproxy binary
    ``toxiproxy_bin`` started as the run's proxy service (local backend only)."""
    toxiproxy_bin = check_option(toxiproxy_bin, toxiproxy_url, backend.name)
    if backend.name == "docker":
        if toxiproxy_url:
            raise InputError("--toxiproxy-url cannot be used with --backend docker (the proxy must reach the "
                             "bureau's container); use --toxiproxy-image")
        return await _start_docker(backend, scenario, sut, run_id, toxiproxy_image, pull, bureau_listen)
    assert isinstance(backend, LocalBackend)
    bureau_port = free_port()
    bureau_argv = [PY, "-m", "harness.cli", "bureau", "--port", str(bureau_port),
                   "--db", str(state_dir / "bureau.db"), *bureau_args(scenario)]
    bureau = backend.service("bureau", bureau_argv, env={}, port=bureau_port, health_path="/health")
    proxy: Service | None = None
    if toxiproxy_url is None:
        proxy_port = free_port()
        proxy_argv = ([PY, "-m", "harness.cli", "proxy", "--port", str(proxy_port), "--seed", str(scenario.seed)]
                      if toxiproxy_bin is None else server_argv(toxiproxy_bin, proxy_port))
        # Toxiproxy logs every link at trace level by default; info is what the embedded one logs.
        proxy_env = {"LOG_LEVEL": os.environ.get("LOG_LEVEL", "info")} if toxiproxy_bin else {}
        proxy = backend.service("proxy", proxy_argv, env=proxy_env, port=proxy_port, health_path="/version")
        toxiproxy_url = proxy.url
    await asyncio.gather(bureau.start(), *([proxy.start()] if proxy else []))
    await asyncio.gather(bureau.wait_healthy(), *([proxy.wait_healthy()] if proxy else []))

    from harness.faults.network import ToxiproxyClient

    adapter = ToxiproxyClient(toxiproxy_url)
    proxy_name = f"ic-{run_id}-bureau"
    listen = bureau_listen if sut.url else f"127.0.0.1:{free_port()}"
    bound = await asyncio.to_thread(adapter.create_proxy, proxy_name, listen, f"127.0.0.1:{bureau_port}")
    stack.push_async_callback(asyncio.to_thread, _delete_quietly, adapter, proxy_name)

    sut_svc: Service | None = None
    if sut.url:
        sut_url = sut.url
    else:
        sut_port = free_port()
        env = {
            "HOST": "127.0.0.1", "PORT": str(sut_port), "BUREAU_URL": f"http://{bound}",
            "BUREAU_TIME_URL": f"http://{bound}/api/v1/time",
            "SELLER_TAX_ID": scenario.services.seller.tax_id, "SELLER_NAME": scenario.services.seller.name,
            "STATE_DIR": str(state_dir / "sut"),
        }
        (state_dir / "sut").mkdir(parents=True, exist_ok=True)
        if sut.reference:
            argv: list[str] | str = [PY, "-m", "harness.cli", "merchant", "--profile", sut.reference,
                                     "--channel", scenario.reference_channel]
            sut_svc = backend.service("sut", argv, env=env, port=sut_port, health_path="/health")
        else:
            assert sut.cmd is not None
            _check_cmd(sut.cmd)
            sut_svc = backend.service("sut", sut.cmd, env=env, port=sut_port, health_path="/health", shell=True)
        sut_svc.health_timeout_s = scenario.services.sut.health_timeout_s or 30.0
        sut_svc.health_hint = (f" (the SUT must listen on $HOST:$PORT, here 127.0.0.1:{sut_port}, and answer GET /health "
                               "with 200 when ready; give a slow start more time with services.sut.health_timeout_s "
                               "or --sut-health-timeout)")
        await sut_svc.start()
        await sut_svc.wait_healthy()
        sut_url = sut_svc.url
    caps = await _capabilities(sut_url)
    if proxy is not None and toxiproxy_bin is None:
        proxy_info = {"kind": "embedded", "url": toxiproxy_url}
    else:  # a server the user named: report what it says it is
        version = await asyncio.to_thread(adapter.version)
        proxy_info = ({"kind": "toxiproxy-url", "url": toxiproxy_url, "version": version} if proxy is None else
                      {"kind": "toxiproxy-bin", "path": str(toxiproxy_bin), "url": toxiproxy_url, "version": version})
    return Stack(bureau=bureau, proxy=proxy, sut=sut_svc, sut_url=sut_url, toxiproxy_url=toxiproxy_url,
                 proxy_name=proxy_name, proxy_listen=bound, sut_capabilities=caps, proxy_info=proxy_info)


async def _start_docker(backend: Any, scenario: Scenario, sut: SutChoice, run_id: str, toxiproxy_image: str,
                        pull: bool, bureau_listen: str) -> Stack:
    from harness.backends.docker_stack import start_containers

    parts = await start_containers(backend, scenario, reference=sut.reference, sut_image=sut.image, sut_url=sut.url,
                                   proxy_name=f"ic-{run_id}-bureau", toxiproxy_image=toxiproxy_image, pull=pull,
                                   bureau_listen=bureau_listen)
    caps = await _capabilities(parts.sut_url)
    return Stack(bureau=parts.bureau, proxy=parts.proxy, sut=parts.sut, sut_url=parts.sut_url,
                 toxiproxy_url=parts.toxiproxy_url, proxy_name=f"ic-{run_id}-bureau", proxy_listen=parts.proxy_listen,
                 sut_capabilities=caps, proxy_info=parts.proxy_choice.as_dict())


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

"""Start a run's services as containers and wire SUT -> proxy -> bureau on the run's network.

Inside the network, names are container names (``ic-<run id>-bureau`` ...) and ports are fixed
(bureau 8000, proxy API 8474, the proxied bureau 26001, SUT 8080); the harness and the load
reach every service through its port published on 127.0.0.1. The fault proxy is a real
Toxiproxy when its image is in the local store (pulled only with ``--pull``), else the embedded
proxy's image; ``ProxyChoice`` records which.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from harness import images
from harness.backends.docker import DockerBackend, DockerService
from harness.errors import BackendError, InputError
from harness.scenario import Scenario

BUREAU_PORT, PROXY_API_PORT, PROXIED_PORT, SUT_PORT = 8000, 8474, 26001, 8080
DEFAULT_TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy"


@dataclass(frozen=True)
class ProxyChoice:
    kind: str     # "toxiproxy" (the real one) or "embedded"
    image: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "image": self.image, "reason": self.reason}


def choose_proxy(client: Any, toxiproxy_image: str, pull: bool) -> ProxyChoice:
    """The real Toxiproxy when its image is local (or ``pull`` fetched it), else the embedded one."""
    if images.has_image(client, toxiproxy_image):
        return ProxyChoice("toxiproxy", toxiproxy_image, "image present locally")
    if pull:
        import docker.errors
        from docker.utils import parse_repository_tag

        repo, tag = parse_repository_tag(toxiproxy_image)
        try:
            client.images.pull(repo, tag=tag or "latest")
        except docker.errors.APIError as exc:
            raise BackendError(f"--pull: cannot pull {toxiproxy_image}: {exc.explanation or exc}; "
                               "leave out --pull to use the embedded proxy") from None
        return ProxyChoice("toxiproxy", toxiproxy_image, "pulled (--pull)")
    embedded = images.image_name("proxy")
    return ProxyChoice("embedded", embedded, f"{toxiproxy_image} not in the local image store (no --pull)")


def require_images(client: Any, names: list[str]) -> None:
    """Every image must be local already: nothing is pulled (CONTRACT §4)."""
    missing = [n for n in names if not images.has_image(client, n)]
    ours = [n for n in missing if n.startswith(f"{images.REPO}/")]
    theirs = [n for n in missing if n not in ours]
    if ours:
        raise BackendError(f"missing image(s) {', '.join(ours)}: build them with `invoice-chaos images build` "
                           "(offline, from a local base image; see docs/docker.md)")
    if theirs:
        raise BackendError(f"SUT image {', '.join(theirs)} is not in the local image store and invoice-chaos never "
                           "pulls it: `docker load -i IMAGE.tar` or `docker pull` it first")


@dataclass
class DockerStackParts:
    bureau: DockerService
    proxy: DockerService
    sut: DockerService | None
    sut_url: str
    toxiproxy_url: str
    bureau_host_port: int
    proxy_listen: str
    proxy_choice: ProxyChoice


async def start_containers(backend: DockerBackend, scenario: Scenario, *, reference: str | None,
                           sut_image: str | None, sut_url: str | None, proxy_name: str,
                           toxiproxy_image: str, pull: bool, bureau_listen: str) -> DockerStackParts:
    """Start bureau and proxy, create the proxied route, then the SUT; every container health-waited."""
    client = backend.client
    choice = await asyncio.to_thread(choose_proxy, client, toxiproxy_image, pull)
    needed = [images.image_name("bureau")] + ([images.image_name("proxy")] if choice.kind == "embedded" else [])
    if reference:
        needed.append(images.image_name("merchant"))
    elif sut_image:
        needed.append(sut_image)
    await asyncio.to_thread(require_images, client, needed)
    await backend.open()

    from harness.bureau_command import bureau_args

    cmd = ["bureau", "--host", "0.0.0.0", "--port", str(BUREAU_PORT), "--db", "/data/bureau.db",
           *bureau_args(scenario)]
    bureau = backend.container("bureau", images.image_name("bureau"), cmd, env={}, port=BUREAU_PORT,
                               health_path="/health", volume="/data")
    extra: dict[int, int] = {}
    if sut_url:   # an outside SUT reaches the proxied bureau on --bureau-listen
        host, _, port = bureau_listen.rpartition(":")
        if host not in ("127.0.0.1", "localhost", ""):
            raise InputError(f"--bureau-listen {bureau_listen}: the Docker backend publishes on 127.0.0.1 only")
        extra[PROXIED_PORT] = int(port)
    pcmd = None if choice.kind == "toxiproxy" else ["proxy", "--host", "0.0.0.0", "--port", str(PROXY_API_PORT),
                                                    "--seed", str(scenario.seed)]
    proxy = backend.container("proxy", choice.image, pcmd, env={}, port=PROXY_API_PORT, health_path="/version",
                              extra_ports=extra)
    await asyncio.gather(bureau.start(), proxy.start())
    await asyncio.gather(bureau.wait_healthy(), proxy.wait_healthy())

    from harness.faults.network import ToxiproxyClient

    adapter = ToxiproxyClient(proxy.url)
    await asyncio.to_thread(adapter.create_proxy, proxy_name, f"0.0.0.0:{PROXIED_PORT}",
                            f"{bureau.hostname}:{BUREAU_PORT}")
    listen = f"{proxy.hostname}:{PROXIED_PORT}"

    sut: DockerService | None = None
    if not sut_url:
        s = scenario.services.seller
        env = {"HOST": "0.0.0.0", "PORT": str(SUT_PORT), "BUREAU_URL": f"http://{listen}",
               "BUREAU_TIME_URL": f"http://{listen}/api/v1/time",
               "SELLER_TAX_ID": s.tax_id, "SELLER_NAME": s.name, "STATE_DIR": "/state"}
        if reference:
            sut = backend.container("sut", images.image_name("merchant"),
                                    ["merchant", "--profile", reference, "--channel", scenario.reference_channel],
                                    env=env, port=SUT_PORT, health_path="/health", volume="/state")
        else:
            assert sut_image is not None
            sut = backend.container("sut", sut_image, None, env=env, port=SUT_PORT, health_path="/health",
                                    volume="/state")
        sut.health_timeout_s = scenario.services.sut.health_timeout_s or 90.0   # an image starts slower
        sut.health_hint = (f" (the SUT container must listen on $HOST:$PORT, here 0.0.0.0:{SUT_PORT}, and answer "
                           "GET /health with 200 when ready; give a slow start more time with "
                           "services.sut.health_timeout_s or --sut-health-timeout)")
        await sut.start()
        await sut.wait_healthy()
        sut_url = sut.url
    return DockerStackParts(bureau=bureau, proxy=proxy, sut=sut, sut_url=sut_url, toxiproxy_url=proxy.url,
                            bureau_host_port=bureau.host_port, proxy_listen=listen, proxy_choice=choice)

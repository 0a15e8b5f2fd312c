"""Docker backend: each service is a container on a private network of its run.

Same capabilities as the local backend (``harness.backends.base``): start, health-wait, logs in
the run directory, SIGKILL, pause (``docker pause``), resume, restart, stop. Contracts:

- one user-defined bridge network per run (``ic-<run id>``); containers reach each other by
  container name; ports are published on 127.0.0.1 only, on host ports chosen once, so a
  container keeps its URL across kill / start;
- every container, network and volume carries the labels of ``harness.backends.engine``;
- ``close`` removes them all (also after Ctrl-C, through the run's exit stack), and an ``atexit``
  hook removes by label what a crash of the harness left; ``invoice-chaos cleanup`` does the rest;
- the container's output goes to ``logs/<service>.log``, rewritten whole at every stop, kill and
  health failure (Docker keeps it across restarts of the container).
"""

from __future__ import annotations

import asyncio
import atexit
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.backends.engine import RUN_LABEL, labels
from harness.errors import BackendError
from harness.net import free_port, http_ok

_LIVE_RUNS: dict[str, Any] = {}   # run id -> client, for the exit hook


def remove_run(client: Any, run_id: str) -> int:
    """Force-remove every container, network and volume labelled with ``run_id``; returns how many."""
    import docker.errors

    flt = {"label": f"{RUN_LABEL}={run_id}"}
    count = 0
    for kind in ("containers", "networks", "volumes"):
        coll = getattr(client, kind)
        found = coll.list(all=True, filters=flt) if kind == "containers" else coll.list(filters=flt)
        for obj in found:
            try:
                obj.remove(force=True, v=True) if kind == "containers" else obj.remove()
                count += 1
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError:
                if kind != "volumes":   # a volume still in use goes with its container's removal
                    raise
    return count


def _remove_leftovers() -> None:
    for run_id, client in list(_LIVE_RUNS.items()):
        try:
            remove_run(client, run_id)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit; `cleanup` finishes the job
            pass
    _LIVE_RUNS.clear()


atexit.register(_remove_leftovers)


class DockerService:
    """One container; ``url`` is its published port on 127.0.0.1."""

    def __init__(self, backend: DockerBackend, name: str, image: str, command: Sequence[str] | None,
                 env: Mapping[str, str], port: int, health_path: str, volume: str | None = None,
                 extra_ports: Mapping[int, int] | None = None) -> None:
        self.backend = backend
        self.name = name
        self.image = image
        self.command = list(command) if command is not None else None
        self.env = dict(env)
        self.port = port
        self.host_port = free_port()
        self.url = f"http://127.0.0.1:{self.host_port}"
        self.health_url = self.url + health_path
        self.log_path = backend.logs_dir / f"{name}.log"
        self.hostname = f"ic-{backend.run_id}-{name}"   # resolvable on the run's network
        self.volume = volume                              # "/path" inside; a labelled volume
        self.extra_ports = dict(extra_ports or {})
        self.container: Any = None
        self.starts = 0
        self._killing = False

    @property
    def pid(self) -> int | None:
        return None   # the container's processes are not ours to read with psutil (remote engines)

    def _state(self) -> dict[str, Any]:
        if self.container is None:
            return {}
        try:
            self.container.reload()
        except Exception:  # noqa: BLE001 - a vanished container is simply not alive
            return {}
        return dict(self.container.attrs.get("State") or {})

    @property
    def alive(self) -> bool:
        return self._killing or self._state().get("Status") in ("running", "paused", "restarting")

    @property
    def returncode(self) -> int | None:
        state = self._state()
        return int(state["ExitCode"]) if state.get("Status") == "exited" else None

    async def start(self) -> None:
        if self.container is None:
            self.container = await asyncio.to_thread(self._create)
        elif self._state().get("Status") in ("running", "paused", "restarting"):
            return
        else:
            await asyncio.to_thread(self._wait_exited)
        try:
            await asyncio.to_thread(self.container.start)
        except Exception as exc:  # noqa: BLE001 - docker.errors.APIError and transport errors
            raise BackendError(f"{self.name}: cannot start container {self.hostname} ({self.image}): {exc}") from None
        self.starts += 1

    def _create(self) -> Any:
        import docker.errors

        client = self.backend.client
        ports: dict[str, tuple[str, int]] = {f"{self.port}/tcp": ("127.0.0.1", self.host_port)}
        ports.update({f"{inner}/tcp": ("127.0.0.1", outer) for inner, outer in self.extra_ports.items()})
        volumes = {}
        if self.volume:
            vol = client.volumes.create(name=f"{self.hostname}-state", labels=labels(self.backend.run_id, self.name))
            volumes[vol.name] = {"bind": self.volume, "mode": "rw"}
        try:
            return client.containers.create(
                self.image, self.command, name=self.hostname, hostname=self.hostname, environment=self.env,
                labels=labels(self.backend.run_id, self.name), network=self.backend.network_name,
                ports=ports, volumes=volumes, detach=True)
        except docker.errors.ImageNotFound:
            raise BackendError(f"{self.name}: image {self.image} is not in the local image store; "
                               "build the service images with `invoice-chaos images build` (no registry needed), "
                               "or load your image with `docker load`") from None
        except docker.errors.APIError as exc:
            raise BackendError(f"{self.name}: cannot create a container from {self.image}: {exc.explanation or exc}") from None

    # How long a start may take, and what to say when it takes longer (the SUT's are set from
    # the scenario: ``services.sut.health_timeout_s``).
    health_timeout_s: float = 60.0
    health_hint: str = ""

    async def wait_healthy(self, deadline_s: float | None = None) -> None:
        deadline_s = self.health_timeout_s if deadline_s is None else deadline_s
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if not await asyncio.to_thread(lambda: self.alive):
                code = await asyncio.to_thread(lambda: self.returncode)
                await self.save_logs()
                raise BackendError(f"{self.name} container {self.hostname} exited with code {code} before it was "
                                   f"healthy; last lines of {self.log_path}:\n{_tail(self.log_path)}")
            if await asyncio.to_thread(http_ok, self.health_url, 1.0):
                return
            await asyncio.sleep(0.2)
        await self.save_logs()
        raise BackendError(f"{self.name} did not answer {self.health_url} within {deadline_s:g} s{self.health_hint}; "
                           f"last lines of {self.log_path}:\n{_tail(self.log_path)}")

    async def kill(self) -> None:
        """SIGKILL. The engine answers once the container is gone; until this returns, ``alive``
        stays True, so a crash watch never mistakes the harness's own kill for a crash."""
        if self.container is None:
            return
        self._killing = True
        try:
            await asyncio.to_thread(self._kill)
        finally:
            self._killing = False

    def _kill(self) -> None:
        import docker.errors

        try:
            if self._state().get("Status") == "paused":
                self.container.unpause()
            self.container.kill(signal="SIGKILL")
        except docker.errors.APIError:
            pass   # already stopped

    def _wait_exited(self, timeout_s: float = 10.0) -> None:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and self._state().get("Status") in ("running", "restarting"):
            time.sleep(0.05)

    async def pause(self) -> None:
        if self.container is not None and self.alive:
            await asyncio.to_thread(self.container.pause)

    async def resume(self) -> None:
        if self.container is not None and self._state().get("Status") == "paused":
            await asyncio.to_thread(self.container.unpause)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
        await self.wait_healthy()

    async def stop(self, grace_s: float = 5.0) -> None:
        if self.container is None:
            return
        await self.resume()   # a paused container cannot act on SIGTERM
        try:
            await asyncio.to_thread(self.container.stop, timeout=int(grace_s))
        except Exception:  # noqa: BLE001 - gone already; removal happens in close()
            pass
        await self.save_logs()

    async def save_logs(self) -> None:
        if self.container is None:
            return
        try:
            data = await asyncio.to_thread(self.container.logs, stdout=True, stderr=True)
        except Exception:  # noqa: BLE001 - the log is evidence, not a reason to fail the run
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        header = f"--- container {self.hostname} ({self.image}), {self.starts} start(s)\n".encode()
        self.log_path.write_bytes(header + bytes(data))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "    (no log)"
    return "\n".join("    " + line for line in text.strip().splitlines()[-lines:]) or "    (empty log)"


class DockerBackend:
    """The containers, volumes and network of one run."""

    name = "docker"

    def __init__(self, logs_dir: Path, run_id: str, client: Any) -> None:
        self.logs_dir = logs_dir
        self.run_id = run_id
        self.client = client
        self.network_name = f"ic-{run_id}"
        self.services: list[DockerService] = []
        self._network: Any = None
        self._watchdog: Any = None
        self.notes: list[str] = []

    async def open(self) -> None:
        """Create the run's private network and its watchdog (call once, before any container)."""
        from harness.backends.docker_lifeline import Watchdog, remove_stale
        from harness.images import image_name

        _LIVE_RUNS[self.run_id] = self.client
        # Runs whose harness was killed outright: their containers must not meet this one.
        await asyncio.to_thread(remove_stale, self.client, self.notes.append)
        try:
            self._network = await asyncio.to_thread(
                self.client.networks.create, self.network_name, driver="bridge", labels=labels(self.run_id))
        except Exception as exc:  # noqa: BLE001
            raise BackendError(f"cannot create the Docker network {self.network_name}: {exc}") from None
        self._watchdog = Watchdog(self.client, self.run_id, image_name("bureau"))
        problem = await asyncio.to_thread(self._watchdog.start)
        if problem is not None:
            self.notes.append(problem)

    def container(self, name: str, image: str, command: Sequence[str] | None, *, env: Mapping[str, str],
                  port: int, health_path: str, volume: str | None = None,
                  extra_ports: Mapping[int, int] | None = None) -> DockerService:
        svc = DockerService(self, name, image, command, env, port, health_path, volume, extra_ports)
        self.services.append(svc)
        return svc

    def service(self, name: str, argv: Sequence[str] | str, *, env: Mapping[str, str], port: int,
                health_path: str, shell: bool = False) -> DockerService:
        raise BackendError(f"{name}: the Docker backend runs images, not host commands; use --sut-image "
                           "for your SUT, or --backend local for --sut-cmd")

    async def close(self) -> None:
        await asyncio.gather(*(s.stop(grace_s=3.0) for s in reversed(self.services)), return_exceptions=True)
        await asyncio.to_thread(remove_run, self.client, self.run_id)   # the watchdog too: it is the run's
        if self._watchdog is not None:
            self._watchdog.stop()
        _LIVE_RUNS.pop(self.run_id, None)

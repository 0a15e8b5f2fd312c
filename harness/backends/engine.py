"""Reaching the Docker engine, and the labels every object of invoice-chaos carries.

``connect`` is the one place a Docker client is made: an engine that does not answer becomes a
``BackendError`` (exit 3) that says how to start one. Labels let ``invoice-chaos cleanup`` and the
exit hook find what a run left behind, and nothing else.
"""

from __future__ import annotations

from typing import Any

from harness.errors import BackendError

LABEL = "invoice-chaos"              # on every container, network, volume and image we make
RUN_LABEL = "invoice-chaos.run"      # the run id
SERVICE_LABEL = "invoice-chaos.service"
# Who made it: a run whose harness process is gone from this host is stale (harness.lifeline).
HOST_LABEL = "invoice-chaos.harness.host"
PID_LABEL = "invoice-chaos.harness.pid"
STARTED_LABEL = "invoice-chaos.harness.started"


def labels(run_id: str, service: str | None = None) -> dict[str, str]:
    import os
    import socket

    from harness.lifeline import start_time

    pid = os.getpid()
    out = {LABEL: "1", RUN_LABEL: run_id, HOST_LABEL: socket.gethostname(), PID_LABEL: str(pid),
           STARTED_LABEL: str(start_time(pid) or "")}
    if service:
        out[SERVICE_LABEL] = service
    return out


def harness_gone(object_labels: dict[str, str]) -> str | None:
    """Why the harness that made an object is gone, or None while it may still run.

    Objects of another host cannot be judged from here (their watchdog ends them); objects
    made before these labels existed have no harness to wait for."""
    import socket

    from harness.lifeline import start_time

    pid = object_labels.get(PID_LABEL)
    if not pid:
        return "made by a harness that did not label itself (an older version)"
    if object_labels.get(HOST_LABEL) != socket.gethostname():
        return None
    now = start_time(int(pid))
    if now is None:
        return f"its harness (pid {pid}) is gone"
    if object_labels.get(STARTED_LABEL) and str(now) != object_labels[STARTED_LABEL]:
        return f"its harness (pid {pid}) is gone (the pid now belongs to another process)"
    return None


def connect(timeout_s: int = 30) -> Any:
    """A ``docker.DockerClient`` for the engine of the environment (DOCKER_HOST or the local socket)."""
    try:
        import docker.client
        import docker.errors
    except ImportError as exc:  # pragma: no cover - docker is a dependency of the harness
        raise BackendError(f"the Docker SDK is not installed ({exc}); run ./scripts/bootstrap") from None
    try:
        client = docker.client.DockerClient.from_env(timeout=timeout_s)
        client.ping()
    except (docker.errors.DockerException, OSError) as exc:
        raise BackendError(
            f"Docker is unreachable ({_short(exc)}); start an engine (`scripts/docker-setup` installs and "
            "starts one on Debian/Ubuntu, see docs/docker.md) or set DOCKER_HOST, or use --backend local") from None
    return client


def engine_answers() -> str | None:
    """None when an engine answers, else the reason it does not (for skipping tests)."""
    try:
        connect(timeout_s=5).close()
    except BackendError as exc:
        return str(exc)
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__

"""The Docker side of the lifeline (``harness.lifeline`` is the local side).

- ``Watchdog``: the sidecar of one run (``harness.watchdog`` in a container of the service
  image, the engine's socket mounted, stdin attached to the harness). The harness writes one
  byte a second; when it dies the engine closes the sidecar's stdin (``stdin_once``) and the
  sidecar removes the run's containers within seconds, with or without a new run to notice.
- ``stale_runs``: the runs on an engine whose harness is gone (from the harness labels of
  ``harness.backends.engine``), which the next ``run`` and ``cleanup`` remove.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from harness.backends.engine import LABEL, RUN_LABEL, harness_gone, labels

SOCKET = "/var/run/docker.sock"
BEAT_S = 1.0


class Watchdog:
    """Start with ``start()``; ``stop()`` at a normal end (the run removes the sidecar with its
    other containers)."""

    def __init__(self, client: Any, run_id: str, image: str) -> None:
        self.client = client
        self.run_id = run_id
        self.image = image
        self.name = f"ic-{run_id}-watchdog"
        self.container: Any = None
        self._sock: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> str | None:
        """Start the sidecar; None, or why it could not be (the run goes on without it)."""
        try:
            self.container = self.client.containers.create(
                self.image, ["python3", "-m", "harness.watchdog", self.run_id, "--name", self.name],
                entrypoint=[], name=self.name, labels=labels(self.run_id, "watchdog"), user="root",
                volumes={SOCKET: {"bind": SOCKET, "mode": "rw"}}, network_mode="none",
                # Not detached, stdin open: the SDK then sets StdinOnce, so the engine closes
                # the sidecar's stdin when the harness's attachment goes.
                stdin_open=True, auto_remove=True, healthcheck={"test": ["NONE"]})
            self._sock = self.client.api.attach_socket(self.container.id, params={"stdin": 1, "stream": 1})
            self.container.start()
        except Exception as exc:  # noqa: BLE001 - docker.errors.*, transport errors: reported, not fatal
            self.stop()
            return f"the run's watchdog container could not start ({exc}); stale containers are still removed by " \
                   "the next run or `invoice-chaos cleanup`"
        self._thread = threading.Thread(target=self._beat, name=f"watchdog-{self.run_id}", daemon=True)
        self._thread.start()
        return None

    def _beat(self) -> None:
        raw = getattr(self._sock, "_sock", self._sock)  # docker-py hands out a SocketIO around it
        while not self._stop.wait(BEAT_S):
            try:
                raw.sendall(b".")
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            with contextlib.suppress(Exception):
                self._sock.close()
            self._sock = None


def stale_runs(client: Any) -> dict[str, str]:
    """Run id -> why its harness is gone, for every invoice-chaos run on the engine."""
    out: dict[str, str] = {}
    found = [*client.containers.list(all=True, filters={"label": LABEL}),
             *client.networks.list(filters={"label": LABEL}), *client.volumes.list(filters={"label": LABEL})]
    for obj in found:
        tags = dict((obj.attrs.get("Labels") if not hasattr(obj, "labels") else obj.labels) or {})
        run = tags.get(RUN_LABEL)
        if run and run not in out and (why := harness_gone(tags)) is not None:
            out[run] = why
    return out


def remove_stale(client: Any, say: Callable[[str], None] | None = None) -> list[str]:
    """Remove the objects of every stale run; the run ids removed."""
    from harness.backends.docker import remove_run

    runs = stale_runs(client)
    for run, why in runs.items():
        n = remove_run(client, run)
        if say is not None:
            say(f"removed {n} Docker object(s) of run {run}: {why}")
    return list(runs)

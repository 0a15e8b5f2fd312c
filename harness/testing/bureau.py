"""A fake bureau process on a free loopback port, and a small client for its admin API.

Used by the ``bureau`` pytest fixture; works without pytest::

    with BureauProcess(Path("/tmp/b")) as bureau:
        bureau.admin.set_faults([{"kind": "error", "status": 503}])
        ...                                   # point your client at bureau.url
        assert bureau.admin.ledger() == []

The admin API is CONTRACT §2. Stdlib only (urllib), so the fixture costs nothing to import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any

START_DEADLINE_S = 30.0


class BureauAdminError(RuntimeError):
    """The admin API refused a call; the message holds the status and the bureau's details."""


class BureauAdmin:
    """The bureau's admin API (faults, ledger, request log, stats, reset) at ``url``."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("BUREAU_ADMIN_TOKEN") or None
        self.timeout_s = timeout_s

    def _call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:  # noqa: S310 - loopback
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            raise BureauAdminError(f"{method} {self.url}{path}: {exc.code} {_describe(text)}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise BureauAdminError(f"{method} {self.url}{path}: the bureau did not answer: {exc}") from None

    def set_faults(self, faults: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Replace the active faults (``[{"kind": "error", "status": 503}, ...]``); returns them
        as stored, defaults filled in. A bad fault raises ``BureauAdminError`` naming the field."""
        _, body = self._call("PUT", "/admin/faults", [dict(f) for f in faults])
        return list(json.loads(body))

    def add_fault(self, kind: str, **params: Any) -> list[dict[str, Any]]:
        """Add one fault to the active ones: ``admin.add_fault("ghost_commit", probability=0.3)``."""
        return self.set_faults([*self.faults(), {"kind": kind, **params}])

    def faults(self) -> list[dict[str, Any]]:
        _, body = self._call("GET", "/admin/faults")
        return list(json.loads(body))

    def clear_faults(self) -> None:
        self._call("DELETE", "/admin/faults")

    @contextmanager
    def faulted(self, *faults: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Faults active inside the ``with`` block only (cleared after, also on errors)."""
        stored = self.set_faults(faults)
        try:
            yield stored
        finally:
            self.clear_faults()

    def ledger(self) -> list[dict[str, Any]]:
        """Every invoice ever committed (blue and red): the ground truth, never faulted."""
        return _ndjson(self._call("GET", "/admin/ledger")[1])

    def requests(self) -> list[dict[str, Any]]:
        """One record per public API request the bureau saw (method, path, status, faults, ...)."""
        return _ndjson(self._call("GET", "/admin/requests")[1])

    def invoices_for(self, external_id: str) -> list[dict[str, Any]]:
        """The ledger's invoices (blue and red) for one order id."""
        return [inv for inv in self.ledger() if inv.get("external_id") == external_id]

    def stats(self) -> dict[str, Any]:
        return dict(json.loads(self._call("GET", "/admin/stats")[1]))

    def reset(self) -> None:
        """Empty the ledger, the request log and the faults."""
        self._call("POST", "/admin/reset")


class BureauProcess:
    """``python -m fakes.bureau`` on a free 127.0.0.1 port, its ledger in ``workdir``."""

    def __init__(self, workdir: Path, *, seed: int = 0, dedup: str = "request_id",
                 extra_args: Sequence[str] = ()) -> None:
        self.workdir = Path(workdir)
        self.seed = seed
        self.dedup = dedup
        self.extra_args = tuple(extra_args)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL; the public API is under ``/api/v1``, the admin API under ``/admin``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, e.g. a fault proxy's upstream."""
        return f"127.0.0.1:{self.port}"

    @property
    def admin(self) -> BureauAdmin:
        return BureauAdmin(self.url)

    @property
    def log_path(self) -> Path:
        return self.workdir / "bureau.log"

    def start(self) -> BureauProcess:
        from harness.net import free_port, wait_http_ok

        self.workdir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        for _attempt in range(3):  # a port taken between free_port() and bind(): try another
            self.port = free_port()
            cmd = [sys.executable, "-m", "fakes.bureau", "--port", str(self.port),
                   "--db", str(self.workdir / "bureau.db"), "--seed", str(self.seed),
                   "--dedup", self.dedup, "--allow-reset", *self.extra_args]
            self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            if wait_http_ok(f"{self.url}/health", START_DEADLINE_S) and self.proc.poll() is None:
                return self
            self._kill()
        tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"the fake bureau did not start within {START_DEADLINE_S:g} s; "
                           f"{self.log_path} ends with:\n{tail}")

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def stop(self) -> None:
        self._kill()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> BureauProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _ndjson(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body.decode("utf-8").splitlines() if line.strip()]


def _describe(text: str) -> str:
    """The bureau's error body as one line: code, message and each detail's field."""
    try:
        err = json.loads(text)["error"]
        details = "; ".join(f"{d.get('field')}: {d.get('message')}" for d in err.get("details") or [])
        return f"{err.get('code')}: {err.get('message')}" + (f" ({details})" if details else "")
    except (ValueError, KeyError, TypeError):
        return text.strip()[:500]

"""The original Toxiproxy server binary, run beside (or instead of) the embedded one.

Three users: ``invoice-chaos run --toxiproxy-bin PATH`` starts it as the run's fault proxy
(``harness/services.py``, through the local backend like every service), ``bench/proxy.py``
measures it side by side with the embedded proxy, and the proxy behaviour tests
(``tests/unit/proxy``) run against both. Nothing here downloads it: users who want it build
or install it themselves; this checkout's CI finds it at ``../shared/toxiproxy/``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

from harness.errors import BackendError, InputError
from harness.lifeline import die_with_parent
from harness.net import free_port, http_ok

# Where a checkout's CI keeps the binary, relative to the checkout's root.
SHARED_BINARY = Path("..") / "shared" / "toxiproxy" / "toxiproxy-server"
BINARY_ENV = "INVOICE_CHAOS_TOXIPROXY_BIN"


def locate(checkout: Path, given: Path | None = None) -> tuple[Path | None, str]:
    """The binary to hold the embedded proxy against (benches, tests) and how it was found:
    ``given`` (``--toxiproxy-bin``), else ``$INVOICE_CHAOS_TOXIPROXY_BIN``, else
    ``../shared/toxiproxy/toxiproxy-server`` next to ``checkout``. None, and why, when there is
    none; an ``InputError`` when one was named but is not usable."""
    if given is not None:
        return check_binary(given), "--toxiproxy-bin"
    if os.environ.get(BINARY_ENV):
        return check_binary(Path(os.environ[BINARY_ENV]), BINARY_ENV), BINARY_ENV
    path = (checkout / SHARED_BINARY).resolve()
    if path.is_file() and os.access(path, os.X_OK):
        return path, "next to the checkout"
    return None, f"no Toxiproxy binary: {path} is not there and {BINARY_ENV} is not set"


def check_binary(path: Path, option: str = "--toxiproxy-bin") -> Path:
    """The binary as an absolute path, or an ``InputError`` that says what is wrong with it."""
    what = f"{option} {path}"
    if not path.exists():
        raise InputError(f"{what}: no such file; give the path of a toxiproxy-server binary "
                         "(github.com/Shopify/toxiproxy), or leave the option out to use the embedded proxy")
    if not path.is_file():
        raise InputError(f"{what}: not a file; give the path of the toxiproxy-server binary itself")
    if not os.access(path, os.X_OK):
        raise InputError(f"{what}: not executable; chmod +x it, or give another binary")
    return path.resolve()


def check_option(binary: Path | None, toxiproxy_url: str | None, backend: str) -> Path | None:
    """``--toxiproxy-bin`` of a run, checked against the run's other options (absolute path)."""
    if binary is None:
        return None
    if toxiproxy_url:
        raise InputError(f"--toxiproxy-bin {binary} and --toxiproxy-url {toxiproxy_url}: give one; the first starts "
                         "that binary as the run's proxy, the second uses a server already running")
    if backend == "docker":
        raise InputError(f"--toxiproxy-bin {binary}: the binary runs on the local backend; on the Docker backend "
                         "use --toxiproxy-image")
    return check_binary(binary)


def server_argv(binary: Path, port: int, host: str = "127.0.0.1") -> list[str]:
    """The command line of a Toxiproxy API server on ``host:port``."""
    return [str(binary), "-host", host, "-port", str(port)]


class OriginalServer:
    """A ``toxiproxy-server`` process on a free loopback port, for benches and tests::

        with OriginalServer(binary) as server:
            server.url        # http://127.0.0.1:<port>

    It runs in its own process group, is stopped with SIGTERM (SIGKILL after 5 s), and dies
    with the process that started it even when that one is SIGKILLed (``PR_SET_PDEATHSIG``).
    Its log (JSON lines) goes to ``log`` when given, else nowhere. ``cpus`` pins it before it
    starts, so Go sizes its scheduler (GOMAXPROCS) to them and every thread stays there.
    """

    def __init__(self, binary: Path, log: Path | None = None, start_timeout_s: float = 10.0,
                 cpus: set[int] | None = None) -> None:
        self.binary = binary
        self.log = log
        self.start_timeout_s = start_timeout_s
        self.cpus = cpus
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OriginalServer:
        # The port is chosen before the server binds it: another process may take it in
        # between, so a start that dies at once is tried again on another port.
        for _ in range(3):
            self.port = free_port()
            out = open(self.log, "ab") if self.log else subprocess.DEVNULL
            try:
                self.proc = subprocess.Popen(server_argv(self.binary, self.port), stdout=out,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             start_new_session=True, preexec_fn=self._prepare)
            except OSError as exc:
                raise BackendError(f"cannot start {self.binary}: {exc}") from exc
            finally:
                if self.log:
                    out.close()  # type: ignore[union-attr]
            end = time.monotonic() + self.start_timeout_s
            while time.monotonic() < end and self.proc.poll() is None:
                if http_ok(self.url + "/version", 0.5):
                    return self
                time.sleep(0.02)
            if self.proc.poll() is None:
                self.stop()
                raise BackendError(f"{self.binary} did not answer {self.url}/version within "
                                   f"{self.start_timeout_s:g} s")
        raise BackendError(f"{self.binary} exited at start three times (last code {self.proc.returncode})")

    def _prepare(self) -> None:
        die_with_parent()
        if self.cpus and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, self.cpus)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig, wait_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            if proc.poll() is not None:
                break
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(wait_s)
            except subprocess.TimeoutExpired:
                continue
        proc.wait(5.0)

    def __enter__(self) -> OriginalServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

"""The invoice-chaos pytest plugin (entry point ``pytest11``: loaded by every pytest run in an
environment where invoice-chaos is installed).

Fixtures (docs/pytest.md)::

    bureau       a running fake tax bureau (one per session, reset before each test):
                 .url, .address, .admin.set_faults([...]) / .faulted(...) / .ledger() / .requests()
    fault_proxy  a ToxiproxyClient bound to a running embedded Toxiproxy-compatible server
    chaos_run    chaos_run(scenario_path_or_dict, sut="reference:resilient" | sut_cmd=... |
                 sut_url=..., seed=..., time_scale=..., label=...) -> ChaosResult (.summary, .run_dir,
                 .passed, .assert_passed())

Marker: ``chaos`` — added automatically to every test using one of the fixtures, so
``pytest -m "not chaos"`` skips them. Option: ``--chaos-out DIR`` keeps run directories there
(for CI artifacts) instead of in pytest's temporary directory.

Everything heavy is imported inside the fixtures: an unused plugin costs one small import.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.faults.network import ToxiproxyClient
    from harness.testing.bureau import BureauProcess
    from harness.testing.runner import ChaosRunner

CHAOS_FIXTURES = frozenset({"bureau", "fault_proxy", "chaos_run"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("invoice-chaos")
    group.addoption("--chaos-out", metavar="DIR", default=None,
                    help="invoice-chaos: keep chaos_run run directories under DIR/<test>/ "
                         "(default: pytest's tmp_path)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: a resilience test using invoice-chaos (fake bureau, fault proxy or a "
                   "chaos run); deselect with -m 'not chaos'")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("chaos") is None and _uses_our_fixtures(item):
            item.add_marker(pytest.mark.chaos)


def _uses_our_fixtures(item: pytest.Item) -> bool:
    """True when the test uses this plugin's fixtures, not a conftest's fixture of the same name.
    (Reads pytest's fixture resolution; falls back to the names when that is not available.)"""
    names = CHAOS_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", None)
    if not names or not isinstance(defs, dict):
        return bool(names)
    for name in names:
        chain = defs.get(name) or ()
        if chain and getattr(getattr(chain[-1], "func", None), "__module__", __name__) == __name__:
            return True
    return False


@pytest.fixture(scope="session")
def invoice_chaos_bureau_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BureauProcess]:
    """The session's fake bureau process (use ``bureau``: it is reset before each test)."""
    from harness.testing.bureau import BureauProcess

    process = BureauProcess(tmp_path_factory.mktemp("invoice-chaos-bureau"))
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def bureau(invoice_chaos_bureau_process: BureauProcess) -> Iterator[BureauProcess]:
    """A running fake bureau with an empty ledger and no faults; faults are cleared after."""
    if invoice_chaos_bureau_process.proc is None or invoice_chaos_bureau_process.proc.poll() is not None:
        invoice_chaos_bureau_process.start()  # a test killed it: start it again
    invoice_chaos_bureau_process.admin.reset()
    yield invoice_chaos_bureau_process
    if invoice_chaos_bureau_process.proc is not None and invoice_chaos_bureau_process.proc.poll() is None:
        invoice_chaos_bureau_process.admin.clear_faults()


@pytest.fixture
def fault_proxy() -> Iterator[ToxiproxyClient]:
    """A ``ToxiproxyClient`` bound to a fresh embedded Toxiproxy-compatible server (its ``.url``).

    ``fault_proxy.create_proxy("bureau", "127.0.0.1:0", bureau.address)`` returns the listen
    address to point a client at; ``add_toxic``, ``set_enabled``, ``reset`` act on it.
    """
    from harness.faults.network import ToxiproxyClient
    from harness.proxy import EmbeddedServer

    with EmbeddedServer(seed=0) as server:
        yield ToxiproxyClient(server.url)


@pytest.fixture
def chaos_run(request: pytest.FixtureRequest, tmp_path: Path) -> ChaosRunner:
    """``chaos_run(scenario, sut=..., sut_cmd=..., sut_url=..., seed=..., time_scale=..., label=...)``.

    ``scenario`` is a YAML path or a dict of the same fields; returns a ``ChaosResult`` with
    ``.summary`` (summary.json), ``.run_dir``, ``.passed`` and ``.assert_passed()``.
    """
    from harness.testing.runner import ChaosRunner, _safe_name

    out = request.config.getoption("--chaos-out")
    # Relative to where pytest was started, like every path a user gives.
    root = Path(request.config.invocation_params.dir)
    base = (root / out).resolve() / _safe_name(request.node.name) if out else tmp_path / "chaos"
    return ChaosRunner(base, label=request.node.name, say=_say)


def _say(message: str) -> None:
    print(f"[invoice-chaos] {message}", file=sys.stderr)


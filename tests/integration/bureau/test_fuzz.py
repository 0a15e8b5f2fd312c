"""Schemathesis against the bureau's own OpenAPI document: no 5xx, no schema violation.

Bounded (``MAX_EXAMPLES`` per operation) and seeded (derandomized Hypothesis), with no fault
active. Runs against a real bureau process, as a client would see it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

from harness.net import free_port, wait_http_ok  # noqa: E402

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
MAX_EXAMPLES = 150


@pytest.fixture(scope="module")
def bureau_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    proc = subprocess.Popen([sys.executable, "-m", "fakes.bureau", "--port", str(port), "--db", str(db)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert wait_http_ok(f"http://127.0.0.1:{port}/health", 30), "bureau did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        stderr = proc.communicate(timeout=10)[1].decode()
        # A handler crash is logged by the server even when the client saw an error shape.
        assert "Traceback" not in stderr, stderr[-3000:]


def _document() -> dict[str, Any]:
    # The document is static: build it in-process (the lazy fixture loader breaks on pytest 9).
    from fakes.bureau.app import create_app
    from fakes.bureau.settings import Settings

    return create_app(Settings(db_path=":memory:")).openapi()


schema = schemathesis.openapi.from_dict(_document())


@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_bureau_conforms_to_its_openapi(case: Any, bureau_url: str) -> None:
    # Schema-valid is not business-valid (check characters, tolerances, totals): a schema-valid
    # invoice may rightly get 422, and a read with neither query parameter 400.
    case.call_and_validate(base_url=bureau_url, excluded_checks=[positive_data_acceptance])

"""The plugin's fixtures used as a user would: bureau, fault_proxy, chaos_run."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import jsonschema
import pytest

from fakes.bureau.samples import sample_invoice
from harness.faults.network import ToxiproxyClient
from harness.schemas import summary_schema
from harness.testing.bureau import BureauAdminError, BureauProcess
from harness.testing.runner import ChaosRunner

pytestmark = pytest.mark.integration


def post(url: str, body: dict[str, Any], timeout: float = 5.0) -> int:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_bureau_fixture_faults_and_ledger(bureau: BureauProcess) -> None:
    assert bureau.admin.ledger() == []   # reset before each test
    with bureau.admin.faulted({"kind": "error", "status": 503}):
        assert post(f"{bureau.url}/api/v1/invoices", sample_invoice(request_id="a1", external_id="O-1")) == 503
    assert bureau.admin.faults() == []
    assert post(f"{bureau.url}/api/v1/invoices", sample_invoice(request_id="a2", external_id="O-2")) == 201
    assert [inv["external_id"] for inv in bureau.admin.ledger()] == ["O-2"]
    assert [r["status"] for r in bureau.admin.requests()] == [503, 201]
    with pytest.raises(BureauAdminError, match=r"faults\[0\]"):
        bureau.admin.set_faults([{"kind": "no-such-kind"}])


def test_fault_proxy_fixture_between_client_and_bureau(bureau: BureauProcess, fault_proxy: ToxiproxyClient) -> None:
    listen = fault_proxy.create_proxy("bureau", "127.0.0.1:0", bureau.address)
    via = f"http://{listen}/api/v1/invoices"
    assert post(via, sample_invoice(request_id="p1", external_id="P-1")) == 201
    fault_proxy.set_enabled("bureau", False)
    with pytest.raises(OSError):
        post(via, sample_invoice(request_id="p2", external_id="P-2"), timeout=2.0)
    fault_proxy.set_enabled("bureau", True)
    assert [inv["external_id"] for inv in bureau.admin.ledger()] == ["P-1"]


def test_chaos_marker_added_automatically(request: pytest.FixtureRequest, bureau: BureauProcess) -> None:
    assert request.node.get_closest_marker("chaos") is not None


def test_chaos_run_with_a_dict_scenario(chaos_run: ChaosRunner) -> None:
    result = chaos_run({
        "seed": 3,
        "load": {"model": "open", "shape": {"type": "steady", "target": 5, "duration_s": 4}},
        "faults": [{"id": "f1", "family": "network", "kind": "down", "start_s": 1, "duration_s": 1}],
        "drain_s": 10,
    }, sut="reference:resilient")
    result.assert_passed()
    assert result.summary["scenario"] == "test_chaos_run_with_a_dict_scenario"
    assert result.summary["requests"]["total"] > 0
    assert result.fault("f1")["kind"] == "down"
    assert (result.run_dir / "summary.json").is_file()
    assert (result.run_dir / "metrics.prom").read_text(encoding="utf-8").startswith("# HELP invoice_chaos_")
    jsonschema.validate(result.summary, summary_schema())   # a real run's summary fits the schema

"""The pytest plugin's mechanics: registration, cheap import, marker, results, fault_proxy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from harness.faults.network import ToxiproxyClient
from harness.testing.bureau import _describe
from harness.testing.runner import ChaosResult, _safe_name

HEAVY = ("harness.run", "harness.proxy.server", "fastapi", "pandas", "httpx", "yaml", "pydantic", "locust")


def test_registered_through_the_pytest11_entry_point() -> None:
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("invoice_chaos") == "harness.pytest_plugin"


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    code = f"import sys, harness.pytest_plugin; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_chaos_marker_is_registered(pytestconfig: pytest.Config) -> None:
    assert any(line.startswith("chaos:") for line in pytestconfig.getini("markers"))


def test_fault_proxy_is_a_client_bound_to_a_fresh_server(fault_proxy: ToxiproxyClient,
                                                         request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("chaos") is not None     # added for the fixture
    listen = fault_proxy.create_proxy("bureau", "127.0.0.1:0", "127.0.0.1:9")
    assert listen.startswith("127.0.0.1:")
    fault_proxy.add_toxic("bureau", "slow", "latency", attributes={"latency": 100})
    assert list(fault_proxy.toxics("bureau")) == ["slow"]


def test_not_chaos_deselects_tests_using_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import pytest

        @pytest.fixture
        def bureau():  # the user's own fixture of that name: not ours, not chaos
            return "theirs"
    """), encoding="utf-8")
    (tmp_path / "test_user.py").write_text(textwrap.dedent("""
        def test_plain():
            pass

        def test_own_bureau(bureau):
            assert bureau == "theirs"

        def test_with_proxy(fault_proxy):
            assert fault_proxy.version()
    """), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not chaos"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 1 deselected" in done.stdout


def summary(verdict: str = "fail") -> dict[str, object]:
    return {"verdict": verdict, "compromised_reasons": ["the machine was saturated"],
            "anomalies": {"lost": [f"o{i}" for i in range(7)], "duplicate": []},
            "gates": [{"name": "no-lost", "metric": "anomalies.lost", "op": "==", "threshold": 0,
                       "value": 7, "passed": False},
                      {"name": "ok", "metric": "anomalies.duplicate", "op": "==", "threshold": 0,
                       "value": 0, "passed": True}],
            "faults": [{"id": "f1", "kind": "down", "time_to_recover_s": None}]}


def test_a_failed_result_explains_itself(tmp_path: Path) -> None:
    result = ChaosResult(summary=summary(), run_dir=tmp_path, exit_code=1)
    assert not result.passed
    with pytest.raises(AssertionError) as info:
        result.assert_passed()
    text = str(info.value)
    assert "gate no-lost: anomalies.lost = 7, wanted == 0" in text
    assert "lost: 7 order(s): o0, o1, o2, o3, o4 ..." in text
    assert "compromised: the machine was saturated" in text
    assert "gate ok" not in text and "duplicate" not in text
    assert str(tmp_path / "report.md") in text
    assert result.fault("f1")["kind"] == "down"
    with pytest.raises(KeyError, match="f9"):
        result.fault("f9")


def test_a_passing_result_passes(tmp_path: Path) -> None:
    ChaosResult(summary=summary("pass"), run_dir=tmp_path, exit_code=0).assert_passed()
    assert not ChaosResult(summary=summary("pass"), run_dir=tmp_path, exit_code=130).passed


def test_scenario_names_from_test_names() -> None:
    assert _safe_name("test_x[reference:naive-3]") == "test_x-reference-naive-3"
    assert _safe_name("[]") == "pytest"
    assert len(_safe_name("t" * 100)) == 64


def test_bureau_errors_are_one_line_with_fields() -> None:
    body = ('{"error": {"code": "VALIDATION_FAILED", "message": "bad faults", '
            '"details": [{"field": "faults[0].status", "message": "must be 4xx or 5xx"}]}}')
    assert _describe(body) == "VALIDATION_FAILED: bad faults (faults[0].status: must be 4xx or 5xx)"
    assert _describe("<html>oops</html>") == "<html>oops</html>"

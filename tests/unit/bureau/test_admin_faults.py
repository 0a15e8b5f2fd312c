"""CONTRACT §2 in-process: admin API, every fault kind's effect, the request log, stats, reset."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from fakes.bureau.samples import sample_invoice

ISSUE = "/api/v1/invoices"


def put_faults(client: TestClient, faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resp = client.put("/admin/faults", json=faults)
    assert resp.status_code == 200, resp.text
    stored: list[dict[str, Any]] = resp.json()
    return stored


def ledger(client: TestClient) -> list[dict[str, Any]]:
    return [json.loads(line) for line in client.get("/admin/ledger").text.splitlines()]


def requests_log(client: TestClient) -> list[dict[str, Any]]:
    return [json.loads(line) for line in client.get("/admin/requests").text.splitlines()]


def issue(client: TestClient, **overrides: Any) -> httpx.Response:
    resp: httpx.Response = client.post(ISSUE, json=sample_invoice(**overrides))
    return resp


def test_faults_get_put_delete(client: TestClient) -> None:
    assert client.get("/admin/faults").json() == []
    stored = put_faults(client, [{"kind": "latency", "ms": 1, "id": "f1"}])
    assert stored == [{"kind": "latency", "id": "f1", "probability": 1, "match": None, "ms": 1, "jitter_ms": 0}]
    assert client.get("/admin/faults").json() == stored
    assert client.delete("/admin/faults").status_code == 204
    assert client.get("/admin/faults").json() == []


def test_bad_faults_are_422_naming_the_field(client: TestClient) -> None:
    resp = client.put("/admin/faults", json=[{"kind": "error"}, {"kind": "error", "status": 99}])
    assert resp.status_code == 422
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["faults[1].status"]
    assert client.get("/admin/faults").json() == []
    assert client.put("/admin/faults", content=b"{").status_code == 400


def test_error_answers_before_commit(client: TestClient) -> None:
    put_faults(client, [{"kind": "error", "status": 503}])
    resp = issue(client)
    assert resp.status_code == 503 and resp.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert ledger(client) == []
    assert client.get("/health").status_code == 200  # faults never touch /health or /admin


def test_ghost_commit_commits_then_fails(client: TestClient) -> None:
    put_faults(client, [{"kind": "ghost_commit", "hang_s": 0.05}])
    started = time.monotonic()
    resp = issue(client)
    assert resp.status_code == 504 and resp.json()["error"]["code"] == "GATEWAY_TIMEOUT"
    assert time.monotonic() - started >= 0.05
    assert len(ledger(client)) == 1
    client.delete("/admin/faults")
    replay = issue(client)  # the retry finds the ghost
    assert replay.status_code == 200 and replay.json()["invoice_number"] == ledger(client)[0]["invoice_number"]


def test_rate_limit(client: TestClient) -> None:
    put_faults(client, [{"kind": "rate_limit", "retry_after": 3}])
    resp = issue(client)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
    assert resp.json()["error"]["code"] == "RATE_LIMITED"


def test_rate_limit_rps_lets_some_through(client: TestClient) -> None:
    put_faults(client, [{"kind": "rate_limit", "rps": 2}])
    statuses = [client.get(ISSUE, params={"external_id": "x"}).status_code for _ in range(6)]
    assert 2 <= statuses.count(200) <= 4 and 429 in statuses


def test_maintenance_partial_via_match(client: TestClient) -> None:
    blue = issue(client).json()["invoice_number"]
    put_faults(client, [{"kind": "maintenance", "match": {"method": "POST", "path": f"{ISSUE}/"}}])
    red = client.post(f"{ISSUE}/{blue}/red-letter", json={"reason": "01"})
    assert red.status_code == 503 and red.headers["Retry-After"] == "60"
    assert red.json()["error"]["code"] == "MAINTENANCE"
    assert issue(client, request_id="other").status_code == 201  # issuing still works


def test_false_duplicate(client: TestClient) -> None:
    put_faults(client, [{"kind": "false_duplicate"}])
    resp = issue(client)
    assert resp.status_code == 409
    assert resp.json()["error"] == {**resp.json()["error"], "code": "DUPLICATE_REQUEST", "invoice_number": None}
    assert ledger(client) == []


def test_latency(client: TestClient) -> None:
    put_faults(client, [{"kind": "latency", "ms": 80}])
    started = time.monotonic()
    assert issue(client).status_code == 201
    assert time.monotonic() - started >= 0.08


@pytest.mark.parametrize("mode", ["truncated_json", "html", "wrong_content_type", "empty"])
def test_malformed_after_commit(client: TestClient, mode: str) -> None:
    put_faults(client, [{"kind": "malformed_response", "mode": mode}])
    resp = issue(client)
    assert resp.status_code == 201
    if mode == "truncated_json":
        with pytest.raises(ValueError):
            json.loads(resp.content)
    elif mode == "html":
        assert resp.headers["content-type"].startswith("text/html") and b"nginx" in resp.content
    elif mode == "wrong_content_type":
        assert resp.headers["content-type"].startswith("text/plain") and json.loads(resp.content)["status"] == "issued"
    else:
        assert resp.content == b""
    assert len(ledger(client)) == 1


def test_malformed_before_commits_nothing(client: TestClient) -> None:
    put_faults(client, [{"kind": "malformed_response", "mode": "html", "when": "before", "status": 502}])
    assert issue(client).status_code == 502
    assert ledger(client) == []


def test_visibility_lag_hides_fresh_records_also_committed_before(client: TestClient) -> None:
    number = issue(client).json()["invoice_number"]
    put_faults(client, [{"kind": "visibility_lag", "seconds": 0.3}])
    assert client.get(f"{ISSUE}/{number}").status_code == 404
    assert client.get(ISSUE, params={"external_id": "ORDER-000123"}).json() == {"invoices": []}
    assert len(ledger(client)) == 1  # the ledger is never lagged
    time.sleep(0.35)
    assert client.get(f"{ISSUE}/{number}").status_code == 200


def test_policy_change(client: TestClient) -> None:
    put_faults(client, [{"kind": "policy_change", "rates": ["0.13"], "required_field": "buyer.address"}])
    resp = issue(client)
    assert resp.status_code == 422
    fields = {d["field"] for d in resp.json()["error"]["details"]}
    assert fields == {"lines[0].tax_rate", "buyer.address"}


def test_probability_is_reproducible_per_seed(make_client: Any) -> None:
    def run(seed: int) -> list[int]:
        client = make_client(seed=seed)
        put_faults(client, [{"kind": "error", "probability": 0.5}])
        return [client.get(ISSUE, params={"external_id": "x"}).status_code for _ in range(40)]

    first = run(3)
    assert first == run(3) and {200, 500} == set(first)
    assert first != run(4)


def test_request_log_has_the_contract_keys(client: TestClient) -> None:
    put_faults(client, [{"kind": "ghost_commit", "match": {"method": "POST"}},
                        {"kind": "visibility_lag", "seconds": 5, "match": {"method": "GET"}}])
    issue(client)
    client.get(ISSUE, params={"external_id": "ORDER-000123"})
    client.get("/admin/stats")
    lines = requests_log(client)
    # CONTRACT §5.4 adds error_code to every line: the error.code answered, null on success.
    assert [set(line) for line in lines] == [{"at", "method", "path", "request_id", "external_id", "status", "faults",
                                              "error_code"}] * 2
    post, get = lines
    assert (post["method"], post["path"], post["request_id"], post["external_id"], post["status"], post["faults"]) == (
        "POST", ISSUE, "M1-000001", "ORDER-000123", 504, ["ghost_commit"])
    assert (get["path"], get["external_id"], get["status"], get["faults"]) == (ISSUE, "ORDER-000123", 200, ["visibility_lag"])
    assert (post["error_code"], get["error_code"]) == ("GATEWAY_TIMEOUT", None)
    assert post["at"].endswith("+00:00")


@pytest.mark.parametrize("fault", [{"kind": "error", "status": 503}, {"kind": "maintenance"},
                                   {"kind": "rate_limit"}, {"kind": "false_duplicate"}])
def test_refused_requests_are_logged_with_their_ids(client: TestClient, fault: dict[str, Any]) -> None:
    put_faults(client, [fault])
    issue(client)
    client.get(ISSUE, params={"external_id": "ORDER-000123"})
    post, *rest = requests_log(client)
    assert (post["request_id"], post["external_id"]) == ("M1-000001", "ORDER-000123")
    assert post["faults"] == [fault["kind"]] and post["status"] >= 400
    if fault["kind"] != "false_duplicate":  # it refuses POSTs only
        assert rest[0]["external_id"] == "ORDER-000123"


def test_ledger_lines_have_committed_at(client: TestClient) -> None:
    issue(client)
    (line,) = ledger(client)
    assert line["committed_at"].endswith("+00:00") and line["status"] == "issued"


def test_stats(client: TestClient) -> None:
    issue(client)
    issue(client)
    client.post(ISSUE, content=b"[]")
    stats = client.get("/admin/stats").json()
    assert stats["invoices"] == 1
    assert stats["endpoints"]["POST /api/v1/invoices"] == {"201": 1, "200": 1, "400": 1}


def test_reset_guarded(make_client: Any) -> None:
    locked = make_client()
    issue(locked)
    resp = locked.post("/admin/reset")
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "RESET_NOT_ALLOWED"
    open_ = make_client(allow_reset=True)
    issue(open_)
    put_faults(open_, [{"kind": "latency", "ms": 1}])
    assert open_.post("/admin/reset").status_code == 200
    assert ledger(open_) == [] and requests_log(open_) == [] and open_.get("/admin/faults").json() == []
    assert open_.get("/admin/stats").json()["invoices"] == 0


def test_bearer_token(make_client: Any) -> None:
    client = make_client(admin_token="s3cret")
    for method, path in (("GET", "/admin/ledger"), ("GET", "/admin/faults"), ("PUT", "/admin/faults"),
                         ("DELETE", "/admin/faults"), ("GET", "/admin/requests"), ("GET", "/admin/stats"),
                         ("POST", "/admin/reset")):
        resp = client.request(method, path, json=[])
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHORIZED", path
    assert client.get("/admin/stats", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/admin/stats", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/health").status_code == 200


def test_stored_list_round_trips(client: TestClient) -> None:
    stored = put_faults(client, [{"kind": kind, **params} for kind, params in (
        ("latency", {"ms": 0}), ("ghost_commit", {}), ("malformed_response", {"mode": "empty", "probability": 0}),
        ("policy_change", {"required_field": "lines[].unit", "match": {"method": "GET"}}))])
    assert put_faults(client, stored) == stored  # the harness PUTs back what it GETs


def test_ghost_commit_on_red_letter(client: TestClient) -> None:
    blue = issue(client).json()["invoice_number"]
    put_faults(client, [{"kind": "ghost_commit", "status": 502, "match": {"path": f"{ISSUE}/"}}])
    assert client.post(f"{ISSUE}/{blue}/red-letter", json={"reason": "01", "request_id": "RR"}).status_code == 502
    client.delete("/admin/faults")
    assert client.get(f"{ISSUE}/{blue}").json()["status"] == "reversed"
    replay = client.post(f"{ISSUE}/{blue}/red-letter", json={"reason": "01", "request_id": "RR"})
    assert replay.status_code == 200 and replay.json()["red_for"] == blue


def test_faults_never_touch_admin_or_other_paths(client: TestClient) -> None:
    put_faults(client, [{"kind": "error", "status": 500}])
    assert client.get("/admin/stats").status_code == 200
    assert client.get("/api/v2/anything").status_code == 404
    assert client.get("/health").status_code == 200


def test_request_log_lines_are_json_whatever_the_ids(client: TestClient) -> None:
    raw = json.dumps(sample_invoice(external_id='北京"\\订单'))[:-1] + ', "request_id": "\\ud800"}'
    assert client.post(ISSUE, content=raw).status_code == 422
    (line,) = requests_log(client)
    assert line["external_id"] == '北京"\\订单' and line["request_id"] == "\\ud800"
    assert line["status"] == 422 and line["faults"] == []

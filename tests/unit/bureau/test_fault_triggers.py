"""Deterministic fault triggers: after_requests, every_n and match.external_ids.

Replays of a shrunk failing schedule must hit the same requests; wall-time windows and
probabilities cannot promise it, request counts and order references can.
"""

from __future__ import annotations

from starlette.testclient import TestClient

from fakes.bureau.samples import sample_invoice

ISSUE = "/api/v1/invoices"


def statuses(client: TestClient, n: int, prefix: str = "O") -> list[int]:
    return [client.post(ISSUE, json=sample_invoice(external_id=f"{prefix}{i}", request_id=f"{prefix}r{i}")).status_code
            for i in range(1, n + 1)]


def test_every_n_after_requests_acts_on_the_same_requests_every_time(client: TestClient) -> None:
    fault = {"id": "t", "kind": "error", "status": 503, "after_requests": 2, "every_n": 3}
    assert client.put("/admin/faults", json=[fault]).status_code == 200
    # past the first 2, every 3rd of the rest: the 5th and the 8th
    assert statuses(client, 9) == [201, 201, 201, 201, 503, 201, 201, 503, 201]


def test_the_count_survives_another_fault_opening(client: TestClient) -> None:
    counted = {"id": "t", "kind": "error", "status": 503, "every_n": 2, "match": {"method": "POST", "path": ISSUE}}
    client.put("/admin/faults", json=[counted])
    assert statuses(client, 3, "A") == [201, 503, 201]
    other = {"id": "lag", "kind": "visibility_lag", "seconds": 1}
    client.put("/admin/faults", json=[counted, other])    # the harness PUTs the whole list
    assert statuses(client, 3, "B") == [503, 201, 503]    # requests 4, 5, 6 of the same count


def test_external_ids_pick_the_orders(client: TestClient) -> None:
    fault = {"id": "t", "kind": "ghost_commit", "match": {"method": "POST", "external_ids": ["O2", "O4"]}}
    stored = client.put("/admin/faults", json=[fault]).json()
    assert stored[0]["match"]["external_ids"] == ["O2", "O4"]
    assert statuses(client, 5) == [201, 504, 201, 504, 201]
    ledger = client.get("/admin/ledger").text
    assert ledger.count('"external_id"') == 5          # the ghost commits were committed, bodies intact
    found = client.get(ISSUE, params={"external_id": "O2"}).json()["invoices"]
    assert len(found) == 1


def test_bad_triggers_are_422_naming_the_field(client: TestClient) -> None:
    for fault, field in (({"kind": "error", "every_n": 0}, "faults[0].every_n"),
                         ({"kind": "error", "after_requests": -1}, "faults[0].after_requests"),
                         ({"kind": "error", "match": {"external_ids": []}}, "faults[0].match.external_ids")):
        resp = client.put("/admin/faults", json=[fault])
        assert resp.status_code == 422 and field in [d["field"] for d in resp.json()["error"]["details"]], resp.text

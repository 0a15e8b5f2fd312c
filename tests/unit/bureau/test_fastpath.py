"""The hot path (fakes/bureau/fastpath.py) answers POST /api/v1/invoices exactly as the route.

Two bureaus on fresh ledgers get the same requests, one through the hot path and one with it
off (``app.fast = None``: FastAPI's middleware, router and the Starlette route): every answer,
its headers, and every request-log line must be the same. Only times differ
(``issued_at``, ``X-Bureau-Time``, ``date``, the log's ``at``), and are compared by shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from fakes.bureau.fastpath import ISSUE_PATH
from fakes.bureau.samples import sample_invoice

from .conftest import MakeClient

TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def shape(text: str) -> str:
    return TIME.sub("<time>", text)


def answer(client: TestClient, body: bytes, **headers: str) -> tuple[int, list[tuple[str, str]], str]:
    resp = client.post(ISSUE_PATH, content=body, headers={"content-type": "application/json", **headers})
    kept = [(k, shape(v)) for k, v in resp.headers.items() if k not in ("date",)]
    return resp.status_code, kept, shape(resp.content.decode("utf-8", "replace"))


def log_lines(client: TestClient) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in client.get("/admin/requests").text.splitlines()]
    return [{k: v for k, v in line.items() if k != "at"} for line in lines]


def pair(make_client: MakeClient, **settings: Any) -> tuple[TestClient, TestClient]:
    fast, routed = make_client(**settings), make_client(**settings)
    routed.app.fast = None  # type: ignore[attr-defined]
    assert fast.app.fast is not None  # type: ignore[attr-defined]
    return fast, routed


def invoice(i: int, **overrides: Any) -> bytes:
    fields: dict[str, Any] = {"request_id": f"R-{i}", "external_id": f"O-{i}", **overrides}
    return json.dumps(sample_invoice(**fields), ensure_ascii=False).encode()


CASES: list[tuple[str, bytes]] = [
    ("issued", invoice(1)),
    ("replayed", invoice(1)),
    ("same request_id, other payload", invoice(1, external_id="O-other")),
    ("invalid", invoice(2, total_amount="1.00", lines="x")),
    ("not JSON", b"{"),
    ("not an object", b"[1, 2]"),
    ("not UTF-8", b'{"a": "\xff"}'),
    ("lone surrogate", b'{"external_id": "\\ud800"}'),
    ("too large", b"{" + b" " * 5000 + b"}"),
    ("no request_id", invoice(3, request_id=None)),
]


def test_every_answer_and_log_line_is_the_same(make_client: MakeClient) -> None:
    fast, routed = pair(make_client, max_body_bytes=4096)
    for name, body in CASES:
        assert answer(fast, body) == answer(routed, body), name
    assert log_lines(fast) == log_lines(routed)


@pytest.mark.parametrize("faults", [
    [{"kind": "error", "status": 503}],
    [{"kind": "maintenance", "retry_after": 7}],
    [{"kind": "false_duplicate"}],
    [{"kind": "ghost_commit", "hang_s": 0}],
    [{"kind": "malformed_response", "mode": "truncated_json"}],
    [{"kind": "malformed_response", "mode": "html", "when": "before"}],
    [{"kind": "latency", "ms": 5}, {"kind": "error", "status": 500, "every_n": 2}],
    [{"kind": "policy_change", "required_field": "lines[].unit"}],
    [{"kind": "quota_exhausted"}],
    [{"kind": "auth_expired", "match": {"external_ids": ["O-5"]}}],
])
def test_faulted_answers_are_the_same(make_client: MakeClient, faults: list[dict[str, Any]]) -> None:
    fast, routed = pair(make_client, seed=3)
    for client in (fast, routed):
        assert client.put("/admin/faults", json=faults).status_code == 200
    for i in range(4, 8):
        assert answer(fast, invoice(i)) == answer(routed, invoice(i)), faults
    assert log_lines(fast) == log_lines(routed)


def test_a_crash_is_the_same_500(make_client: MakeClient) -> None:
    """An unexpected exception: Starlette's ServerErrorMiddleware answers, outside the fault
    middleware (no X-Bureau-Time; the log says no status was answered)."""
    fast, routed = pair(make_client)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    for client in (fast, routed):
        client.app.state.bureau.issue = broken  # type: ignore[attr-defined]
    got = answer(fast, invoice(9))
    assert got == answer(routed, invoice(9))
    assert got[0] == 500 and "RuntimeError" in got[2] and "x-bureau-time" not in dict(got[1])
    assert log_lines(fast) == log_lines(routed)
    assert log_lines(fast)[-1]["status"] is None

"""PUT /admin/faults validation: defaults filled in, every problem names faults[i].param."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.bureau.faults.board import FaultBoard
from fakes.bureau.faults.specs import KINDS, parse_faults


def problems(value: Any) -> list[str]:
    return [p.field for p in parse_faults(value)[1]]


MINIMAL: dict[str, dict[str, Any]] = {
    "latency": {"ms": 10}, "error": {}, "ghost_commit": {}, "rate_limit": {}, "maintenance": {},
    "visibility_lag": {"seconds": 1}, "malformed_response": {"mode": "html"}, "false_duplicate": {},
    "policy_change": {"rates": ["0.13"]},
    # CONTRACT §5.2 and §5.4
    "quota_exhausted": {}, "auth_expired": {}, "upload_stuck": {}, "upload_reject": {"code": "MONTH_CLOSED"},
}


def test_every_contract_kind_is_known() -> None:
    assert set(KINDS) == set(MINIMAL)


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_each_kind_parses_with_defaults_filled_in(kind: str) -> None:
    faults, errs = parse_faults([{"kind": kind, **MINIMAL[kind]}])
    assert errs == []
    stored = faults[0].stored
    assert stored["kind"] == kind and stored["probability"] == 1 and stored["match"] is None
    assert set(KINDS[kind]) <= set(stored)


def test_defaults() -> None:
    faults, _ = parse_faults([{"kind": "ghost_commit"}, {"kind": "rate_limit"}, {"kind": "maintenance"},
                              {"kind": "error"}, {"kind": "malformed_response", "mode": "empty"}])
    assert faults[0].stored["status"] == 504 and faults[0].stored["hang_s"] is None
    assert faults[1].stored["rps"] == 0 and faults[1].stored["retry_after"] == 1
    assert faults[2].stored["retry_after"] == 60
    assert faults[3].stored["status"] == 500
    assert faults[4].stored["when"] == "after"


@pytest.mark.parametrize("fault,field", [
    ({"kind": "nope"}, "faults[0].kind"),
    ({}, "faults[0].kind"),
    ({"kind": "error", "status": 200}, "faults[0].status"),
    ({"kind": "error", "status": "500"}, "faults[0].status"),
    ({"kind": "error", "statuz": 500}, "faults[0].statuz"),
    ({"kind": "latency"}, "faults[0].ms"),
    ({"kind": "latency", "ms": -1}, "faults[0].ms"),
    ({"kind": "latency", "ms": True}, "faults[0].ms"),
    ({"kind": "visibility_lag"}, "faults[0].seconds"),
    ({"kind": "malformed_response", "mode": "xml"}, "faults[0].mode"),
    ({"kind": "malformed_response", "mode": "html", "when": "during"}, "faults[0].when"),
    ({"kind": "policy_change", "rates": ["abc"]}, "faults[0].rates"),
    ({"kind": "policy_change", "required_field": "Bad Path"}, "faults[0].required_field"),
    ({"kind": "policy_change"}, "faults[0].rates"),
    ({"kind": "error", "probability": 1.5}, "faults[0].probability"),
    ({"kind": "error", "match": {"method": "BREW"}}, "faults[0].match.method"),
    ({"kind": "error", "match": {"path": "api"}}, "faults[0].match.path"),
    ({"kind": "error", "match": {"host": "x"}}, "faults[0].match.host"),
    ({"kind": "false_duplicate", "status": 409}, "faults[0].status"),
    ("error", "faults[0]"),
])
def test_bad_specs_name_the_field(fault: Any, field: str) -> None:
    assert field in problems([fault])


def test_index_is_reported_and_nothing_is_half_applied() -> None:
    faults, errs = parse_faults([{"kind": "error"}, {"kind": "error", "status": 99}])
    assert faults == [] and [p.field for p in errs] == ["faults[1].status"]


def test_body_must_be_a_list() -> None:
    assert problems({"kind": "error"}) == ["faults"]


def test_match_by_method_and_path_prefix() -> None:
    faults, _ = parse_faults([{"kind": "error", "match": {"method": "post", "path": "/api/v1/invoices/"}}])
    fault = faults[0]
    assert fault.matches("POST", "/api/v1/invoices/1/red-letter")
    assert not fault.matches("POST", "/api/v1/invoices")
    assert not fault.matches("GET", "/api/v1/invoices/1")


def test_probability_is_drawn_from_the_seeded_rng() -> None:
    def decisions(seed: int) -> list[bool]:
        board = FaultBoard(seed)
        board.replace(parse_faults([{"kind": "error", "probability": 0.5}])[0])
        return [bool(board.acting("GET", "/api/v1/invoices")) for _ in range(200)]

    assert decisions(7) == decisions(7)
    assert decisions(7) != decisions(8)
    assert 60 < sum(decisions(7)) < 140


def test_rate_limit_window() -> None:
    board = FaultBoard(0)
    board.replace(parse_faults([{"kind": "rate_limit", "rps": 3}])[0])
    refused = [board.over_rate(board.faults[0]) for _ in range(5)]
    assert refused.count(True) >= 2  # at most 3 pass within one second (4 if the second rolls over)

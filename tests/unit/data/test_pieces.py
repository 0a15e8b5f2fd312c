"""The malformed machinery piece by piece, on literal inputs: judge, shrinker, curl, report."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from harness.data.campaign import Campaign, Finding, Sent
from harness.data.examples import draw_examples
from harness.data.jsonbody import Pairs, render, to_plain
from harness.data.judge import Answer, judge
from harness.data.record import Malformed
from harness.data.malformed import family_names
from harness.data.report import build_report, markdown, summary_block, write_report
from harness.data.sender import curl_command
from harness.data.shrink import shrink

EXAMPLE = Malformed("unknown_rate", "bureau", "lines[0].tax_rate", "tax_rate '0.17'",
                    doc={"external_id": "X", "lines": [{"tax_rate": "0.17"}]})
SHAPE_422 = json.dumps({"error": {"code": "VALIDATION_FAILED", "message": "m",
                                  "details": [{"field": "lines[0].tax_rate", "code": "RATE_NOT_ALLOWED", "message": "m"}]}}).encode()


@pytest.mark.parametrize(("answer", "outcome", "finding"), [
    (Answer(422, SHAPE_422), "rejected", False),
    (Answer(400, b'{"error": {"code": "MALFORMED_REQUEST", "message": "m"}}'), "rejected", False),
    (Answer(422, b'{"error": {"code": "VALIDATION_FAILED", "message": "m", "details": []}}'), "rejected_unnamed", True),
    (Answer(422, b"invalid"), "no_error_shape", True),
    (Answer(201, b"{}"), "accepted", True),
    (Answer(500, b"Internal Server Error"), "server_error", True),
    (Answer(None, error="timeout"), "no_answer", True),
])
def test_judge(answer: Answer, outcome: str, finding: bool) -> None:
    verdict = judge(EXAMPLE, answer)
    assert (verdict.outcome, verdict.finding) == (outcome, finding)


def test_a_sut_that_names_no_field_is_counted_not_faulted() -> None:
    sut_example = Malformed("unknown_rate", "sut", "lines[0].tax_rate", "", doc={})
    verdict = judge(sut_example, Answer(422, b'{"error": {"code": "BAD", "message": "m"}}'))
    assert (verdict.outcome, verdict.finding) == ("rejected_unnamed", False)


def test_duplicate_keys_render_and_read_last_wins() -> None:
    doc = Pairs((("a", "1"), ("b", {"c": 1}), ("a", "2")))
    assert render(doc) == '{"a":"1","b":{"c":1},"a":"2"}'
    assert to_plain(doc) == {"b": {"c": 1}, "a": "2"}


def test_a_lone_surrogate_is_sent_as_a_json_escape() -> None:
    example = Malformed("odd_unicode", "sut", "buyer.name", "", doc={"buyer": {"name": "示\ud800"}})
    assert example.body() == b'{"buyer":{"name":"\\u793a\\ud800"}}'


def test_with_id_keeps_a_broken_id_and_replaces_a_good_one() -> None:
    good = Malformed("x", "sut", "lines", "", doc={"order_id": "a", "lines": []})
    broken = Malformed("x", "sut", "order_id", "", doc={"order_id": "a b"})
    assert good.with_id("m-1").doc["order_id"] == "m-1"
    assert broken.with_id("m-1").doc["order_id"] == "a b"


def test_shrink_finds_the_smallest_document_that_still_fails() -> None:
    doc = {"order_id": "o1", "buyer": {"name": "示例\u200b公司", "tax_id": "X"}, "lines": [{"a": "1"}, {"b": "2"}]}
    example = Malformed("odd_unicode", "sut", "buyer.name", "", doc=doc)

    async def still_fails(candidate: Malformed) -> bool:
        return "\u200b" in candidate.body().decode("utf-8")

    minimal, attempts = asyncio.run(shrink(example, still_fails))
    assert minimal.doc == {"buyer": {"name": "\u200b"}}
    again, _ = asyncio.run(shrink(example, still_fails))
    assert again == minimal and attempts > 0


def test_shrink_cuts_raw_bytes_and_respects_its_budget() -> None:
    example = Malformed("not_utf8", "sut", None, "", raw=b'{"name": "caf\xe9 and more text"}')

    async def still_fails(candidate: Malformed) -> bool:
        return b"\xe9" in (candidate.raw or b"")

    minimal, _ = asyncio.run(shrink(example, still_fails))
    assert minimal.raw == b"\xe9"
    _, attempts = asyncio.run(shrink(example, still_fails, max_attempts=3))
    assert attempts == 3


@pytest.mark.parametrize("body", [b'{"name": "it\'s \xe7\xa4\xba"}', b"\xff\xfe{\x00%s\\n", b'{"a":"\\u200b"}'])
def test_the_curl_command_sends_exactly_the_body(body: bytes) -> None:
    example = Malformed("x", "sut", None, "", raw=body)
    command = curl_command("http://127.0.0.1:9/invoices", example)
    printf = command.split(" | curl ")[0]
    out = subprocess.run(["bash", "-c", printf], capture_output=True, check=True).stdout
    assert out == body


def test_draw_examples_is_seeded_and_covers_every_family() -> None:
    first = draw_examples("sut", count=30, seed_value=5)
    assert [e.body() for e in first] == [e.body() for e in draw_examples("sut", count=30, seed_value=5)]
    assert {e.family for e in first} == set(family_names("sut"))
    assert [e.body() for e in first] != [e.body() for e in draw_examples("sut", count=30, seed_value=6)]


def _campaign() -> Campaign:
    campaign = Campaign({"sut": "http://127.0.0.1:9"})
    ok = Sent("m-1", EXAMPLE, Answer(422, SHAPE_422), judge(EXAMPLE, Answer(422, SHAPE_422)))
    bad_example = Malformed("odd_unicode", "sut", "buyer.name", "zero-width", doc={"buyer": {"name": "\u200b"}})
    bad = Sent("m-2", bad_example, Answer(500, b"boom"), judge(bad_example, Answer(500, b"boom")))
    campaign.sent += [ok, bad]
    campaign.findings.append(Finding(bad, bad_example, bad.answer, bad.verdict, attempts=4, occurrences=1))
    return campaign


def test_report_summary_block_and_markdown(tmp_path: Path) -> None:
    report = build_report(_campaign(), tmp_path, seed=3)
    assert report["totals"] == {"sent": 2, "rejected": 1, "suspects": 1, "findings": 1, "not_reproduced": 0}
    assert report["by_family"] == {"odd_unicode": {"server_error": 1}, "unknown_rate": {"rejected": 1}}
    (finding,) = report["findings"]
    assert finding["minimal_payload"] == {"buyer": {"name": "\u200b"}}
    assert "curl -sS -i -X POST http://127.0.0.1:9/invoices" in finding["curl"]
    write_report(report, tmp_path)
    block = summary_block(tmp_path)
    assert block is not None and block["findings"] == 1 and block["finding_families"] == ["odd_unicode"]
    assert "## Finding 1: odd_unicode -> server_error (sut)" in markdown(report)
    assert summary_block(tmp_path / "nowhere") is None

"""A campaign of malformed requests: send, judge, record; then confirm and shrink the findings.

Shared by the scenario phase (``harness.data.phase``) and ``invoice-chaos fuzz``. While faults
are active an answer can be wrong for reasons that have nothing to do with the body, so a bad
answer is first a *suspect*; ``confirm_and_shrink`` re-sends one suspect per (target, family,
outcome) to the quiet system, keeps those that reproduce as *findings*, and shrinks each.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.data.judge import Answer, Verdict, judge
from harness.data.record import Malformed, Target
from harness.data.sender import send
from harness.data.shrink import shrink
from harness.history import ERROR_TIMEOUT, Operation, Outcome, Recorder, http_error, outcome_for_status


@dataclass
class Sent:
    op_id: str
    example: Malformed
    answer: Answer
    verdict: Verdict


@dataclass
class Finding:
    """A confirmed finding: the original example, its shrunk form, and the answer to that."""

    original: Sent
    minimal: Malformed
    answer: Answer
    verdict: Verdict
    attempts: int
    occurrences: int
    also: list[str] = field(default_factory=list)  # other families that shrank to the same payload


@dataclass
class Campaign:
    urls: dict[Target, str]
    id_prefix: str = "mal"
    timeout_s: float = 10.0
    recorder: Recorder | None = None
    sent: list[Sent] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    not_reproduced: list[Sent] = field(default_factory=list)
    _serial: int = 0

    def _fresh(self, example: Malformed) -> tuple[str, Malformed]:
        self._serial += 1
        op_id = f"{self.id_prefix}-{self._serial:06d}"
        return op_id, example.with_id(op_id)

    async def send_one(self, client: httpx.AsyncClient, example: Malformed) -> Sent:
        """Send one example under a fresh id, judge the answer, record it as an operation."""
        op_id, example = self._fresh(example)
        invoke_at = time.time()
        answer = await send(client, self.urls[example.target], example, timeout_s=self.timeout_s)
        verdict = judge(example, answer)
        sent = Sent(op_id, example, answer, verdict)
        self.sent.append(sent)
        if self.recorder is not None:
            self.recorder.write(_operation(sent, invoke_at, time.time()))
        return sent

    def counts(self) -> dict[str, dict[str, int]]:
        """family -> outcome -> count, over everything sent during the campaign proper."""
        out: dict[str, Counter[str]] = {}
        for s in self.sent:
            out.setdefault(s.example.family, Counter())[s.verdict.outcome] += 1
        return {fam: dict(sorted(c.items())) for fam, c in sorted(out.items())}

    async def confirm_and_shrink(self, client: httpx.AsyncClient, *, max_findings: int = 20,
                                 max_attempts: int = 150, budget_s: float = 120.0) -> None:
        """Re-send one suspect per (target, family, outcome) to the quiet system; shrink those
        that reproduce. Bounded by ``max_findings`` groups and ``budget_s`` seconds overall."""
        groups: dict[tuple[str, str, str], list[Sent]] = {}
        for s in self.sent:
            if s.verdict.finding:
                groups.setdefault((s.example.target, s.example.family, s.verdict.outcome), []).append(s)
        deadline = time.monotonic() + budget_s
        campaign_sent = len(self.sent)
        for (_, _, outcome), suspects in list(groups.items())[:max_findings]:
            first = suspects[0]
            again = await self._probe(client, first.example)
            if not again.verdict.finding:
                self.not_reproduced.append(first)
                continue
            outcome = again.verdict.outcome

            async def still_fails(candidate: Malformed, outcome: str = outcome) -> bool:
                if time.monotonic() > deadline:
                    return False
                return (await self._probe(client, candidate)).verdict.outcome == outcome

            budget = 0 if outcome == "no_answer" else max_attempts
            minimal, attempts = await shrink(first.example, still_fails, max_attempts=budget)
            last = await self._probe(client, minimal)  # the report shows exactly what this sent
            same = next((f for f in self.findings if f.verdict.outcome == last.verdict.outcome
                         and _strip_id(f.minimal) == _strip_id(last.example)), None)
            if same is not None:
                same.also.append(first.example.family)
                continue
            self.findings.append(Finding(first, last.example, last.answer, last.verdict, attempts, len(suspects)))
        del self.sent[campaign_sent:]  # probes are not part of the campaign's counts

    async def _probe(self, client: httpx.AsyncClient, example: Malformed) -> Sent:
        op_id, fresh = self._fresh(example)
        answer = await send(client, self.urls[fresh.target], fresh, timeout_s=self.timeout_s)
        return Sent(op_id, fresh, answer, judge(fresh, answer))


def _strip_id(example: Malformed) -> bytes:
    return example.with_id("-").body()


def _operation(sent: Sent, invoke_at: float, complete_at: float) -> Operation:
    answer = sent.answer
    doc = sent.example.doc
    order_id = sent.op_id
    if isinstance(doc, dict) and isinstance(doc.get("order_id" if sent.example.target == "sut" else "external_id"), str):
        order_id = str(doc.get("order_id") or doc.get("external_id"))
    outcome: Outcome
    if answer.status is None:
        outcome, error = "info", (ERROR_TIMEOUT if answer.error == "timeout" else answer.error)
    else:
        outcome, error = outcome_for_status(answer.status), (None if answer.status in (201, 202) else http_error(answer.status))
    order: dict[str, Any] = {**sent.example.describe(), "verdict": sent.verdict.outcome, "finding": sent.verdict.finding}
    return Operation(op_id=sent.op_id, kind="malformed", order_id=order_id, invoke_at=invoke_at, complete_at=complete_at,
                     outcome=outcome, http_status=answer.status, error=error, worker=f"malformed-{sent.example.target}",
                     order=order)

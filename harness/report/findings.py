"""The malformed phase's shrunk findings (``malformed.json``), for the HTML and Markdown reports.

Each finding is one way the SUT (or the bureau) took input it must refuse, shrunk to a minimal
payload on the quiet system after the run, with a ``curl`` command that reproduces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_SHOWN = 20


@dataclass(frozen=True)
class Finding:
    family: str
    target: str
    field: str
    expected: str
    got: str
    occurrences: int
    payload: str
    curl: str


@dataclass(frozen=True)
class MalformedFindings:
    sent: int
    rejected: int
    findings: list[Finding]


def load_findings(run_dir: Path) -> MalformedFindings | None:
    """None when the run had no malformed phase (or its file cannot be read)."""
    try:
        raw = json.loads((run_dir / "malformed.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    totals = raw.get("totals") or {}
    out = [_finding(f) for f in (raw.get("findings") or [])[:MAX_SHOWN] if isinstance(f, dict)]
    return MalformedFindings(int(totals.get("sent", 0)), int(totals.get("rejected", 0)), out)


def _finding(f: dict[str, Any]) -> Finding:
    got = f.get("got") or {}
    status = got.get("status")
    reason = got.get("reason") or ""
    payload = f.get("minimal_payload")
    return Finding(
        family=str(f.get("family", "")), target=str(f.get("target", "")), field=str(f.get("field") or "-"),
        expected=str(f.get("expected", "")),
        got=f"{status if status is not None else 'no answer'}: {reason}".strip(": "),
        occurrences=int(f.get("occurrences") or 1),
        payload=json.dumps(payload, ensure_ascii=False)[:2000] if payload is not None else "(raw bytes; see malformed.json)",
        curl=str(f.get("curl") or ""),
    )


def markdown(m: MalformedFindings) -> list[str]:
    lines = ["", "### Malformed input", "",
             f"{m.sent} malformed requests sent, {m.rejected} refused as they must be; "
             f"**{len(m.findings)} finding(s)**, each shrunk to a minimal reproducer."]
    for f in m.findings:
        lines += ["", f"- **{f.family}** on {f.target} (`{f.field}`), seen {f.occurrences}×: "
                      f"expected {f.expected}; got {f.got}",
                  "", "  ```sh", f"  {f.curl}", "  ```"]
    return lines

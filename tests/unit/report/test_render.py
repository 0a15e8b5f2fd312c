from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import render


def test_render_writes_every_file(run_dir: Path) -> None:
    html = render(run_dir)
    assert html == run_dir / "report.html"
    text = html.read_text()
    assert "FAIL" in text and "data:image/png;base64," in text
    assert "ORDER-" in text  # per-order evidence
    for name in ("throughput", "latency", "errors", "backlog", "recovery", "anomalies"):
        assert (run_dir / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "### Gates" in (run_dir / "report.md").read_text()
    ET.parse(run_dir / "junit.xml")


def test_html_is_self_contained(run_dir: Path) -> None:
    text = render(run_dir).read_text()
    assert "<script src" not in text and "<link " not in text
    assert 'src="plots/' not in text

"""Operation records: invoke and completion lines, joined; a killed load leaves its requests."""

from __future__ import annotations

import json
from pathlib import Path

from harness.checks.invoices import audit_invoices
from harness.history import ERROR_UNFINISHED, Recorder, invoke_record, merge_records, read_operations

ORDER = {"order_id": "O1", "kind": "normal", "buyer": {"name": "b"}, "lines": []}


def completion(op_id: str, oid: str, status: int | None, t: float) -> dict:
    return {"op_id": op_id, "kind": "issue", "order_id": oid, "invoke_at": t, "complete_at": t + 0.1,
            "outcome": "ok" if status in (201, 202) else ("info" if status is None else "fail"),
            "http_status": status, "error": None, "sut_status": None, "invoice_number": None, "worker": "w0"}


def test_completion_takes_its_order_from_the_invoke_record():
    (op,) = merge_records([invoke_record("w0-1", "issue", "O1", 1.0, "w0", ORDER), completion("w0-1", "O1", 201, 1.0)])
    assert op["outcome"] == "ok" and op["order"] == ORDER


def test_an_invoke_without_completion_is_indeterminate_not_forgotten():
    (op,) = merge_records([invoke_record("w0-1", "issue", "O1", 1.0, "w0", ORDER)])
    assert op["outcome"] == "info" and op["error"] == ERROR_UNFINISHED
    assert op["complete_at"] is None and op["http_status"] is None and op["order"] == ORDER


def test_old_files_with_orders_in_completions_read_the_same():
    old = dict(completion("w0-1", "O1", 201, 1.0), order=ORDER)
    assert merge_records([dict(old)]) == [old]


def test_killed_load_on_disk(tmp_path: Path):
    """Lines as a load killed with SIGKILL leaves them: flushed invokes, a torn last line."""
    with Recorder(tmp_path / "operations.jsonl") as rec:
        rec.write(invoke_record("w0-1", "issue", "O1", 1.0, "w0", ORDER), flush=True)
        rec.write(completion("w0-1", "O1", 201, 1.0))
        rec.write(invoke_record("w0-2", "issue", "O2", 2.0, "w0", dict(ORDER, order_id="O2")), flush=True)
    with open(tmp_path / "operations.jsonl", "a") as fh:
        fh.write('{"op_id": "w0-2", "kind": "iss')          # the completion, torn mid-write
    ops = read_operations(tmp_path)
    assert [(o["order_id"], o["outcome"]) for o in ops] == [("O1", "ok"), ("O2", "info")]


def test_the_invoice_of_an_unfinished_request_is_not_unexpected():
    ops = merge_records([invoke_record("w0-1", "issue", "O1", 1.0, "w0", ORDER)])
    ledger = [{"invoice_number": "N1", "external_id": "O1", "seller": {"tax_id": "S"}, "red_for": None}]
    audit = audit_invoices(ops, ledger, [{"order_id": "O1", "status": "issued", "invoice_number": "N1"}], "S")
    assert audit.anomalies["unexpected"] == []


def test_invoke_records_reach_the_file_before_any_flush(tmp_path: Path):
    rec = Recorder(tmp_path / "ops.jsonl", flush_every=3600)
    rec.write(invoke_record("w0-1", "issue", "O1", 1.0, "w0", ORDER), flush=True)
    assert json.loads((tmp_path / "ops.jsonl").read_text())["phase"] == "invoke"
    rec.close()

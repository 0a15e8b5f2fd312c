"""Benchmark: the invoice checks and recovery metrics over N operations on one core.

Prints, side by side in one run, the time of ``build_summary`` (every anomaly list, evidence,
per-fault recovery, availability, gates) and of a plain pandas group-by over the same data (the
reference: the least work any honest audit must do), and their ratio.

    .venv/bin/python bench/checks.py            # 1,000,000 operations
    .venv/bin/python bench/checks.py --ops 200000
"""

from __future__ import annotations

import argparse
import os
import random
import time

from harness.checks.summary import RunData, build_summary

SELLER = "91110108551385082Q"
LINE = {"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
        "quantity": "2", "unit_price": "50.00", "tax_rate": "0.06"}
INV_LINE = {**LINE, "amount": "100.00", "tax_amount": "6.00"}
BUYER = {"name": "福建示例贸易有限公司", "tax_id": "91350100M000100Y43"}


def synthetic(n_ops: int, seed: int = 1) -> RunData:
    """n_ops operations at 500/s over ~n/500 s; 5% retries, 1% timeouts, a fault window, a few anomalies."""
    rng = random.Random(seed)
    t0 = 1_800_000_000.0
    ops, ledger, sut = [], [], []
    order = {"kind": "normal", "buyer": BUYER, "lines": [LINE]}
    n_orders = int(n_ops / 1.05)
    for i in range(n_orders):
        oid = f"r1-w0-{i:07d}"
        t = t0 + i / 500.0
        tries = 2 if rng.random() < 0.05 else 1
        for k in range(tries):
            status = None if rng.random() < 0.01 else 201
            ops.append({"op_id": f"{oid}-{k}", "kind": "issue", "order_id": oid, "invoke_at": t + k * 0.2,
                        "complete_at": t + k * 0.2 + 0.03, "outcome": "info" if status is None else "ok",
                        "http_status": status, "invoice_number": f"26110{i:015d}" if status else None,
                        "order": order})
        if i % 1000 != 7:  # a few lost ones
            ledger.append({"invoice_number": f"26110{i:015d}", "external_id": oid, "kind": "normal",
                           "seller": {"tax_id": SELLER}, "buyer": BUYER, "lines": [INV_LINE],
                           "total_with_tax": "106.00", "red_for": None, "committed_at": t + 0.02})
        sut.append({"order_id": oid, "status": "issued", "invoice_number": f"26110{i:015d}", "total_with_tax": "106.00"})
    mid = t0 + n_orders / 1000.0
    faults = [{"id": "f1", "family": "bureau", "kind": "error", "target": "bureau",
               "applied_at": mid, "reverted_at": mid + 10}]
    probes = [{"at": t0 + s, "sut_pending": 0} for s in range(int(n_orders / 500) + 30)]
    end = t0 + n_orders / 500.0
    return RunData("bench", 1, SELLER, t0, end, end + 20, ops, faults, probes, ledger, [], sut)


def pandas_reference(data: RunData) -> float:
    import pandas as pd

    start = time.perf_counter()
    ops = pd.DataFrame.from_records(data.operations, columns=["order_id", "http_status", "outcome", "invoke_at", "complete_at"])
    led = pd.DataFrame.from_records(data.bureau_ledger, columns=["external_id", "invoice_number"])
    per_order = ops.groupby("order_id")["http_status"].max()
    blues = led.groupby("external_id")["invoice_number"].count()
    joined = per_order.to_frame().join(blues, how="left")
    _ = (joined["invoice_number"].isna() & (joined["http_status"] == 201)).sum()
    _ = ops.groupby("outcome").size()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=1_000_000)
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {0})
        pinned = "pinned to CPU 0"
    except (AttributeError, OSError):
        pinned = "not pinned"
    t = time.perf_counter()
    data = synthetic(args.ops)
    print(f"synthetic run: {len(data.operations):,} operations, {len(data.bureau_ledger):,} invoices "
          f"(built in {time.perf_counter() - t:.1f} s; {pinned})")
    ref = pandas_reference(data)
    t = time.perf_counter()
    summary = build_summary(data)
    ours = time.perf_counter() - t
    print(f"plain pandas group-by (reference): {ref:6.2f} s")
    print(f"build_summary (all checks):        {ours:6.2f} s")
    print(f"ratio checks / reference:          {ours / ref:6.1f}x")
    print(f"lost found: {len(summary['anomalies']['lost']):,}; target: under 10 s for 1,000,000 operations")


if __name__ == "__main__":
    main()

"""`invoice-chaos validate`: check a scenario file and print the resolved fault schedule."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "check a scenario file and print its resolved fault schedule"
EXAMPLE = "invoice-chaos validate scenarios/smoke.yaml --time-scale 0.5"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--time-scale", type=float, metavar="F", help="stretch or compress every duration")


def run(args: argparse.Namespace) -> int:
    from harness.load.shapes import total_duration
    from harness.scenario import load_scenario

    sc = load_scenario(args.scenario, seed=args.seed, time_scale=args.time_scale)
    load = sc.scaled_load()
    print(f"scenario {sc.name}: seed {sc.seed}, time scale {sc.time_scale:g}")
    print(f"load: {load.model} model, {load.shape.type} shape, {total_duration(load.shape):.1f} s; drain up to {sc.drain_scaled_s:.1f} s")
    specs = sc.fault_specs()
    if not specs:
        print("faults: none")
    for s in specs:
        end = "end of load" if s.duration_s is None else f"{s.start_s + s.duration_s:7.1f} s"
        params = ", ".join(f"{k}={v}" for k, v in s.params.items()) or "-"
        print(f"  {s.id:>6}  {s.start_s:7.1f} s -> {end}  {s.family}/{s.kind} on {s.target}  ({params})")
    from harness.checks.verdict import gates_for
    from harness.data.responses import MALFORMED_GATES

    declared = [g.model_dump() for g in sc.gates]
    gates = gates_for(declared, sc.anomaly_gates_off, MALFORMED_GATES if sc.malformed is not None else [])
    off = f"; not gated (anomaly_gates): {', '.join(sc.anomaly_gates_off)}" if sc.anomaly_gates_off else ""
    print(f"gates: {len(gates)} ({len(declared)} declared, the rest by default{off})")
    for g in gates:
        print(f"  gate {g['name']}: {g['metric']} {g['op']} {g['threshold']}")
    if sc.sweep is not None:
        from harness.sweep import load_variants

        variants = load_variants(args.scenario, seed=args.seed, time_scale=args.time_scale)
        print(f"sweep: {sc.sweep.param} takes {len(variants)} values, one run each "
              f"(about {len(variants) * total_duration(load.shape):.0f} s of load in all):")
        for v in variants:
            print(f"  variant {v.label}: seed {v.scenario.seed}")
    return 0

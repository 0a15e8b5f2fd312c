"""The orchestrator of one run: start, load + faults + probes, drain, collect, check, report.

Lifecycle (every step pushes its undo onto one ``AsyncExitStack``, so Ctrl-C, a crashed SUT or
a bug in the harness still stops every process, removes the proxy and writes what was
collected)::

    scenario -> run dir -> bureau + proxy + SUT (health-waited) -> load starts (t = 0)
      -> faults on schedule, probes every second -> load ends -> faults reverted
      -> drain (until nothing is pending, or drain_s) -> collect ledgers -> checks -> report
"""

from __future__ import annotations

import asyncio
import json
import logging
import platform
import signal
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from harness import __version__
from harness.backends.local import LocalBackend
from harness.checks.honesty import compromised_reasons, load_did_not_run
from harness.checks.summary import RunData, build_summary
from harness.collect import collect_bureau, collect_sut, read_operations, write_history
from harness.data.report import summary_block
from harness.errors import ChaosError, InputError
from harness.lifeline import reap_stale
from harness.metrics import write_metrics
from harness.probes import Prober
from harness.outdir import prepare_run_dir
from harness.scenario import Scenario, load_scenario
from harness.services import Stack, choose_sut, start_stack
from harness.timeline import Timeline

log = logging.getLogger("invoice-chaos.run")


@dataclass
class RunOptions:
    scenario_path: Path
    sut: str | None = None
    sut_cmd: str | None = None
    sut_url: str | None = None
    seed: int | None = None
    out: Path | None = None
    time_scale: float | None = None
    toxiproxy_url: str | None = None
    toxiproxy_bin: Path | None = None   # a Toxiproxy binary to start as the run's proxy (local backend)
    bureau_listen: str = "127.0.0.1:26001"
    backend: str = "local"
    sut_image: str | None = None
    toxiproxy_image: str = "ghcr.io/shopify/toxiproxy"
    pull: bool = False
    force: bool = False                 # clear an earlier run in ``out`` instead of refusing it
    fail_on_compromised: bool = False   # a pass with doubts about its figures exits 1
    scenario: Scenario | None = None    # already resolved (a sweep's variant); else read the path
    variant: str | None = None          # the variant's label (``hang_s=5``), recorded in run.json
    sut_health_timeout_s: float | None = None  # overrides services.sut.health_timeout_s
    quiet: bool = False                 # no live progress on a terminal (explore runs many)
    label: str | None = None  # the SUT's name in reports and compare (e.g. a vendor's)


@dataclass
class RunResult:
    run_dir: Path
    exit_code: int
    summary: dict[str, Any] | None = None
    report: Path | None = None
    notes: list[str] = field(default_factory=list)


class _FaultCtx:
    """What fault injectors may reach (``harness.faults.base.FaultContext``)."""

    def __init__(self, stack: Stack, order_prefix: str = "", workers: int = 0) -> None:
        self._stack = stack
        self._prefix = order_prefix
        self._workers = workers

    def order_ids(self, index: int) -> list[str]:
        # harness.data.orders.OrderFactory numbers each worker's orders prefix-w<k>-NNNNNN.
        return [f"{self._prefix}-w{k}-{index:06d}" for k in range(max(1, self._workers))]

    @property
    def toxiproxy_url(self) -> str:
        return self._stack.toxiproxy_url

    @property
    def bureau_admin_url(self) -> str:
        return self._stack.bureau_admin_url

    def proxy_name(self, target: str) -> str:
        return self._stack.proxy_name

    def service(self, target: str) -> Any:
        return self._stack.service(target)


def default_run_dir(scenario: Scenario) -> Path:
    """``reports/<UTC time>-<scenario>`` under the working directory; never one already used."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = Path("reports").resolve() / f"{stamp}-{scenario.name}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


async def execute(opts: RunOptions, say: Any = print) -> RunResult:
    """Run one scenario. ``say`` prints progress lines for people (stderr in the CLI)."""
    if opts.backend not in ("local", "docker"):
        raise InputError(f"--backend {opts.backend!r}: use local or docker")
    scenario = opts.scenario or load_scenario(opts.scenario_path, seed=opts.seed, time_scale=opts.time_scale)
    if opts.sut_health_timeout_s is not None:
        configured = scenario.services
        sut_settings = configured.sut.model_copy(update={"health_timeout_s": opts.sut_health_timeout_s})
        scenario = scenario.model_copy(update={"services": configured.model_copy(update={"sut": sut_settings})})
    if scenario.sweep is not None:
        raise InputError(f"{opts.scenario_path}: sweeps {scenario.sweep.param} over {len(scenario.sweep.values)} values; "
                         "`invoice-chaos run` runs one variant per value (from Python: run each of "
                         "harness.sweep.load_variants(path))")
    sut = choose_sut(scenario, opts.sut, opts.sut_cmd, opts.sut_url, opts.sut_image, opts.backend, opts.label)
    specs = scenario.fault_specs()
    if sut.url and any(s.family == "process" and s.target == "sut" for s in specs):
        raise InputError(f"{opts.scenario_path}: process faults on the SUT cannot be applied to --sut-url {sut.url} "
                         "(the harness did not start it); use --sut-cmd, or remove those faults")
    if opts.toxiproxy_url and any(s.family == "process" and s.target == "proxy" for s in specs):
        raise InputError(f"{opts.scenario_path}: process faults on the proxy cannot be applied to --toxiproxy-url "
                         f"{opts.toxiproxy_url} (the harness did not start it); drop --toxiproxy-url, or remove those faults")

    # Absolute from here on: Locust and the services do not run in the user's working directory.
    run_dir = opts.out.resolve() if opts.out is not None else default_run_dir(scenario)
    prepare_run_dir(run_dir, force=opts.force)
    (run_dir / "logs").mkdir(exist_ok=True)
    state_dir = run_dir / "state"
    state_dir.mkdir(exist_ok=True)
    run_id = f"{int(time.time()) % 100000:05d}{scenario.seed % 1000:03d}"
    meta: dict[str, Any] = {
        "run_id": run_id, "scenario": scenario.name, "variant": opts.variant, "seed": scenario.seed,
        "backend": opts.backend,
        "sut": sut.label, "sut_spec": sut.spec, "time_scale": scenario.time_scale, "started_at": time.time(),
        "load_start_at": None, "load_end_at": None, "drain_end_at": None, "finished_at": None,
        "interrupted": False, "versions": _versions(),
    }
    _write_json(run_dir / "run.json", meta)
    resolved = scenario.model_dump(mode="json")
    (run_dir / "scenario.resolved.yaml").write_text(yaml.safe_dump(resolved, allow_unicode=True, sort_keys=False), encoding="utf-8")

    result = RunResult(run_dir=run_dir, exit_code=0)
    notes: list[str] = []
    unknown: list[str] = []   # why this run cannot support a verdict, as it happens
    interrupted = False
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    # SIGTERM, and SIGINT even when inherited as ignored (a run started in the background by a
    # script): both end the run the way Ctrl-C does, with cleanup and what was collected.
    handled = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        handled.append(signal.SIGINT)
    if task is not None:
        for sig in handled:
            try:
                loop.add_signal_handler(sig, task.cancel)
            except (NotImplementedError, RuntimeError):
                pass

    stack = AsyncExitStack()
    backend = _make_backend(opts.backend, run_dir, run_id)
    stack.push_async_callback(backend.close)
    services: Stack | None = None
    prober: Prober | None = None
    probe_task: asyncio.Task[None] | None = None
    timeline: Timeline | None = None
    driver = None
    malformed = None  # harness.data.phase.MalformedPhase when the scenario has a malformed phase
    try:
        say(f"run directory: {run_dir}")
        reap_stale(lambda line: notes.append(line))   # services a killed harness left running here
        say("starting bureau, fault proxy and SUT ...")
        services = await start_stack(stack, backend, scenario, sut, run_id=run_id, state_dir=state_dir,
                                     toxiproxy_url=opts.toxiproxy_url, bureau_listen=opts.bureau_listen,
                                     toxiproxy_image=opts.toxiproxy_image, pull=opts.pull,
                                     toxiproxy_bin=opts.toxiproxy_bin)
        notes.extend(getattr(backend, "notes", []))
        missing = [c for c in scenario.requires if c not in services.sut_capabilities]
        if missing:
            raise InputError(f"{opts.scenario_path}: the scenario requires the SUT capabilities {', '.join(missing)} "
                             f"(requires: {list(scenario.requires)}), but {sut.label} reports "
                             f"{services.sut_capabilities or 'none'} in GET /health; run it against a SUT that has "
                             "them (the reference merchant: --sut reference:resilient with its lq channel)")
        meta["services"] = {"bureau": services.bureau.url, "toxiproxy": services.toxiproxy_url,
                            "bureau_via_proxy": services.proxy_listen, "sut": services.sut_url,
                            "proxy": services.proxy_info}

        from harness.load.driver import LoadDriver

        timeline = Timeline(specs, _FaultCtx(services, f"r{run_id}", scenario.load.workers), run_dir / "faults.jsonl")
        driver = LoadDriver(scenario.scaled_load(), services.sut_url, run_dir, scenario.seed, f"r{run_id}",
                            run_dir / "logs" / "load.log", status=timeline.active_label, progress=not opts.quiet)
        stack.push_async_callback(driver.stop)
        prober = Prober(services, run_dir / "probes.jsonl", lambda: getattr(driver, "load_start_at", None))
        probe_task = asyncio.create_task(prober.run(), name="probes")
        say(f"load: {_describe_load(scenario)}; faults: {len(specs)}")
        await driver.start()
        meta["load_start_at"] = driver.load_start_at
        meta["bureau_clock"] = await _start_bureau_clock(services, scenario, driver.load_start_at, unknown)
        timeline.start(driver.load_start_at)
        if scenario.malformed is not None:
            from harness.data.phase import phase_for_run

            malformed = phase_for_run(scenario, services, run_dir, run_id)
            stack.push_async_callback(malformed.stop)
            await malformed.start(driver.load_start_at)
        _record_load_spike(timeline, scenario)
        crash_watch = asyncio.create_task(_watch_crashes(services, timeline, driver.load_start_at, unknown),
                                          name="crash-watch")
        stack.callback(crash_watch.cancel)
        await asyncio.wait({asyncio.ensure_future(driver.wait()), crash_watch}, return_when=asyncio.FIRST_COMPLETED)
        await driver.stop()
        meta["load_end_at"] = driver.load_end_at or time.time()
        meta["load_summary"] = driver.summary()
        await timeline.finish()
        notes.extend(timeline.errors)
        if not crash_watch.done():
            say("load finished; draining ...")
            meta["drain_end_at"] = await _drain(prober, scenario.drain_scaled_s, crash_watch)
        crash_watch.cancel()
        if malformed is not None:
            say("malformed: confirming and shrinking findings against the quiet system ...")
            await malformed.finish()
    except asyncio.CancelledError:
        interrupted = True
        if task is not None:
            task.uncancel()
        say("interrupted: reverting faults, collecting what was recorded, stopping services ...")
    except ChaosError:
        raise
    finally:
        if timeline is not None:
            await asyncio.shield(timeline.finish())
        if driver is not None:
            await asyncio.shield(driver.stop())
            if meta["load_start_at"] is None and getattr(driver, "load_start_at", None):
                meta["load_start_at"] = driver.load_start_at
        if malformed is not None:
            await asyncio.shield(malformed.stop())
        if probe_task is not None:
            probe_task.cancel()
            await asyncio.gather(probe_task, return_exceptions=True)
        try:
            if services is not None:
                if interrupted:
                    unknown.append("the run was interrupted before it finished")
                summary = await _collect_and_check(run_dir, scenario, services, meta, timeline, prober, unknown)
                result.summary = summary
                meta["interrupted"] = interrupted
                _write_json(run_dir / "run.json", meta)  # the report reads the run's times from it
                result.report = _render(run_dir, notes)
                result.exit_code = 130 if interrupted else exit_code(summary, opts.fail_on_compromised)
        finally:
            meta["finished_at"] = time.time()
            meta["interrupted"] = interrupted
            _write_json(run_dir / "run.json", meta)
            await asyncio.shield(stack.aclose())
            for sig in handled:
                try:
                    loop.remove_signal_handler(sig)
                except (NotImplementedError, RuntimeError):
                    pass
    result.notes = notes
    if interrupted:
        result.exit_code = 130
    return result


def exit_code(summary: dict[str, Any], fail_on_compromised: bool = False) -> int:
    """0 for a pass (unless its figures are in doubt and the user asked to fail then), else 1."""
    if summary.get("verdict") != "pass":
        return 1
    return 1 if fail_on_compromised and summary.get("compromised") else 0


def _make_backend(name: str, run_dir: Path, run_id: str) -> Any:
    """The local backend, or the Docker one (exit 3 with the reason when no engine answers)."""
    if name == "docker":
        from harness.backends.docker import DockerBackend
        from harness.backends.engine import connect

        return DockerBackend(run_dir / "logs", run_id, connect())
    return LocalBackend(run_dir / "logs")


async def _start_bureau_clock(services: Stack, scenario: Scenario, load_start_at: float,
                              unknown: list[str]) -> dict[str, Any] | None:
    """Bureau time is ``services.bureau.clock.start`` when the load starts (harness.bureau_command);
    a clock that cannot be set leaves the scenario's calendar undone: no verdict."""
    from harness.errors import FaultError
    from harness.faults.bureau import set_clock

    clock = scenario.services.bureau.clock
    if clock is None or clock.start is None:
        return None
    from datetime import timedelta

    now = clock.start + timedelta(seconds=(time.time() - load_start_at) * clock.rate)
    try:
        return await set_clock(services.bureau_admin_url, {"now": now.isoformat()}, "services.bureau.clock.start")
    except FaultError as exc:
        unknown.append(f"the bureau clock could not be set to services.bureau.clock.start, so the scenario's "
                       f"calendar did not happen as written: {exc}")
        return None


def _record_load_spike(timeline: Timeline, scenario: Scenario) -> None:
    shape = scenario.scaled_load().shape
    if shape.type == "spike":
        timeline.add_load_window("load-spike", "spike", shape.at_s, shape.at_s + shape.spike_s,
                                 {"base": shape.base, "factor": shape.factor})


SERVICE_NAMES = {"sut": "the SUT", "bureau": "the bureau", "proxy": "the fault proxy"}


async def _watch_crashes(services: Stack, timeline: Timeline, load_start_at: float, unknown: list[str]) -> None:
    """Return when a service dies that no process fault is holding down: the run cannot go on,
    and what it recorded from then on says nothing about the SUT's resilience."""
    while True:
        await asyncio.sleep(0.5)
        for name in ("sut", "bureau", "proxy"):
            svc = getattr(services, name)
            if svc is not None and not svc.alive and not timeline.held_down(name):
                unknown.append(f"{SERVICE_NAMES[name]} died at t = {time.time() - load_start_at:.1f} s "
                               f"(exit code {svc.returncode}), outside any process fault; see logs/{name}.log")
                return


async def _drain(prober: Prober, drain_s: float, crash_watch: asyncio.Task[None]) -> float:
    """Wait until the SUT reports nothing pending (two probes in a row), drain_s passes, or a
    service dies."""
    end = time.time() + drain_s
    zeros = 0
    seen = len(prober.records)
    while time.time() < end and not crash_watch.done():
        await asyncio.sleep(0.25)
        new = prober.records[seen:]
        seen = len(prober.records)
        for rec in new:
            zeros = zeros + 1 if rec.get("sut_pending") == 0 else 0
        if zeros >= 2:
            break
    return time.time()


async def _collect_and_check(run_dir: Path, scenario: Scenario, services: Stack, meta: dict[str, Any],
                             timeline: Timeline | None, prober: Prober | None, unknown: list[str]) -> dict[str, Any]:
    problems: list[str] = []   # a ledger that could not be read: the audit is incomplete
    ledger, requests = await collect_bureau(services.bureau_admin_url, run_dir, problems)
    sut_rows = await collect_sut(services.sut_url, run_dir, problems)
    ops = read_operations(run_dir)
    start = meta.get("load_start_at") or (ops[0]["invoke_at"] if ops else time.time())
    meta["load_start_at"] = start
    end = meta.get("load_end_at") or time.time()
    drain_end = meta.get("drain_end_at") or time.time()
    write_history(run_dir, ops, start)
    load = scenario.scaled_load()
    soft = compromised_reasons(load, ops, prober.records if prober else [], meta.get("load_summary") or {})
    data = RunData(
        scenario=scenario.name or "scenario", seed=scenario.seed, seller_tax_id=scenario.services.seller.tax_id,
        load_start_at=start, load_end_at=end, drain_end_at=drain_end, operations=ops,
        faults=timeline.final_windows() if timeline else [], probes=prober.records if prober else [],
        bureau_ledger=ledger, bureau_requests=requests, sut_ledger=sut_rows,
        gates=[g.model_dump() for g in scenario.gates] or None, compromised_reasons=soft,
        unknown_reasons=[*unknown, *problems, *load_did_not_run(load, ops)],
        anomaly_gates_off=scenario.anomaly_gates_off, bureau_dedup=scenario.services.bureau.dedup,
        malformed=summary_block(run_dir) if scenario.malformed is not None else None,
    )
    summary = build_summary(data)
    _write_json(run_dir / "summary.json", summary)
    write_metrics(run_dir, summary)  # metrics.prom: the same figures for dashboards
    return summary


def _render(run_dir: Path, notes: list[str]) -> Path | None:
    try:
        from harness.report.render import render
    except ImportError as exc:
        notes.append(f"no report renderer: {exc}")
        return None
    return render(run_dir)


def _describe_load(scenario: Scenario) -> str:
    from harness.load.shapes import total_duration

    load = scenario.scaled_load()
    unit = "orders/s" if load.model == "open" else "users"
    return f"{load.model} model, {load.shape.type} shape in {unit}, {total_duration(load.shape):.0f} s"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"invoice-chaos": __version__, "python": platform.python_version()}
    for pkg in ("locust", "fastapi", "uvicorn", "pandas", "toxiproxy-python"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def main_sync(opts: RunOptions) -> RunResult:
    """Run in a fresh event loop; Ctrl-C cancels the run task, which cleans up and returns 130."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return asyncio.run(execute(opts, say=lambda m: print(m, file=sys.stderr)))

"""Run a scenario from Python (a test) and get its summary: the engine behind ``chaos_run``.

::

    runner = ChaosRunner(Path("/tmp/runs"))
    result = runner({"load": {"shape": {"type": "steady", "target": 5, "duration_s": 5}}},
                    sut="reference:resilient")
    result.assert_passed()          # AssertionError listing failed gates and anomalies
    result.summary["latency_ms"]["p99"], result.run_dir / "report.md"

It calls the same engine as ``invoice-chaos run`` (``harness.run.execute``), in this process.
Bad input raises ``harness.errors.InputError`` (the message names file, field and value); an
environment failure raises ``EnvironmentFailure``.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ScenarioLike = str | Path | Mapping[str, Any]


@dataclass
class ChaosResult:
    """One run: ``summary`` is summary.json (CONTRACT §4); ``run_dir`` holds every file of it."""

    summary: dict[str, Any]
    run_dir: Path
    exit_code: int
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.exit_code == 0 and self.summary.get("verdict") == "pass"

    @property
    def anomalies(self) -> dict[str, list[str]]:
        return dict(self.summary.get("anomalies") or {})

    def fault(self, fault_id: str) -> dict[str, Any]:
        """The per-fault figures of fault ``fault_id`` (``time_to_recover_s``, ...)."""
        for f in self.summary.get("faults") or []:
            if f.get("id") == fault_id:
                return dict(f)
        ids = [f.get("id") for f in self.summary.get("faults") or []]
        raise KeyError(f"fault {fault_id!r} is not in {self.run_dir / 'summary.json'} (faults: {ids})")

    def explain(self) -> str:
        """Failed gates, non-empty anomaly lists and compromise reasons, one per line."""
        lines = [f"run {self.run_dir}: verdict {self.summary.get('verdict')}, exit {self.exit_code}"]
        lines += [f"  why: {r}" for r in self.summary.get("verdict_reasons") or []]
        for g in self.summary.get("gates") or []:
            if not g.get("passed"):
                lines.append(f"  gate {g.get('name')}: {g.get('metric')} = {g.get('value')!r}, "
                             f"wanted {g.get('op')} {g.get('threshold')!r}")
        for kind, ids in self.anomalies.items():
            if ids:
                shown = ", ".join(map(str, ids[:5])) + (" ..." if len(ids) > 5 else "")
                lines.append(f"  {kind}: {len(ids)} order(s): {shown}")
        lines += [f"  compromised: {r}" for r in self.summary.get("compromised_reasons") or []]
        lines += [f"  note: {n}" for n in self.notes]
        lines.append(f"  details: {self.run_dir / 'report.md'}")
        return "\n".join(lines)

    def assert_passed(self) -> None:
        """Raise ``AssertionError`` with ``explain()`` unless every gate passed."""
        if not self.passed:
            raise AssertionError(self.explain())


class ChaosRunner:
    """Callable: ``runner(scenario, sut=..., seed=..., time_scale=..., label=...) -> ChaosResult``.

    ``scenario`` is a path to a YAML file or a mapping with the same fields (written as YAML to
    ``base_dir`` first, ``name`` defaulting to ``label``). Each call gets its own run directory
    under ``base_dir`` (``run-1``, ``run-2``, ...) unless ``out`` is given.
    """

    def __init__(self, base_dir: Path, label: str = "pytest",
                 say: Callable[[str], None] | None = None) -> None:
        self.base_dir = Path(base_dir)
        self.label = _safe_name(label)
        self.say = say or (lambda _m: None)
        self.runs: list[ChaosResult] = []

    def scenario_file(self, scenario: ScenarioLike) -> Path:
        if isinstance(scenario, Mapping):
            import yaml

            data = {"name": self.label, **dict(scenario)}
            self.base_dir.mkdir(parents=True, exist_ok=True)
            path = self.base_dir / f"scenario-{len(self.runs) + 1}.yaml"
            path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
            return path
        return Path(scenario)

    def __call__(self, scenario: ScenarioLike, *, sut: str | None = None, sut_cmd: str | None = None,
                 sut_url: str | None = None, seed: int | None = None, time_scale: float | None = None,
                 out: Path | None = None, toxiproxy_url: str | None = None, backend: str = "local",
                 sut_image: str | None = None, label: str | None = None) -> ChaosResult:
        """``label`` names the SUT in the run's reports (e.g. a vendor's name)."""
        from harness.run import RunOptions

        path = self.scenario_file(scenario)
        # The runner's own numbered folders are replaced on a rerun (--chaos-out kept from a
        # previous session); a folder the caller names must be new.
        opts = RunOptions(scenario_path=path, sut=sut, sut_cmd=sut_cmd, sut_url=sut_url, seed=seed,
                          time_scale=time_scale, toxiproxy_url=toxiproxy_url, backend=backend,
                          sut_image=sut_image, label=label, out=out or self.base_dir / f"run-{len(self.runs) + 1}",
                          force=out is None)
        result = _run_sync(opts, self.say)
        summary = result.summary
        if summary is None:
            from harness.errors import EnvironmentFailure

            raise EnvironmentFailure(f"run {result.run_dir} produced no summary.json (exit {result.exit_code}); "
                                     f"see {result.run_dir / 'logs'}; notes: {result.notes}")
        out_result = ChaosResult(summary=summary, run_dir=result.run_dir, exit_code=result.exit_code,
                                 notes=list(result.notes))
        self.runs.append(out_result)
        return out_result


def _run_sync(opts: Any, say: Callable[[str], None]) -> Any:
    """``harness.run.execute`` in a fresh event loop; in a worker thread when this thread already
    runs one (an async test), since one thread cannot run two loops."""
    from harness.run import execute

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(execute(opts, say=say))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = asyncio.run(execute(opts, say=say))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="chaos-run", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _safe_name(label: str) -> str:
    """A scenario name (``A-Za-z0-9_.-``, at most 64) from a test's node name."""
    return (re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-.") or "pytest")[:64]

"""Scenario files: parsed once into frozen, typed models; nothing downstream handles raw dicts.

A scenario is YAML (see docs/scenarios.md). ``load_scenario`` turns every problem into a
``ScenarioError`` naming the file, the line, the field path, the bad value and what is allowed,
so the CLI exits 2 with an explanation instead of a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.checks.invoices import ANOMALY_KINDS
from harness.data.config import MalformedConfig
from harness.errors import ScenarioError
from harness.faults.base import FaultSpec
from harness.labels import SutLabel
from harness.load.shapes import LoadConfig

DEFAULT_SELLER_TAX_ID = "91110108551385082Q"
DEFAULT_SELLER_NAME = "北京示例科技有限公司"
REFERENCE_PROFILES = ("naive", "retrying", "resilient")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountSettings(_Frozen):
    """``services.bureau.settings``: the bureau's account rules and 乐企 timings (CONTRACT §5),
    each the bureau CLI option of the same name (``quota_monthly`` -> ``--quota-monthly``);
    absent: the bureau's default. Durations are not time-scaled: they are platform rules."""

    quota_monthly: str | None = Field(default=None, pattern=r"^\d{1,15}\.\d{2}$")
    processing_s: float | None = Field(default=None, ge=0, le=3600)
    result_ttl_s: float | None = Field(default=None, ge=0)
    upload_deadline_s: float | None = Field(default=None, ge=0)
    close_day: int | None = Field(default=None, ge=1, le=28)
    buyer_confirms: float | None = Field(default=None, ge=0, le=1)
    buyer_delay_s: float | None = Field(default=None, ge=0)


class BureauClock(_Frozen):
    """``services.bureau.clock``: bureau time when the load starts, and its rate (CONTRACT §5.1)."""

    start: AwareDatetime | None = None
    rate: float = Field(default=1.0, gt=0, le=100_000)


class BureauSettings(_Frozen):
    dedup: Literal["request_id", "none"] = "request_id"
    region: str = Field(default="11", pattern=r"^\d{2}$")
    rates: tuple[str, ...] | None = None
    settings: AccountSettings = AccountSettings()
    clock: BureauClock | None = None

    @field_validator("rates")
    @classmethod
    def _rates_are_decimals(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for r in v or ():
            if not re.fullmatch(r"\d(\.\d{1,4})?", r):
                raise ValueError(f"rate {r!r} must be a decimal string such as \"0.06\"")
        return v


class SutSettings(_Frozen):
    """How the SUT runs; exactly one of the four. The command line overrides it."""

    reference: Literal["naive", "retrying", "resilient"] | None = None
    cmd: str | None = None
    url: str | None = None
    image: str | None = None
    # How long the SUT may take to answer GET /health after a start (and after each restart of
    # a process fault); None: 30 s for a process, 90 s for a container.
    health_timeout_s: float | None = Field(default=None, gt=0, le=3600)
    label: SutLabel | None = None  # its name in reports and compare, e.g. a vendor's
    # The reference merchant's channel (CONTRACT §5): None is lq when the scenario requires
    # lq, else sync. A vendor's SUT picks its channel itself.
    channel: Literal["sync", "lq"] | None = None

    @model_validator(mode="after")
    def _one_way(self) -> SutSettings:
        given = [k for k in ("reference", "cmd", "url", "image") if getattr(self, k)]  # one way to run
        if len(given) > 1:
            raise ValueError(f"give one of reference, cmd, url, image; got {', '.join(given)}")
        return self


class Seller(_Frozen):
    tax_id: str = DEFAULT_SELLER_TAX_ID
    name: str = DEFAULT_SELLER_NAME


class Services(_Frozen):
    bureau: BureauSettings = BureauSettings()
    sut: SutSettings = SutSettings()
    seller: Seller = Seller()


class FaultModel(_Frozen):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,32}$")
    family: Literal["network", "bureau", "process"]
    kind: str
    target: str | None = None
    start_s: float = Field(ge=0)
    duration_s: float | None = Field(default=None, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)


class GateModel(_Frozen):
    name: str
    metric: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    op: Literal["==", "!=", "<", "<=", ">", ">="]
    threshold: float | int | bool


DEFAULT_TARGETS = {"network": "bureau", "bureau": "bureau", "process": "sut"}
INSTANT_KINDS = frozenset({"clock_jump"})   # harness.faults.bureau.INSTANT: a window of no length


class MixModel(_Frozen):
    family: Literal["network", "bureau", "process"]
    kind: str
    target: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    weight: float = Field(default=1.0, gt=0)


class RandomFaults(_Frozen):
    """A seeded random schedule: windows drawn from a weighted mix (harness.faults.schedule);
    a parameter may be a range (``{range: [lo, hi]}``) or a choice (``{choice: [...]}``)."""

    mix: tuple[MixModel, ...] = Field(min_length=1)
    start_s: float = Field(default=0.0, ge=0)
    end_s: float = Field(gt=0)
    mean_interval_s: float = Field(gt=0)
    duration_s: tuple[float, float]
    lanes: int = Field(default=1, ge=1, le=8)   # how many faults may be active at once

    @model_validator(mode="after")
    def _ranges(self) -> RandomFaults:
        lo, hi = self.duration_s
        if not 0 < lo <= hi:
            raise ValueError(f"duration_s must be [min, max] with 0 < min <= max, got [{lo}, {hi}]")
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s {self.end_s} must be after start_s {self.start_s}")
        return self


class Sweep(_Frozen):
    """One scenario, several variants: ``param`` (a dotted path into the scenario, faults
    addressed by id: ``faults.hang.params.hang_s``) takes each of ``values`` in turn."""

    param: str = Field(pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$")
    values: tuple[Any, ...] = Field(min_length=1, max_length=50)


class Scenario(_Frozen):
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    seed: int = Field(default=0, ge=0)
    time_scale: float = Field(default=1.0, gt=0)
    services: Services = Services()
    load: LoadConfig
    faults: tuple[FaultModel, ...] = ()
    random_faults: RandomFaults | None = None
    drain_s: float = Field(default=30.0, ge=0)
    gates: tuple[GateModel, ...] = ()
    # Every anomaly list is gated (must be empty) unless turned off here by name:
    # `anomaly_gates: {phantom: off}`. YAML reads a bare off as false; both are accepted.
    anomaly_gates: dict[str, Literal["on", "off"]] = Field(default_factory=dict)
    malformed: MalformedConfig | None = None
    sweep: Sweep | None = None
    # Capabilities the SUT must report in GET /health (CONTRACT §5.7): `requires: [lq]`.
    requires: tuple[Literal["lq", "reverse", "stats"], ...] = ()

    @field_validator("anomaly_gates", mode="before")
    @classmethod
    def _anomaly_kinds(cls, v: Any) -> Any:
        if not isinstance(v, dict):
            return v
        for kind, state in v.items():
            if kind not in ANOMALY_KINDS:
                raise ValueError(f"{kind!r} is not an anomaly kind; use one of {', '.join(ANOMALY_KINDS)}")
            if state not in ("on", "off", True, False):
                raise ValueError(f"{kind}: {state!r} must be on or off")
        return {k: ("on" if s in ("on", True) else "off") for k, s in v.items()}

    @property
    def reference_channel(self) -> str:
        """The channel the reference merchant runs on in this scenario."""
        return self.services.sut.channel or ("lq" if "lq" in self.requires else "sync")

    @property
    def anomaly_gates_off(self) -> tuple[str, ...]:
        return tuple(k for k, v in self.anomaly_gates.items() if v == "off")

    def fault_specs(self) -> list[FaultSpec]:
        """The fault schedule, ids assigned (f1, f2, ...) and durations time-scaled."""
        specs = []
        for i, f in enumerate(self.faults, start=1):
            instant = f.family == "bureau" and f.kind in INSTANT_KINDS
            specs.append(FaultSpec(
                id=f.id or f"f{i}",
                family=f.family,
                kind=f.kind,
                target=f.target or DEFAULT_TARGETS[f.family],
                start_s=f.start_s * self.time_scale,
                duration_s=(0.0 if instant and f.duration_s is None
                            else None if f.duration_s is None else f.duration_s * self.time_scale),
                params=dict(f.params),
            ))
        if self.random_faults is not None:
            from harness.faults.schedule import MixEntry, random_schedule

            r = self.random_faults
            mix = [MixEntry(m.family, m.kind, m.target or DEFAULT_TARGETS[m.family], m.params, m.weight) for m in r.mix]
            specs += random_schedule(mix, seed=self.seed, start_s=r.start_s, end_s=r.end_s,
                                     mean_interval_s=r.mean_interval_s, duration_s=r.duration_s,
                                     scale=self.time_scale, lanes=r.lanes)
        return specs

    def scaled_load(self) -> LoadConfig:
        return self.load.scaled(self.time_scale)

    @property
    def drain_scaled_s(self) -> float:
        return self.drain_s * self.time_scale


def load_scenario(path: str | Path, *, seed: int | None = None, time_scale: float | None = None) -> Scenario:
    """Read, validate and resolve a scenario file; every problem raises ``ScenarioError``.

    A file with a ``sweep`` resolves as written, and each of its variants is validated too
    (``harness.sweep.load_variants`` gives them)."""
    p = Path(path)
    data, root = read_scenario_data(p)
    if seed is not None:
        data["seed"] = seed
    if time_scale is not None:
        data["time_scale"] = float(data.get("time_scale", 1.0)) * time_scale
    scenario = resolve_scenario(data, root, p)
    if scenario.sweep is not None:
        from harness.sweep import variants_of

        variants_of(scenario, data, root, p)  # raises ScenarioError naming the value that breaks
    return scenario


def read_scenario_data(p: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    """The file's top-level mapping and its YAML node tree (for line numbers)."""
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(str(p), ["the file does not exist; give the path of a scenario YAML file (see scenarios/)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(p), [f"cannot be read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark else ""
        raise ScenarioError(str(p), [f"{where}not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ScenarioError(str(p), ["the top level must be a mapping with at least `load:`"])
    data.setdefault("name", p.stem)
    return data, root


def resolve_scenario(data: dict[str, Any], root: yaml.Node | None, p: Path, *, where: str = "") -> Scenario:
    """Validate scenario data into a ``Scenario``; ``where`` prefixes each problem (a variant)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(str(p), [where + _describe(err, root) for err in exc.errors()]) from None
    from harness.scenario_checks import check_scenario

    problems = check_scenario(scenario, root)
    if problems:
        raise ScenarioError(str(p), [where + problem for problem in problems])
    return scenario


def _describe(err: Any, root: yaml.Node | None) -> str:
    loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x in _UNION_TAGS))
    path = _path_str(loc)
    line = _line_of(root, loc)
    where = f"line {line}: " if line else ""
    value = err.get("input")
    shown = "" if isinstance(value, dict) or err["type"] == "missing" else f" (got {value!r})"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field; check its spelling against docs/scenarios.md"
        shown = ""
    return f"{where}{path or '(top level)'}: {msg}{shown}"


# Tags pydantic inserts into error locations for unions and discriminators; not user fields.
_UNION_TAGS = {"function-after[_one_way(), SutSettings]"}


def _path_str(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (or of its nearest existing parent)."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line

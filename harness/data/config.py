"""The ``malformed:`` block of a scenario (docs/malformed.md), parsed once into a frozen model.

::

    malformed:
      rate_per_s: 2          # malformed requests per second, beside the load
      start_s: 2             # seconds after the load starts (time-scaled)
      duration_s: 20         # how long to send (default: until the load ends)
      targets: [sut]         # or [sut, bureau]: also straight to the bureau's POST /api/v1/invoices
      families: null         # default families; or a list of names (see harness.data.malformed)
      max_examples: 200      # at most this many requests in all
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MalformedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_per_s: float = Field(default=2.0, gt=0, le=500)
    start_s: float = Field(default=0.0, ge=0)
    duration_s: float | None = Field(default=None, gt=0)
    targets: tuple[Literal["sut", "bureau"], ...] = Field(default=("sut",), min_length=1, max_length=2)
    families: tuple[str, ...] | None = None
    max_examples: int = Field(default=200, ge=1, le=20_000)
    timeout_s: float = Field(default=10.0, gt=0)
    shrink_budget_s: float = Field(default=60.0, ge=0)
    max_findings: int = Field(default=20, ge=0, le=200)

    @field_validator("targets")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError(f"targets {list(v)} names a target twice; use [sut] or [sut, bureau]")
        return v

    @field_validator("families")
    @classmethod
    def _known(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if v is None:
            return v
        from harness.data.malformed import FAMILIES

        unknown = [n for n in v if n not in FAMILIES and n != "all"]
        if unknown:
            raise ValueError(f"unknown families {unknown}; known: {', '.join(FAMILIES)} (or 'all')")
        return v

    def scaled(self, factor: float) -> MalformedConfig:
        """Start and duration stretched by the scenario's time scale."""
        duration = None if self.duration_s is None else self.duration_s * factor
        return self.model_copy(update={"start_s": self.start_s * factor, "duration_s": duration})

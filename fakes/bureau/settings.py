"""The bureau's settings: one frozen value built by the CLI (or a test) and read everywhere."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from fakes.bureau.rules import DEFAULT_RATES, rate_table

DedupMode = Literal["request_id", "none"]
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
# 5th digit of a 数电票 number: the issuing channel; 2 stands for the e-invoice service platform.
PLATFORM_CHANNEL = "2"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one bureau process (CONTRACT §1-2)."""

    db_path: str = "bureau.db"
    seed: int = 0
    region: str = "11"
    channel: str = PLATFORM_CHANNEL
    dedup: DedupMode = "request_id"
    allow_reset: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rates: tuple[str, ...] = DEFAULT_RATES
    admin_token: str | None = None
    commit_batch: int = 2000  # invoices per fsync at most; 1 = commit per request (benchmarks)
    rate_set: frozenset[Decimal] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_set", rate_table(self.rates))

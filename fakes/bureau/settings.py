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
    """Everything configurable about one bureau process (CONTRACT §1-2 and §5)."""

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
    # --- CONTRACT §5 ---
    quota_monthly: str | None = None  # money string per seller per CST month on total_amount; None: unlimited
    processing_s: float = 1.0  # real seconds from an upload's receipt to the judgement of its invoices
    result_ttl_s: float = 43200.0  # bureau seconds an upload's results stay readable once all are final
    upload_deadline_s: float = 172800.0  # bureau seconds from issued_at to the upload's receipt
    close_day: int = 13  # the previous month closes at 00:00 CST on this day
    buyer_confirms: float = 1.0  # probability that the simulated buyer confirms a red-letter application
    buyer_delay_s: float = 2.0  # bureau seconds until it does
    clock_start: float | None = None  # bureau time (epoch seconds) of a new database's clock; None: real time
    clock_rate: float = 1.0  # bureau seconds per real second of a new database's clock
    rate_set: frozenset[Decimal] = field(init=False, repr=False, compare=False)
    quota_cents: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate_set", rate_table(self.rates))
        quota = None if self.quota_monthly is None else int(Decimal(self.quota_monthly) * 100)
        object.__setattr__(self, "quota_cents", quota)

"""A seeded, deterministic factory of realistic merchant orders (SUT contract, CONTRACT §3).

Runs inside the Locust process, so it uses the standard library only. The same
``(seed, prefix, worker)`` always yields the same sequence of orders, so a run can be replayed.

What an order looks like::

    {"order_id": "run7-w0-000001", "kind": "normal",
     "buyer": {"name": "福建示例贸易有限公司", "tax_id": "91350100M000100Y43"},
     "lines": [{"name": "*餐饮服务*餐费", "tax_code": "3070401000000000000", "unit": "次",
                "quantity": "2", "unit_price": "88.50", "tax_rate": "0.06"}]}

Every order satisfies the bureau's rules once the SUT computes amounts (``compute_line``):
valid 18-character credit codes (GB 32100-2015 check character) or 15-20 character other ids,
19-digit tax codes, rates from the table, positive quantities, 1-20 lines.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

ORDER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # same as fakes.bureau.rules (no import: stdlib only)
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
DEFAULT_RATES: tuple[str, ...] = ("0.13", "0.09", "0.06", "0.05", "0.03", "0.01", "0")
SMALL_SCALE_RATES = ("0.03", "0.01")  # 征收率 of small-scale taxpayers


@dataclass(frozen=True)
class CatalogItem:
    """One line item a merchant sells: 简称 (category), name, 税收分类编码, unit, general rate."""

    category: str
    name: str
    tax_code: str
    unit: str
    rate: str
    price_range: tuple[int, int]  # unit price in yuan


# Codes from the 商品和服务税收分类编码表, as they appear in real issuance payloads.
CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem("餐饮服务", "餐费", "3070401000000000000", "次", "0.06", (20, 800)),
    CatalogItem("住宿服务", "住宿费", "3070402000000000000", "晚", "0.06", (150, 1500)),
    CatalogItem("信息技术服务", "软件开发服务", "3040201010000000000", "项", "0.06", (2000, 90000)),
    CatalogItem("软件维护服务", "接口服务费", "3040201030000000000", "次", "0.06", (1, 50)),
    CatalogItem("研发和技术服务", "技术服务费", "3040105000000000000", "项", "0.06", (500, 20000)),
    CatalogItem("经纪代理服务", "国际货物运输代理服务", "3040802010200000000", "票", "0", (300, 30000)),
    CatalogItem("运输服务", "道路货物运输服务", "3010102020100000000", "吨", "0.09", (50, 600)),
    CatalogItem("建筑服务", "工程服务", "3050100000000000000", "项", "0.09", (5000, 200000)),
    CatalogItem("租赁服务", "不动产经营租赁", "3040502020200000000", "月", "0.05", (2000, 60000)),
    CatalogItem("加工劳务", "来料加工", "2010000000000000000", "件", "0.13", (5, 300)),
    CatalogItem("修理修配劳务", "设备维修", "2020000000000000000", "次", "0.13", (80, 5000)),
)

_COMPANY_NAMES = (
    "北京示例科技有限公司", "福建示例贸易有限公司", "上海浦江物流有限公司", "深圳南山电子有限公司",
    "杭州西湖网络科技有限公司", "成都天府餐饮管理有限公司", "广州珠江建设工程有限公司",
    "武汉光谷软件有限公司", "南京秦淮商贸有限公司", "重庆渝北机械制造有限公司",
)
_PERSON_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "个人")
# 6-digit administrative division codes used inside credit codes.
_REGIONS = ("110108", "310115", "440300", "330106", "510100", "350100", "420100", "320100", "500112")


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character (mirrors ``fakes.bureau.rules.uscc_check_char``)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


class OrderFactory:
    """Deterministic stream of valid orders for one load worker.

    ``prefix`` and ``worker`` make order ids unique per run and per worker:
    ``<prefix>-<worker>-<n>`` (n from 1, zero-padded to 6 digits).
    """

    def __init__(
        self,
        seed: int,
        prefix: str,
        worker: str = "w0",
        *,
        rates: tuple[str, ...] = DEFAULT_RATES,
        special_share: float = 0.25,
        max_lines: int = 20,
    ) -> None:
        probe = f"{prefix}-{worker}-000000"
        if not ORDER_ID_RE.fullmatch(probe):
            raise ValueError(f"order ids {probe!r} must be 1-64 of A-Z a-z 0-9 _ - (check prefix and worker)")
        self._rng = random.Random(f"{seed}:{prefix}:{worker}")
        self._prefix = prefix
        self._worker = worker
        self._rates = tuple(rates)
        self._special_share = special_share
        self._max_lines = max(1, min(20, max_lines))
        self.count = 0

    def next(self) -> dict[str, Any]:
        """The next order (a fresh dict, JSON-ready)."""
        self.count += 1
        rng = self._rng
        kind = "special" if rng.random() < self._special_share else "normal"
        return {
            "order_id": f"{self._prefix}-{self._worker}-{self.count:06d}",
            "kind": kind,
            "buyer": self._buyer(kind),
            "lines": [self._line() for _ in range(self._line_count())],
        }

    def _line_count(self) -> int:
        # Most invoices are short; a few carry many lines (long tail up to max_lines).
        n = 1 + int(self._rng.expovariate(0.4))
        return min(n, self._max_lines)

    def _buyer(self, kind: str) -> dict[str, str]:
        rng = self._rng
        roll = rng.random()
        if kind == "normal" and roll < 0.15:
            return {"name": rng.choice(_PERSON_NAMES)}  # individuals have no tax id
        name = rng.choice(_COMPANY_NAMES)
        tax_id = self._uscc() if roll < 0.8 else self._other_tax_id()
        return {"name": name, "tax_id": tax_id}

    def _uscc(self) -> str:
        rng = self._rng
        dept = rng.choice("9995")  # 9 工商 (most), 5 民政
        category = "1" if dept == "9" else rng.choice("123")
        org = "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
        first17 = dept + category + rng.choice(_REGIONS) + org
        return first17 + uscc_check_char(first17)

    def _other_tax_id(self) -> str:
        # 15: old 税务登记号; 17/19/20: other taxpayer ids. Never 18 (that must be a valid USCC).
        rng = self._rng
        length = rng.choice((15, 15, 17, 19, 20))
        head = rng.choice(_REGIONS)
        tail = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(length - 6))
        return head + tail

    def _line(self) -> dict[str, str]:
        rng = self._rng
        item = rng.choice(CATALOG)
        quantity = self._quantity(item)
        low, high = item.price_range
        cents_ = rng.randint(low * 100, high * 100)
        if rng.random() < 0.1:
            # Prices back-computed from tax-inclusive totals carry up to 8 fractional digits.
            unit_price = f"{cents_ / 100 / 1.06:.8f}"
        else:
            unit_price = f"{cents_ // 100}.{cents_ % 100:02d}"
        return {
            "name": f"*{item.category}*{item.name}",
            "tax_code": item.tax_code,
            "unit": item.unit,
            "quantity": quantity,
            "unit_price": unit_price,
            "tax_rate": self._rate(item),
        }

    def _quantity(self, item: CatalogItem) -> str:
        rng = self._rng
        if item.unit in ("吨",) or rng.random() < 0.1:
            return f"{rng.randint(1, 5000) / 100:g}"  # fractional quantities, e.g. 12.5 吨
        return str(rng.choice((1, 1, 1, 2, 3, 5, 10, 20, 100)))

    def _rate(self, item: CatalogItem) -> str:
        rng = self._rng
        rate = item.rate
        if item.rate != "0" and rng.random() < 0.15:
            rate = rng.choice(SMALL_SCALE_RATES)
        if rate not in self._rates:
            rate = rng.choice(self._rates)  # a scenario may shrink the table
        return rate

"""A valid invoice payload (CONTRACT §1's example), for tests, benchmarks and docs."""

from __future__ import annotations

import copy
from typing import Any

SELLER_TAX_ID = "91110108551385082Q"
BUYER_TAX_ID = "91350100M000100Y43"

_EXAMPLE: dict[str, Any] = {
    "request_id": "M1-000001",
    "external_id": "ORDER-000123",
    "kind": "normal",
    "seller": {"tax_id": SELLER_TAX_ID, "name": "北京示例科技有限公司"},
    "buyer": {"tax_id": BUYER_TAX_ID, "name": "福建示例贸易有限公司"},
    "lines": [
        {"name": "*信息技术服务*软件开发服务", "tax_code": "3040201000000000000", "unit": "项",
         "quantity": "2", "unit_price": "50.00", "amount": "100.00", "tax_rate": "0.06", "tax_amount": "6.00"}
    ],
    "total_amount": "100.00",
    "total_tax": "6.00",
    "total_with_tax": "106.00",
}


def sample_invoice(**overrides: Any) -> dict[str, Any]:
    """A fresh deep copy of the example, with top-level fields replaced by ``overrides``."""
    body = copy.deepcopy(_EXAMPLE)
    body.update(overrides)
    return body

"""`invoice-chaos init`: what it writes, what it refuses, and the adapter's arithmetic."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from fakes.bureau.rules import validate_invoice
from fakes.merchant.orders import Seller, build_invoice
from harness.commands import init
from harness.data.orders import OrderFactory
from harness.errors import InputError
from harness.scenario import load_scenario
from harness.testing.scaffold import adapter

SELLER = {"tax_id": "91110108551385082Q", "name": "北京示例科技有限公司"}


def run_init(directory: Path, name: str | None = None) -> int:
    return init.run(argparse.Namespace(dir=directory, name=name))


def test_writes_five_files_and_a_valid_scenario(tmp_path: Path) -> None:
    target = tmp_path / "Vendor X"
    assert run_init(target) == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "README.md", "adapter.py", "scenario.schema.json", "scenario.yaml", "test_adapter.py"]
    schema = json.loads((target / "scenario.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8")), schema)
    scenario = load_scenario(target / "scenario.yaml")
    assert scenario.name == "Vendor-X"
    assert [f.id for f in scenario.fault_specs()] == ["link-down", "ghost"]
    assert yaml.safe_load((target / "scenario.yaml").read_text(encoding="utf-8"))["name"] == "Vendor-X"


def test_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"scenario\.yaml: already exists") as info:
        run_init(tmp_path)
    assert info.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml"]
    assert (tmp_path / "scenario.yaml").read_text(encoding="utf-8") == "mine"


def test_refuses_a_file_as_dir_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        run_init(tmp_path / "f")
    with pytest.raises(InputError, match=r"--name 'a b'"):
        run_init(tmp_path / "d", name="a b")


def test_adapter_prices_orders_like_the_reference_client_and_the_bureau_accepts_them() -> None:
    factory = OrderFactory(seed=11, prefix="t")
    for _ in range(200):
        order = factory.next()
        mine = adapter.build_payload(order, SELLER)
        reference = build_invoice(order, Seller(**SELLER)).payload
        for key in ("total_amount", "total_tax", "total_with_tax", "external_id", "kind", "buyer"):
            assert mine[key] == reference[key], (order["order_id"], key)
        assert [(ln["amount"], ln["tax_amount"]) for ln in mine["lines"]] == \
               [(ln["amount"], ln["tax_amount"]) for ln in reference["lines"]]
        assert validate_invoice(mine) == []


@pytest.mark.parametrize("order, field", [
    ("not an object", ""),
    ({"order_id": "bad id", "lines": [{}]}, "order_id"),
    ({"order_id": "o1", "lines": []}, "lines"),
    ({"order_id": "o1", "lines": [{"quantity": "x", "unit_price": "1", "tax_rate": "0.06"}]}, "lines[0]"),
    ({"order_id": "o1", "lines": [{"quantity": "-1", "unit_price": "1", "tax_rate": "0.06",
                                   "tax_code": "3040201000000000000"}]}, "lines[0]"),
])
def test_adapter_rejects_invalid_orders_naming_the_field(order: object, field: str) -> None:
    with pytest.raises(adapter.Rejected) as info:
        adapter.build_payload(order, SELLER)
    assert info.value.field == field

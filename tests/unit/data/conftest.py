"""In-process receivers for the malformed-data tests: the real bureau app, the reference SUT.

Module-scoped, so Hypothesis tests can use them without re-creating an app per example.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from fakes.bureau.app import create_app as bureau_app
from fakes.bureau.settings import Settings as BureauSettings
from fakes.merchant.app import Settings as MerchantSettings
from fakes.merchant.app import create_app as merchant_app
from fakes.merchant.orders import Seller


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("bureau") / "bureau.db"
    with TestClient(bureau_app(BureauSettings(db_path=str(db))), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def sut(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The reference resilient SUT; its bureau is unreachable, so nothing valid could be issued."""
    state: Path = tmp_path_factory.mktemp("merchant")
    settings_ = MerchantSettings(bureau_url="http://127.0.0.1:9", state_dir=state,
                                 seller=Seller("91110108551385082Q", "北京示例科技有限公司"))
    with TestClient(merchant_app(settings_), raise_server_exceptions=False) as client:
        yield client

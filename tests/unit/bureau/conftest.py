"""In-process bureau clients: the real app and ledger on a temporary SQLite file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from fakes.bureau.app import create_app
from fakes.bureau.settings import Settings

MakeClient = Callable[..., TestClient]
# lqkit (helpers of the asynchronous channel's tests) lives beside the tests; --import-mode=importlib
# does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[MakeClient]:
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        settings.setdefault("db_path", str(tmp_path / f"bureau{len(opened)}.db"))
        client = TestClient(create_app(Settings(**settings)), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client(allow_reset=True)

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# merchant_procs lives beside the tests; --import-mode=importlib does not put this folder on the path.
sys.path.insert(0, str(Path(__file__).parent))

from merchant_procs import Service, bureau  # noqa: E402


@pytest.fixture(scope="module")
def shared_bureau(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One bureau for a module; tests keep apart by order-id prefix and clear faults after."""
    service = bureau(tmp_path_factory.mktemp("bureau")).start()
    try:
        yield service
    finally:
        service.stop()

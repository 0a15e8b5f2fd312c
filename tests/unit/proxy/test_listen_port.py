"""Port parsing of ``listen`` as Go's net package does it (harness/proxy/listen.py).

Service names are tested here, below the API: through it they would bind well-known ports.
"""

from __future__ import annotations

import pytest

from harness.proxy.errors import ApiError
from harness.proxy.listen import parse_port


@pytest.mark.parametrize(("text", "port"), [
    ("8474", 8474), ("", 0), ("+0", 0), ("-0", 0), ("+80", 80), ("00080", 80), ("65535", 65535),
    ("http", 80), ("HTTP", 80), ("ssh", 22)])
def test_ports_go_accepts(text: str, port: int) -> None:
    assert parse_port(text) == port


@pytest.mark.parametrize(("text", "error"), [
    ("-1", "address -1: invalid port"), ("65536", "address 65536: invalid port"),
    ("99999999999999999999", "address 99999999999999999999: invalid port"),
    ("abc", "address tcp/abc: unknown port"), (" 80", "address tcp/ 80: unknown port"),
    ("0x10", "address tcp/0x10: unknown port"), ("+-1", "address tcp/+-1: unknown port"),
    ("٣", "address tcp/٣: unknown port")])       # a digit, but not an ASCII one
def test_ports_go_refuses(text: str, error: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_port(text)
    assert (caught.value.message, caught.value.status) == (error, 500)

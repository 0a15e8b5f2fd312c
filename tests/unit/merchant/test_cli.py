from __future__ import annotations

import argparse

import pytest

from fakes.merchant import cli
from harness.errors import InputError


def parse(argv: list[str], monkeypatch: pytest.MonkeyPatch, env: dict[str, str] | None = None) -> argparse.Namespace:
    for key in ("HOST", "PORT", "BUREAU_URL", "SELLER_TAX_ID", "SELLER_NAME", "STATE_DIR", "BUREAU_TIME_URL"):
        monkeypatch.delenv(key, raising=False)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return parser.parse_args(argv)


def test_defaults_come_from_the_sut_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"HOST": "0.0.0.0", "PORT": "9123", "BUREAU_URL": "http://127.0.0.1:26001", "STATE_DIR": "/tmp/s",
           "SELLER_TAX_ID": "91350100M000100Y43", "SELLER_NAME": "福建示例贸易有限公司"}
    args = parse([], monkeypatch, env)
    assert (args.host, args.port, args.bureau_url, args.state_dir) == ("0.0.0.0", "9123", "http://127.0.0.1:26001", "/tmp/s")
    assert (args.seller_tax_id, args.seller_name, args.profile) == ("91350100M000100Y43", "福建示例贸易有限公司", "resilient")
    assert cli.check(args) == (9123, None)


def test_seller_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse([], monkeypatch)
    assert (args.seller_tax_id, args.seller_name) == ("91110108551385082Q", "北京示例科技有限公司")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--port", "http"], "--port 'http'"),
        (["--port", "70000"], "--port '70000'"),
        (["--profile", "chaotic"], "--profile 'chaotic'"),
        (["--seller-tax-id", "91110108551385082X"], "--seller-tax-id '91110108551385082X'"),
        (["--bureau-url", "127.0.0.1:1"], "--bureau-url '127.0.0.1:1'"),
        (["--seed", "x"], "--seed 'x'"),
        (["--channel", "async"], "--channel 'async'"),
        (["--bureau-time-url", "127.0.0.1:1/api/v1/time"], "--bureau-time-url '127.0.0.1:1/api/v1/time'"),
        (["--confirm-wait-s", "-1"], "--confirm-wait-s '-1'"),
        (["--confirm-wait-s", "soon"], "--confirm-wait-s 'soon'"),
    ],
)
def test_bad_values_name_the_option_and_value(argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError) as info:
        cli.check(parse(argv, monkeypatch))
    assert named in str(info.value) and info.value.exit_code == 2


def test_cli_module_is_light() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    code = "import sys, fakes.merchant.cli; print('starlette' in sys.modules, 'aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root).stdout
    assert out.split() == ["False", "False"]


def test_channel_defaults_to_sync_and_bureau_time_url_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    args = parse([], monkeypatch)
    assert (args.channel, args.bureau_time_url, args.confirm_wait_s) == ("sync", None, "1")
    url = "http://127.0.0.1:26001/api/v1/time"
    args = parse(["--channel", "lq"], monkeypatch, {"BUREAU_TIME_URL": url})
    assert (args.channel, args.bureau_time_url) == ("lq", url)
    assert cli.check(args) == (8081, None)


def test_every_profile_runs_on_lq(monkeypatch: pytest.MonkeyPatch) -> None:
    for profile in cli.PROFILES:
        cli.check(parse(["--channel", "lq", "--profile", profile], monkeypatch))

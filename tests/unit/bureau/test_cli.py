"""``invoice-chaos bureau`` options: defaults, and bad values naming option and value (exit 2)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from fakes.bureau import cli
from harness.errors import InputError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    return parser.parse_args(list(argv))


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUREAU_ADMIN_TOKEN", raising=False)
    settings = cli.settings_from(parse())
    assert (settings.db_path, settings.seed, settings.region, settings.dedup, settings.allow_reset) == (
        "bureau.db", 0, "11", "request_id", False)
    assert settings.max_body_bytes == 5 * 1024 * 1024 and settings.admin_token is None
    assert "0.13" in settings.rates and "0" in settings.rates
    assert cli.HELP and "\n" not in cli.HELP and cli.EXAMPLE.startswith("invoice-chaos bureau")


def test_options_and_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUREAU_ADMIN_TOKEN", "t")
    settings = cli.settings_from(parse("--seed", "7", "--region", "31", "--dedup", "none", "--allow-reset",
                                       "--max-body-bytes", "1000", "--rates", "0.13, 0.06"))
    assert (settings.seed, settings.region, settings.dedup, settings.allow_reset, settings.max_body_bytes) == (
        7, "31", "none", True, 1000)
    assert settings.rates == ("0.13", "0.06") and settings.admin_token == "t"


@pytest.mark.parametrize("argv,needle", [
    (("--seed", "x"), "--seed 'x'"),
    (("--seed", "-1"), "--seed '-1'"),
    (("--region", "1"), "--region '1'"),
    (("--region", "ab"), "--region 'ab'"),
    (("--dedup", "sometimes"), "--dedup 'sometimes'"),
    (("--max-body-bytes", "0"), "--max-body-bytes '0'"),
    (("--rates", "0.13,abc"), "'abc'"),
    (("--rates", "1.5"), "'1.5'"),
])
def test_bad_values_name_option_and_value(argv: tuple[str, ...], needle: str) -> None:
    with pytest.raises(InputError) as info:
        cli.settings_from(parse(*argv))
    assert needle in str(info.value) and info.value.exit_code == 2


def test_bad_port() -> None:
    with pytest.raises(InputError, match="--port '99999'"):
        cli.run(parse("--port", "99999"))


def test_db_directory_must_exist(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--db"):
        cli.settings_from(parse("--db", str(tmp_path / "missing" / "b.db")))


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_text("not sqlite at all, just text " * 100)
    with pytest.raises(InputError, match="--db"):
        cli.run(parse("--db", str(bad), "--port", "0"))

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


def test_section_5_defaults_and_options() -> None:
    settings = cli.settings_from(parse())
    assert (settings.quota_monthly, settings.processing_s, settings.result_ttl_s, settings.upload_deadline_s) == (
        None, 1.0, 43200.0, 172800.0)
    assert (settings.close_day, settings.buyer_confirms, settings.buyer_delay_s) == (13, 1.0, 2.0)
    assert (settings.clock_start, settings.clock_rate) == (None, 1.0)
    settings = cli.settings_from(parse(
        "--quota-monthly", "1000000.00", "--processing-s", "0.5", "--result-ttl-s", "60", "--upload-deadline-s", "600",
        "--close-day", "1", "--buyer-confirms", "0.25", "--buyer-delay-s", "0", "--clock-start",
        "2026-12-31T23:59:30+08:00", "--clock-rate", "3600"))
    assert (settings.quota_monthly, settings.quota_cents, settings.processing_s, settings.result_ttl_s) == (
        "1000000.00", 100000000, 0.5, 60.0)
    assert (settings.upload_deadline_s, settings.close_day, settings.buyer_confirms, settings.buyer_delay_s) == (
        600.0, 1, 0.25, 0.0)
    assert settings.clock_start == 1798732770.0 and settings.clock_rate == 3600.0


@pytest.mark.parametrize("argv,needle", [
    (("--quota-monthly", "100"), "--quota-monthly '100'"),
    (("--quota-monthly", "-1.00"), "--quota-monthly '-1.00'"),
    (("--processing-s", "soon"), "--processing-s 'soon'"),
    (("--processing-s", "-1"), "--processing-s '-1'"),
    (("--result-ttl-s", "nan"), "--result-ttl-s 'nan'"),
    (("--close-day", "29"), "--close-day '29'"),
    (("--buyer-confirms", "1.5"), "--buyer-confirms '1.5'"),
    (("--clock-start", "2026-12-31 23:59:30"), "--clock-start"),
    (("--clock-rate", "0"), "--clock-rate '0'"),
    (("--clock-rate", "100001"), "--clock-rate '100001'"),
])
def test_bad_section_5_values_name_option_and_value(argv: tuple[str, ...], needle: str) -> None:
    with pytest.raises(InputError) as info:
        cli.settings_from(parse(*argv))
    assert needle in str(info.value) and info.value.exit_code == 2


def test_help_documents_every_section_5_setting() -> None:
    parser = argparse.ArgumentParser()
    cli.configure(parser)
    text = parser.format_help()
    for option in ("--quota-monthly", "--processing-s", "--result-ttl-s", "--upload-deadline-s", "--close-day",
                   "--buyer-confirms", "--buyer-delay-s", "--clock-start", "--clock-rate"):
        assert option in text


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

"""Settings: read from IOC_ variables or .env, refusing unknown names and unsafe secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.core.settings import DEFAULT_SECRET_KEY, Environment, SettingsError, load_settings


def test_unknown_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DATABSE_URL", "sqlite+aiosqlite:///x.db")
    with pytest.raises(SettingsError, match="IOC_DATABSE_URL"):
        load_settings()


def test_malformed_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_SESSION_MAX_AGE_HOURS", "many")
    with pytest.raises(SettingsError, match="IOC_SESSION_MAX_AGE_HOURS"):
        load_settings()


def test_default_secret_is_refused_outside_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_ENV", "production")
    settings = load_settings()
    assert settings.secret_key == DEFAULT_SECRET_KEY
    with pytest.raises(SettingsError, match="IOC_SECRET_KEY"):
        settings.check_safe()
    monkeypatch.setenv("IOC_SECRET_KEY", "a-real-secret-of-the-province")
    load_settings().check_safe()


def test_demo_activity_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_ENV", "production")
    monkeypatch.setenv("IOC_SECRET_KEY", "a-real-secret-of-the-province")
    monkeypatch.setenv("IOC_DEMO_ACTIVITY", "true")
    with pytest.raises(SettingsError, match="IOC_DEMO_ACTIVITY"):
        load_settings().check_safe()
    monkeypatch.setenv("IOC_DEMO_ACTIVITY", "false")
    load_settings().check_safe()


def test_development_accepts_the_default_secret() -> None:
    load_settings(env=Environment.DEVELOPMENT).check_safe()


def test_modules_are_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_MODULES", "identity, org_unit")
    assert load_settings().modules == ["identity", "org_unit"]


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("IOC_PROVINCE_CODE=72\nIOC_DEFAULT_LANGUAGE=en\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.province_code == "72"
    assert settings.default_language == "en"


def test_unknown_key_in_dotenv_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("IOC_NOT_A_SETTING=1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=r"(?i)IOC_NOT_A_SETTING"):
        load_settings()


def test_default_database_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{(tmp_path / 'ioc.sqlite3').as_posix()}"

"""The `ioc` command as a new user meets it: help, migrations, demo seed, clear failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ioc.cli import main

# These tests bring their own SQLite database: the PostgreSQL pass would only repeat them.
pytestmark = pytest.mark.engine_free


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the command at an empty SQLite database in a temporary data folder."""
    monkeypatch.chdir(tmp_path)
    for key in list(os.environ):
        if key.startswith("IOC_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_help_lists_the_stable_commands(sqlite_env: Path) -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "db", "demo", "user", "module", "org-unit"):
        assert command in result.output


def test_console_script_is_installed() -> None:
    ioc = Path(sys.executable).with_name("ioc")
    result = subprocess.run([str(ioc), "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "db" in result.stdout


def test_upgrade_and_seed_twice_give_the_same_demo(sqlite_env: Path) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    first = runner.invoke(main, ["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert "admin" in first.output
    second = runner.invoke(main, ["demo", "seed"])
    assert second.exit_code == 0, second.output
    created = runner.invoke(
        main, ["user", "create", "--username", "nguyenvana", "--password", "Mat-khau-123!", "--role", "agency_staff"]
    )
    assert created.exit_code == 0, created.output
    duplicate = runner.invoke(
        main, ["user", "create", "--username", "nguyenvana", "--password", "Mat-khau-123!", "--role", "agency_staff"]
    )
    assert duplicate.exit_code != 0


def test_seed_before_upgrade_explains_what_to_run(sqlite_env: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "seed"])
    assert result.exit_code != 0
    assert "ioc db upgrade" in result.output


def test_unknown_setting_stops_the_command_with_its_name(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DATABASE_ULR", "x")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "IOC_DATABASE_ULR" in result.output


def test_unreachable_database_is_reported_not_crashed(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:9/none")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot migrate the database" in result.output
    seeded = CliRunner().invoke(main, ["demo", "seed"])
    assert seeded.exit_code == 1
    assert "cannot reach the database" in seeded.output


def test_production_refuses_the_default_secret(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_ENV", "production")
    result = CliRunner().invoke(main, ["run", "--port", "9"])
    assert result.exit_code == 2
    assert "IOC_SECRET_KEY" in result.output


def test_unreachable_broker_stops_the_server_with_a_message(sqlite_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv("IOC_EVENT_TRANSPORT", "nats")
    monkeypatch.setenv("IOC_NATS_URL", "nats://127.0.0.1:9")
    result = CliRunner().invoke(main, ["run", "--port", "9"])
    assert result.exit_code != 0
    assert "cannot reach NATS" in result.output


def test_unreachable_mqtt_broker_stops_the_server_with_a_message(
    sqlite_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    monkeypatch.setenv("IOC_MQTT_URL", "mqtt://127.0.0.1:9")
    result = CliRunner().invoke(main, ["run", "--port", "9"])
    assert result.exit_code != 0
    assert "cannot reach the MQTT broker" in result.output

"""`ioc user create` and `ioc user set-password` against the test database."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pydantic_settings import SettingsError as PydanticSettingsError

from ioc.cli import main
from ioc.core import migrate
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings, SettingsError, load_settings
from ioc.modules import identity


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the command at the test database with the test's settings."""
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.upper().startswith("IOC_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("IOC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IOC_ENV", settings.env.value)
    monkeypatch.setenv("IOC_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("IOC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IOC_MODULES", ",".join(settings.modules))
    try:
        load_settings()
    except (SettingsError, PydanticSettingsError):
        # The comma-separated form is not accepted by every settings version; JSON always is.
        monkeypatch.setenv("IOC_MODULES", json.dumps(settings.modules))
    monkeypatch.setenv("IOC_LOG_JSON", "false")

    # The test schema is built from the models, not by migrations, so it carries no revision stamp.
    async def at_head(_url: str) -> str | None:
        return migrate.head_revision()

    monkeypatch.setattr(migrate, "current_revision", at_head)


async def _invoke(*args: str) -> Result:
    # The command runs its own event loop, so it runs in a thread beside the test's loop.
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


@pytest.mark.usefixtures("cli_env")
class TestUserCreate:
    async def test_creates_a_user_who_can_log_in(self, runtime: Runtime) -> None:
        result = await _invoke(
            "user",
            "create",
            "--username",
            "Chuyenvien.STNMT",
            "--password",
            "Mat-khau-123!",
            "--role",
            "agency_staff",
            "--display-name",
            "Chuyên viên Sở TN&MT",
            "--agency-id",
            "4",
            "--unit-code",
            "25747",
            "--unit-code",
            "25750",
            "--email",
            "cv@tayninh.gov.vn",
        )
        assert result.exit_code == 0, result.output
        assert "chuyenvien.stnmt" in result.output
        async with runtime.db.transaction() as session:
            user = await identity.authenticate_password(session, runtime, "chuyenvien.stnmt", "Mat-khau-123!")
        assert user is not None
        assert user.display_name == "Chuyên viên Sở TN&MT"
        assert user.agency_id == 4
        assert user.unit_codes == ["25747", "25750"]
        assert user.email == "cv@tayninh.gov.vn"

    async def test_duplicate_username_fails_with_a_message(self, runtime: Runtime, make_user: Any) -> None:
        await make_user(username="trung.ten")
        result = await _invoke(
            "user", "create", "--username", "trung.ten", "--password", "Mat-khau-123!", "--role", "citizen"
        )
        assert result.exit_code != 0
        assert "already taken" in result.output
        assert "đã có người dùng" in result.output

    async def test_bad_role_fails_with_the_list_of_roles(self) -> None:
        result = await _invoke(
            "user", "create", "--username", "vaitro", "--password", "Mat-khau-123!", "--role", "boss"
        )
        assert result.exit_code != 0
        assert "Invalid role: boss" in result.output
        assert "agency_head" in result.output

    async def test_short_password_fails_with_the_policy(self) -> None:
        result = await _invoke("user", "create", "--username", "ngan", "--password", "123", "--role", "citizen")
        assert result.exit_code != 0
        assert "at least 8 characters" in result.output

    async def test_set_password_resets_and_unlocks(self, runtime: Runtime, make_user: Any) -> None:
        user = await make_user(username="quen.mat.khau")
        result = await _invoke("user", "set-password", "--username", "quen.mat.khau", "--password", "Mat-khau-moi-1")
        assert result.exit_code == 0, result.output
        async with runtime.db.transaction() as session:
            assert await identity.authenticate_password(session, runtime, user["username"], "Mat-khau-moi-1")
        missing = await _invoke("user", "set-password", "--username", "khong.co", "--password", "Mat-khau-moi-1")
        assert missing.exit_code != 0
        assert "No user named" in missing.output

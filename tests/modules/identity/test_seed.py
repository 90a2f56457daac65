"""The demo accounts: one per role, created once, never in production."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ioc.core.module import SeedContext
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Environment
from ioc.modules import identity
from ioc.modules.identity.seed import seed_demo


async def _seed(runtime: Runtime) -> list[str]:
    async with runtime.db.transaction() as session:
        ctx = SeedContext(session=session, runtime=runtime)
        await seed_demo(ctx)
    return ctx.messages


async def test_demo_seed_creates_one_account_per_role_and_can_run_twice(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    messages = await _seed(runtime)
    assert "Tài khoản quản trị demo / demo admin login: admin / TayNinh@2026" in messages
    again = await _seed(runtime)
    assert not any(message.startswith("Đã tạo") for message in again)
    async with runtime.db.session() as session:
        users, total = await identity.list_users(session, identity.UserFilters())
    assert total == len(Role)
    assert {user.role for user in users} == set(Role)
    assert all("(demo)" in user.display_name for user in users)
    login = await client.post("/api/v1/auth/login", json={"username": "admin", "password": "TayNinh@2026"})
    assert login.status_code == 200
    assert login.json()["user"]["role"] == "admin"


async def test_demo_seed_refuses_production(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "settings", runtime.settings.model_copy(update={"env": Environment.PRODUCTION}))
    messages = await _seed(runtime)
    assert any("production" in message for message in messages)
    async with runtime.db.session() as session:
        assert await identity.get_user_by_username(session, "admin") is None


async def test_demo_seed_keeps_existing_accounts(runtime: Runtime, make_user: Any) -> None:
    await make_user(Role.ADMIN, username="admin", password="Mat-khau-rieng-1")
    await _seed(runtime)
    async with runtime.db.transaction() as session:
        assert await identity.authenticate_password(session, runtime, "admin", "Mat-khau-rieng-1") is not None

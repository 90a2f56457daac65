"""Housekeeping: expired sessions and old login counters are removed by the recurring job."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.time import utc_now
from ioc.modules.identity.models import LoginThrottle, WebSession

from .conftest import Changer


async def test_purge_job_removes_expired_sessions_and_old_counters(
    runtime: Runtime, login_as: Any, change_sessions: Changer, client: Any, settings: Any
) -> None:
    stale = await login_as(Role.LEADER)
    fresh = await login_as(Role.LEADER)
    stale_id = (await stale.get("/api/v1/auth/me")).json()["user"]["id"]
    await client.post("/api/v1/auth/login", json={"username": "nobody-here", "password": "wrong-password"})
    await change_sessions(stale_id, expires_at=utc_now() - timedelta(minutes=1))
    async with runtime.db.transaction() as session:
        old = utc_now() - timedelta(minutes=settings.login_lockout_minutes + 1)
        for row in await session.scalars(select(LoginThrottle)):
            row.window_started_at = old
    await runtime.jobs.ensure_recurring()
    await runtime.drain()
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 1
        assert await session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
    assert (await fresh.get("/api/v1/auth/me")).status_code == 200

"""Fixtures of the identity tests: database access and a login helper."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from ioc.core.runtime import Runtime
from ioc.modules.identity.models import User, WebSession

OpenClient = Callable[..., httpx.AsyncClient]
Login = Callable[[httpx.AsyncClient, str, str], Awaitable[httpx.Response]]
Changer = Callable[..., Awaitable[None]]


@pytest.fixture
def login() -> Login:
    """Return a function that posts the JSON login form."""

    async def post(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
        return await http.post("/api/v1/auth/login", json={"username": username, "password": password})

    return post


@pytest.fixture
def change_user(runtime: Runtime) -> Changer:
    """Return a function that changes a user's row directly in the database (to move time along)."""

    async def change(user_id: int, **values: Any) -> None:
        async with runtime.db.transaction() as session:
            await session.execute(update(User).where(User.id == user_id).values(**values))

    return change


@pytest.fixture
def change_sessions(runtime: Runtime) -> Changer:
    """Return a function that changes every web session of a user directly in the database."""

    async def change(user_id: int, **values: Any) -> None:
        async with runtime.db.transaction() as session:
            await session.execute(update(WebSession).where(WebSession.user_id == user_id).values(**values))

    return change


@pytest.fixture
async def open_client(app: Any) -> AsyncIterator[OpenClient]:
    """Return a factory of extra clients (e.g. one holding a stale or planted cookie), closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def factory(cookies: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver", cookies=cookies, headers=headers
        )
        clients.append(http)
        return http

    yield factory
    for http in clients:
        await http.aclose()

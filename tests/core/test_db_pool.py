"""Pooled PostgreSQL connections: tested before use after sitting idle, replaced when the server dropped them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from ioc.core import db
from ioc.core.db import Database

BACKEND_PID = text("SELECT pg_backend_pid()")


@pytest.fixture
def server_url(database_url: str, is_postgres: bool) -> str:
    """Return the test database on PostgreSQL; skip on SQLite, which has no server connection to lose."""
    if not is_postgres:
        pytest.skip("SQLite has no server connection to lose")
    return database_url


async def _backend_pid(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(BACKEND_PID)).scalar_one())


async def _drop_connection(url: str, pid: int) -> None:
    """End a server process as a restart or an administrator would, then let the client notice."""
    other = Database(url)
    try:
        async with other.engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()
    await asyncio.sleep(0.2)


async def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_ping(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Used again well within the idle threshold: no round trip tests it, yet the caller sees no error.
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 60.0)
    database = Database(server_url)
    try:
        first = await _backend_pid(database)
        await _drop_connection(server_url, first)
        assert await _backend_pid(database) != first
    finally:
        await database.dispose()


async def test_an_idle_connection_is_tested_before_use(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.1)
    database = Database(server_url)
    pings: list[int] = []
    ping = database.engine.sync_engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(database.engine.sync_engine.dialect, "do_ping", counted)
    try:
        first = await _backend_pid(database)
        assert await _backend_pid(database) == first
        assert pings == []  # used a moment ago: no round trip
        await asyncio.sleep(0.3)
        assert await _backend_pid(database) == first
        assert pings == [1]  # idle past the threshold: tested, found alive, kept
    finally:
        await database.dispose()

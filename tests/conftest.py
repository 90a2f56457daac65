"""Shared fixtures: a real database (SQLite or PostgreSQL), the app, clients and users."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ioc.app import create_app
from ioc.core import migrate
from ioc.core.db import Base
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Environment, Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TEST_SECRET = "test-secret-key-0123456789"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave tests marked engine_free out of every pass but SQLite's: they would only repeat themselves."""
    if os.environ.get("TEST_DATABASE_URL", "sqlite") == "sqlite":
        return
    kept = [item for item in items if item.get_closest_marker("engine_free") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a local service is missing, but fail in CI, where it must be there."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError:
        message = f"{name} is not reachable at {host}:{port}"
        if IN_CI:
            pytest.fail(message + " (CI=true: required services must be running)")
        pytest.skip(message)


def _requested_url(tmp_root: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url == "sqlite":
        return f"sqlite+aiosqlite:///{(tmp_root / 'test.sqlite3').as_posix()}"
    if url == "postgresql":
        return POSTGRES_ADMIN_URL
    return url


async def _create_pg_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            # Tests never need a commit to survive a power cut: not waiting for the WAL flush makes them faster.
            await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        await engine.dispose()


async def _drop_pg_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def _create_schema(url: str) -> None:
    # The schema comes from the models here; tests/core/test_migrations.py proves the migrations match them.
    migrate.import_all_models()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Create a fresh, migrated database for the test session."""
    root = tmp_path_factory.mktemp("db")
    url = _requested_url(root)
    if url.startswith("postgresql"):
        parsed = make_url(url)
        require_service("PostgreSQL", parsed.host or "127.0.0.1", parsed.port or 5432)
        name = f"ioc_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_create_pg_database(url, name))
        test_url = parsed.set(database=name).render_as_string(hide_password=False)
        try:
            asyncio.run(_create_schema(test_url))
            yield test_url
        finally:
            asyncio.run(_drop_pg_database(url, name))
    else:
        asyncio.run(_create_schema(url))
        yield url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    """Tell whether the suite runs on PostgreSQL."""
    return database_url.startswith("postgresql")


async def _empty_all_tables(url: str) -> None:
    engine = create_async_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    try:
        async with engine.begin() as conn:
            if url.startswith("postgresql"):
                # TRUNCATE costs per table: find the few tables the test wrote to, in one query.
                probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
                dirty = [row[0] for row in await conn.execute(text(probe))]
                if dirty:
                    names = ", ".join(f'"{t}"' for t in dirty)
                    await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await conn.execute(text(f'DELETE FROM "{table}"'))
    finally:
        await engine.dispose()


@pytest.fixture
async def clean_database(database_url: str) -> AsyncIterator[str]:
    """Yield the database URL with every table emptied after the test."""
    migrate.import_all_models()
    yield database_url
    await _empty_all_tables(database_url)


@pytest.fixture
def settings(clean_database: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own data folder, no background workers (tests drive them).

    TEST_MODULES=a,b narrows the enabled modules while developing one module.
    """
    return Settings(
        env=Environment.TEST,
        secret_key=TEST_SECRET,
        database_url=clean_database,
        data_dir=tmp_path / "data",
        run_background=False,
        log_json=False,
        **({"modules": os.environ["TEST_MODULES"].split(",")} if os.environ.get("TEST_MODULES") else {}),
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    """Build the application and run its start-up and shut-down."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def runtime(app: Any) -> Runtime:
    """Return the runtime of the test application."""
    runtime: Runtime = app.state.runtime
    return runtime


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


UserFactory = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def make_user(runtime: Runtime) -> UserFactory:
    """Create a user through the identity service and return its fields (with the password)."""
    from ioc.modules import identity

    async def factory(
        role: Role = Role.ADMIN, username: str | None = None, password: str = "Mat-khau-123!", **fields: Any
    ) -> dict[str, Any]:
        name = username or f"{role.value}_{uuid.uuid4().hex[:6]}"
        async with runtime.db.transaction() as session:
            user = await identity.create_user(session, runtime, username=name, password=password, role=role, **fields)
        return {**user.model_dump(), "password": password}

    return factory


LoginFactory = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def login_as(app: Any, make_user: UserFactory) -> AsyncIterator[LoginFactory]:
    """Return a factory of logged-in clients (cookie session and CSRF header set)."""
    clients: list[httpx.AsyncClient] = []

    async def factory(role: Role = Role.ADMIN, **fields: Any) -> httpx.AsyncClient:
        user = await make_user(role, **fields)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(http)
        response = await http.post(
            "/api/v1/auth/login", json={"username": user["username"], "password": user["password"]}
        )
        assert response.status_code == 200, response.text
        http.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return http

    yield factory
    for http in clients:
        await http.aclose()

"""Shared fixtures: a real database (SQLite or PostgreSQL), the app, clients and users."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from tests.support import databases

from ioc.app import create_app
from ioc.core import migrate
from ioc.core.runtime import Runtime
from ioc.core.security import Role
from ioc.core.settings import Environment, Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = databases.POSTGRES_ADMIN_URL
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


# Other test packages import these under their former names.
_requested_url = databases.requested_url
_create_pg_database = databases.create_pg_database
_drop_pg_database = databases.drop_pg_database
_create_schema = databases.create_schema
_empty_all_tables = databases.empty_all_tables


def require_database(url: str) -> None:
    """Skip (or fail in CI) when the PostgreSQL server of `url` is not reachable; SQLite needs nothing."""
    if url.startswith("postgresql"):
        parsed = make_url(url)
        require_service("PostgreSQL", parsed.host or "127.0.0.1", parsed.port or 5432)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Create a fresh database with every table for the test session."""
    requested = databases.requested_url(tmp_path_factory.mktemp("db"))
    require_database(requested)
    with databases.scratch_database(requested, "ioc_test") as url:
        yield url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    """Tell whether the suite runs on PostgreSQL."""
    return database_url.startswith("postgresql")


@pytest.fixture
async def clean_database(database_url: str) -> AsyncIterator[str]:
    """Yield the database URL with every table emptied after the test."""
    migrate.import_all_models()
    yield database_url
    await databases.empty_all_tables(database_url)


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

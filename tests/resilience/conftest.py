"""Fixtures of the resilience tests: a database of their own for `ioc run` subprocesses, and process cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from ioc.core.runtime import Runtime
from ioc.core.settings import Environment, Settings

from ..conftest import TEST_SECRET, require_database
from ..support import databases
from .support import IocProcess, ServerProcess, stamp_head


@pytest.fixture(scope="session")
def process_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database only the resilience tests' processes use, built from the models and stamped as migrated."""
    requested = databases.requested_url(tmp_path_factory.mktemp("resilience-db"), "processes.sqlite3")
    require_database(requested)
    with databases.scratch_database(requested, "ioc_resilience", prepare=stamp_head) as url:
        yield url


@pytest.fixture
async def process_db(process_database_url: str) -> AsyncIterator[str]:
    """Yield the processes' database URL, emptied after the test."""
    yield process_database_url
    await databases.empty_all_tables(process_database_url)


@pytest.fixture
def on_postgres(process_database_url: str) -> bool:
    """Tell whether the processes run on PostgreSQL."""
    return process_database_url.startswith("postgresql")


@pytest.fixture
def postgres_only(on_postgres: bool) -> None:
    """Skip on SQLite: the scenario needs a database server shared by several processes."""
    if not on_postgres:
        pytest.skip("needs PostgreSQL (a server several processes share, that can go away and come back)")


@pytest.fixture
def once(on_postgres: bool) -> None:
    """Run a scenario that does not depend on the database engine once, in the PostgreSQL pass (CI time)."""
    if not on_postgres:
        pytest.skip("engine-independent broker scenario: runs once, in the PostgreSQL pass")


@pytest.fixture
async def tool_runtime(process_db: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    """A runtime of the test itself on the processes' database, to provision data and read results."""
    settings = Settings(
        env=Environment.TEST,
        secret_key=TEST_SECRET,
        database_url=process_db,
        data_dir=tmp_path / "tool-data",
        run_background=False,
        log_json=False,
    )
    runtime = Runtime(settings)
    try:
        yield runtime
    finally:
        await runtime.db.dispose()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[IocProcess | ServerProcess]]:
    """Collect the processes a test starts; every one is killed when the test ends, pass or fail."""
    started: list[IocProcess | ServerProcess] = []
    yield started
    for proc in started:
        proc.kill()

"""Migrations: one linear history that builds exactly the schema the models describe, on both engines."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from ioc.core import migrate

from ..conftest import _create_pg_database, _drop_pg_database


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on the same engine as the suite."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{(tmp_path / 'migrations.sqlite3').as_posix()}"
        return
    admin = make_url(database_url).set(database="test").render_as_string(hide_password=False)
    name = f"ioc_migr_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_pg_database(admin, name))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_drop_pg_database(admin, name))


def test_history_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_migrations_build_the_schema_of_the_models(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    assert asyncio.run(migrate.current_revision(empty_database_url)) == migrate.head_revision()
    differences = asyncio.run(migrate.pending_differences(empty_database_url))
    assert differences == [], f"models and migrations disagree: {differences}"


def test_migrations_can_be_undone_and_redone(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    migrate.downgrade(empty_database_url, "base")
    assert asyncio.run(migrate.current_revision(empty_database_url)) is None
    migrate.upgrade(empty_database_url)
    assert asyncio.run(migrate.pending_differences(empty_database_url)) == []

"""Scratch databases for test sessions: a fresh PostgreSQL database (or SQLite file) built from the models."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ioc.core import migrate
from ioc.core.db import Base

POSTGRES_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def requested_url(tmp_root: Path, sqlite_file: str = "test.sqlite3") -> str:
    """Return the database TEST_DATABASE_URL asks for: a SQLite file under `tmp_root`, or a server to create on."""
    url = os.environ.get("TEST_DATABASE_URL", "sqlite")
    if url == "sqlite":
        return f"sqlite+aiosqlite:///{(tmp_root / sqlite_file).as_posix()}"
    if url == "postgresql":
        return POSTGRES_ADMIN_URL
    return url


async def create_pg_database(admin_url: str, name: str) -> None:
    """Create an empty PostgreSQL database through the admin connection."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
            # Tests never need a commit to survive a power cut: not waiting for the WAL flush makes them faster.
            await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    finally:
        await engine.dispose()


async def drop_pg_database(admin_url: str, name: str) -> None:
    """Drop a PostgreSQL database, closing the connections still open on it."""
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def create_schema(url: str) -> None:
    """Create every table of every module from the models."""
    # The schema comes from the models here; tests/core/test_migrations.py proves the migrations match them.
    migrate.import_all_models()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


async def empty_all_tables(url: str) -> None:
    """Delete every row of every table (the schema stays)."""
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


@contextmanager
def scratch_database(
    requested: str, prefix: str, prepare: Callable[[str], Awaitable[None]] | None = None
) -> Iterator[str]:
    """Yield the URL of a database with every table: a new PostgreSQL one (dropped after), or the SQLite file.

    `prepare` runs on the new database after its tables exist (e.g. to stamp the migration history).
    """

    async def build(url: str) -> None:
        await create_schema(url)
        if prepare is not None:
            await prepare(url)

    if not requested.startswith("postgresql"):
        asyncio.run(build(requested))
        yield requested
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    asyncio.run(create_pg_database(requested, name))
    try:
        url = make_url(requested).set(database=name).render_as_string(hide_password=False)
        asyncio.run(build(url))
        yield url
    finally:
        asyncio.run(drop_pg_database(requested, name))

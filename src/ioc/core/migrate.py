"""Alembic driven from code: `ioc db upgrade`, revisions, and the check that models match migrations."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Partitions are made at run time (e.g. telemetry's monthly observation partitions); models describe the parent.
PARTITION_NAME = re.compile(r"^(?P<parent>.+)_(p\d{6}|default)$")


def import_all_models() -> None:
    """Import the models of the kernel and of every built-in module, so that metadata is complete."""
    import ioc.modules

    importlib.import_module("ioc.core.models")
    for info in pkgutil.iter_modules(ioc.modules.__path__):
        try:
            importlib.import_module(f"ioc.modules.{info.name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"ioc.modules.{info.name}.models":
                raise


def target_metadata() -> MetaData:
    """Return the metadata that migrations must match."""
    from .db import Base

    import_all_models()
    return Base.metadata


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Leave the partitions of partitioned model tables out of autogenerate and of the models check."""
    if type_ == "table" and name:
        match = PARTITION_NAME.match(name)
        if match and match["parent"] in target_metadata().tables:
            return False
    return True


def alembic_config(url: str) -> Config:
    """Build an Alembic configuration for a database URL, without an ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision` (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Migrate the database back to `revision` ("base" removes everything)."""
    command.downgrade(alembic_config(url), revision)


def make_revision(url: str, message: str, autogenerate: bool = True) -> None:
    """Write a new revision file comparing the models with the database."""
    command.revision(alembic_config(url), message=message, autogenerate=autogenerate)


def head_revision() -> str | None:
    """Return the newest revision of the migration history."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def current_revision(url: str) -> str | None:
    """Return the revision the database is at, or None if it was never migrated."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
    finally:
        await engine.dispose()


async def pending_differences(url: str) -> list[Any]:
    """Compare the migrated database with the models; an empty list means they agree."""
    engine = create_async_engine(url)

    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        return list(compare_metadata(context, target_metadata()))

    try:
        async with engine.connect() as connection:
            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


def upgrade_sync(url: str) -> None:
    """Upgrade from synchronous code that has no running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        upgrade(url)
        return
    raise RuntimeError("upgrade_sync called inside an event loop; use asyncio.to_thread(upgrade, url)")

"""Database engine, sessions, the declarative base and portable column types."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, event, exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.types import TypeDecorator

from .time import ensure_utc

# Stable constraint names so that Alembic migrations are identical on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection is tested before use only after sitting unused this long (see `_ping_when_idle`).
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "ioc_idle_since"


class Base(DeclarativeBase):
    """Declarative base of every table; audited unless `__audited__ = False`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    __audited__: bool = True


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and normalise to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC values (SQLite hands back naive ones)."""
        return None if value is None else ensure_utc(value)


# JSON on SQLite, JSONB on PostgreSQL.
JsonType = JSON().with_variant(JSONB(), "postgresql")


def is_sqlite_url(url: str) -> bool:
    """Tell whether a database URL points to SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


class Database:
    """Owns the async engine and hands out sessions."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = is_sqlite_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _ping_when_idle(self.engine)
        # A Session subclass per database, so that commit listeners never leak between databases.
        self.sync_session_class: type[Session] = type("IocSession", (Session,), {})
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=self.sync_session_class
        )
        self._commit_listeners: list[Callable[[], None]] = []
        event.listen(self.sync_session_class, "after_commit", self._after_commit)

    def _after_commit(self, _session: Session) -> None:
        for listener in self._commit_listeners:
            listener()

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every commit of a session from this database."""
        self._commit_listeners.append(listener)

    def session(self) -> AsyncSession:
        """Open a new session; the caller commits."""
        return self.sessionmaker()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Yield a session committed on success and rolled back on error."""
        async with self.session() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use, with a round trip only when it sat unused; replace it if it is gone.

    `pool_pre_ping` tests every checkout: with asyncpg that is three round trips (BEGIN, an empty query,
    ROLLBACK), more than a short request's own statements, for connections a busy pool used milliseconds
    before. A connection the server or the network closed (a restart, a reset) is known closed by the driver
    without asking, and is replaced at checkout as a failed pre-ping would be; one that sat idle is also
    tested with a round trip, for links that died silently. One that dies silently between two close uses
    fails its request with a disconnect error, as a request running at that moment would, and SQLAlchemy then
    replaces every connection pooled before it.
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        # A new connection has no mark: the pool clears `info` when it connects.
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None:
            return
        if _known_closed(record.driver_connection):
            # As a failed pre-ping: the pool drops its older connections and checks out a new one.
            raise exc.InvalidatePoolError("the server closed the connection")
        if time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if not dialect.is_disconnect(error, dbapi_connection, None):
                raise
            raise exc.InvalidatePoolError(str(error)) from error


def _known_closed(driver_connection: Any) -> bool:
    """Tell whether the driver already knows its connection closed (asyncpg notices a reset when it comes)."""
    is_closed = getattr(driver_connection, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Enable WAL, foreign keys and immediate write transactions on SQLite."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control so that BEGIN IMMEDIATE can be issued below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a deferred transaction that later writes
        # would fail with "database is locked" instead of waiting for the busy timeout.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

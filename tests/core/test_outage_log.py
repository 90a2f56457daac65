"""A lost database is logged once per kind of work and once when it is back; real errors keep their traceback."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ioc.core.jobs import JobContext, JobRunner, JobSpec, schedule_job
from ioc.core.logging import OutageLog, database_connection_error
from ioc.core.runtime import Runtime

UNAVAILABLE = "database unavailable; retrying"
AVAILABLE = "database available again"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def _reach_a_database_that_is_gone() -> None:
    """Connect, through SQLAlchemy and the driver, to a PostgreSQL port nobody listens on."""
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/ioc")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _database_gone(_ctx: JobContext) -> None:
    await _reach_a_database_that_is_gone()


async def _bad_sql(ctx: JobContext) -> None:
    await ctx.session.execute(text("SELEC 1"))  # a bug, not an outage


async def _fine(_ctx: JobContext) -> None:
    return None


def _messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


async def test_jobs_log_an_outage_once_and_its_end_once(
    kernel_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    specs = {
        "outage.gone": JobSpec("outage.gone", _database_gone, max_attempts=1),
        "outage.fine": JobSpec("outage.fine", _fine),
    }
    runner = JobRunner(kernel_runtime, specs)
    async with kernel_runtime.db.transaction() as session:
        for _ in range(3):
            await schedule_job(session, "outage.gone", max_attempts=1)
    caplog.set_level(logging.WARNING, logger="ioc.core.jobs")
    assert await runner.run_due() == 3
    records = _messages(caplog, "ioc.core.jobs")
    assert [r.getMessage() for r in records] == [f"{UNAVAILABLE} (jobs: ConnectionRefusedError)"]
    assert records[0].levelno == logging.WARNING
    assert records[0].exc_info is None
    assert records[0].__dict__["error_class"] == "ConnectionRefusedError"

    async with kernel_runtime.db.transaction() as session:
        await schedule_job(session, "outage.fine")
    stop = asyncio.Event()
    loop = asyncio.create_task(runner.run_forever(stop, poll_seconds=0.05))
    try:
        for _ in range(100):
            if any(AVAILABLE in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await loop
    back = [r.getMessage() for r in _messages(caplog, "ioc.core.jobs") if AVAILABLE in r.getMessage()]
    assert len(back) == 1
    assert back[0].startswith(f"{AVAILABLE} (jobs) after ")
    assert "3 failed attempts" in back[0]


async def test_a_real_database_error_keeps_its_traceback(
    kernel_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    runner = JobRunner(kernel_runtime, {"outage.bug": JobSpec("outage.bug", _bad_sql, max_attempts=1)})
    async with kernel_runtime.db.transaction() as session:
        for _ in range(2):
            await schedule_job(session, "outage.bug", max_attempts=1)
    caplog.set_level(logging.WARNING, logger="ioc.core.jobs")
    assert await runner.run_due() == 2
    records = _messages(caplog, "ioc.core.jobs")
    assert [r.getMessage() for r in records] == ["job failed", "job failed"]
    assert all(r.levelno == logging.ERROR and r.exc_info is not None for r in records)


@pytest.mark.engine_free
async def test_only_a_lost_database_counts_as_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ConnectionRefusedError) as from_database:
        await _reach_a_database_that_is_gone()
    assert database_connection_error(from_database.value) is from_database.value
    # The same error from another service (a feed, a broker) is not the database: it keeps its traceback.
    with pytest.raises(ConnectionRefusedError) as elsewhere:
        await asyncio.open_connection("127.0.0.1", _closed_port())
    assert database_connection_error(elsewhere.value) is None
    outage = OutageLog(logging.getLogger("ioc.test.outage"), "feed")
    caplog.set_level(logging.INFO, logger="ioc.test.outage")
    assert outage.failed(elsewhere.value, "feed poll failed") is False
    outage.succeeded()
    assert [(r.getMessage(), r.exc_info is not None) for r in caplog.records] == [("feed poll failed", True)]

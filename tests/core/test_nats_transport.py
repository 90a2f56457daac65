"""The NATS JetStream transport, against the real NATS server."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from ioc.core.events import record_event
from ioc.core.models import CalendarDay
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings

from ..conftest import require_service
from .samplemod import manifest as sample

NATS_URL = "nats://127.0.0.1:4222"


async def _handled(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).where(CalendarDay.name == "handled")) or 0)


async def _wait_for(runtime: Runtime, expected: int, seconds: float = 10.0) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    count = await _handled(runtime)
    while count < expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
        count = await _handled(runtime)
    return count


@pytest.fixture
def nats_settings(kernel_settings: Settings) -> Settings:
    """Settings using NATS with a stream of its own, so that parallel runs never share messages."""
    require_service("NATS", "127.0.0.1", 4222)
    return kernel_settings.model_copy(
        update={
            "event_transport": "nats",
            "nats_url": NATS_URL,
            "nats_stream": f"IOC_TEST_{uuid.uuid4().hex[:8]}",
            "run_background": True,
        }
    )


async def _delete_stream(name: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


async def test_events_flow_through_jetstream_to_their_handler_once(nats_settings: Settings) -> None:
    runtime = Runtime(nats_settings)
    await runtime.start()
    try:
        async with runtime.db.transaction() as session:
            for number in range(3):
                record_event(session, sample.ThingHappened(number=number))
        assert await _wait_for(runtime, 3) == 3
        # A duplicate publish (same event id) is dropped by JetStream or by the handled-events table.
        async with runtime.db.session() as session:
            from ioc.core.models import OutboxEvent

            row = await session.scalar(select(OutboxEvent).limit(1))
            assert row is not None
            await runtime.transport.publish(session, row)
        await asyncio.sleep(1.0)
        assert await _handled(runtime) == 3
    finally:
        await runtime.stop()
        await _delete_stream(nats_settings.nats_stream)


async def test_two_processes_share_the_work_and_handle_each_event_once(
    nats_settings: Settings, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("two processes share one database only on PostgreSQL")
    first, second = Runtime(nats_settings), Runtime(nats_settings)
    await first.start()
    await second.start()
    try:
        async with first.db.transaction() as session:
            for number in range(20):
                record_event(session, sample.ThingHappened(number=number))
        assert await _wait_for(first, 20) == 20
        await asyncio.sleep(0.5)
        assert await _handled(first) == 20
    finally:
        await first.stop()
        await second.stop()
        await _delete_stream(nats_settings.nats_stream)

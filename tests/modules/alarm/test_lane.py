"""The observation lane: threshold rules evaluated straight after ingestion commits, ahead of the job queue."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ioc.core.events import handle_in_session
from ioc.core.models import EventHandled, Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now
from ioc.modules.alarm.handlers import LANE_FALLBACK_SECONDS, OBSERVATIONS_HANDLER, ObservationLane
from ioc.modules.alarm.models import Alarm
from ioc.modules.telemetry import InboundMessage, IngestSource, ObservationsReceived, ingest_messages

from .conftest import STATION, MakeRule

WAIT = 10.0
OBSERVATIONS_EVENT = ObservationsReceived.event_name


async def _ingest(runtime: Runtime, minutes_ago: float, value: float) -> None:
    ts = (utc_now() - timedelta(minutes=minutes_ago)).isoformat()
    body = json.dumps({"ts": ts, "values": {"water_level": value}})
    await ingest_messages(runtime, [InboundMessage(payload=body, source=IngestSource.HTTP, device_code=STATION)])


async def _open_alarms(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Alarm).where(Alarm.status == "active")) or 0)


@pytest.mark.usefixtures("stream_id")
async def test_the_lane_raises_the_alarm_without_the_job_queue_and_the_job_then_does_nothing(
    runtime: Runtime, stream_id: int, make_rule: MakeRule
) -> None:
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3.0)
    lane = ObservationLane(runtime)
    await lane.start()
    try:
        await _ingest(runtime, 3, 2.0)
        await _ingest(runtime, 2, 3.5)  # two batches: evaluated together or one after the other
        deadline = asyncio.get_running_loop().time() + WAIT
        while await _open_alarms(runtime) == 0:
            assert asyncio.get_running_loop().time() < deadline, "the lane raised no alarm"
            await asyncio.sleep(0.02)
    finally:
        await lane.stop()
    assert lane.evaluated == 2
    async with runtime.db.session() as session:
        handled = await session.scalar(
            select(func.count()).select_from(EventHandled).where(EventHandled.handler == OBSERVATIONS_HANDLER)
        )
    assert handled == 2
    # The ordinary deliveries still run, find both events handled and change nothing.
    await runtime.drain()
    assert await _open_alarms(runtime) == 1
    async with runtime.db.session() as session:
        dead = await session.scalar(select(func.count()).select_from(Job).where(Job.status == "dead"))
        alarms = list(await session.scalars(select(Alarm)))
    assert dead == 0
    assert [a.source_ref for a in alarms] == [str(stream_id)]


@pytest.mark.usefixtures("stream_id")
async def test_an_evaluation_racing_the_lane_leaves_one_alarm_and_no_error(
    runtime: Runtime, stream_id: int, make_rule: MakeRule
) -> None:
    # A delivery (job or NATS consumer) evaluates the first batch and has not committed when the lane takes up
    # both batches: the lane waits for it, leaves the first batch to it and updates the alarm it opened.
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3.0)
    await _ingest(runtime, 3, 4.0)
    await _ingest(runtime, 2, 5.0)
    async with runtime.db.session() as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.name == OBSERVATIONS_EVENT))).all()
    first, _second = (ObservationsReceived.model_validate(row.payload) for row in rows)
    subscription = runtime.subscriptions_by_name[OBSERVATIONS_HANDLER]
    lane = ObservationLane(runtime)
    async with runtime.db.session() as delivery:
        assert await handle_in_session(delivery, runtime, subscription, first) is True
        racing = asyncio.create_task(lane.evaluate_pending())
        await asyncio.sleep(0.3)
        await delivery.commit()
    assert await asyncio.wait_for(racing, WAIT) is False
    assert lane.evaluated == 1
    async with runtime.db.session() as session:
        alarms = list(await session.scalars(select(Alarm)))
    assert [(a.source_ref, a.status, a.count) for a in alarms] == [(str(stream_id), "active", 2)]


@pytest.mark.usefixtures("stream_id")
async def test_two_deliveries_evaluating_one_stream_at_once_open_one_alarm(
    runtime: Runtime, stream_id: int, make_rule: MakeRule
) -> None:
    # Two batches of one stream handled at the same moment (two processes, or a job and a NATS consumer): the
    # second evaluation waits for the first to commit and counts into the alarm it opened.
    await make_rule(kind="threshold", scope_kind="datastream", scope_ref=str(stream_id), operator=">", threshold=3.0)
    await _ingest(runtime, 3, 4.0)
    await _ingest(runtime, 2, 5.0)
    async with runtime.db.session() as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.name == OBSERVATIONS_EVENT))).all()
    first, second = (ObservationsReceived.model_validate(row.payload) for row in rows)
    subscription = runtime.subscriptions_by_name[OBSERVATIONS_HANDLER]

    async def deliver(event: ObservationsReceived) -> bool:
        async with runtime.db.session() as session:
            ran = await handle_in_session(session, runtime, subscription, event)
            await session.commit()
            return ran

    async with runtime.db.session() as delivery:
        assert await handle_in_session(delivery, runtime, subscription, first) is True
        racing = asyncio.create_task(deliver(second))
        await asyncio.sleep(0.3)
        await delivery.commit()
    assert await asyncio.wait_for(racing, WAIT) is True
    async with runtime.db.session() as session:
        alarms = list(await session.scalars(select(Alarm)))
    assert [(a.source_ref, a.status, a.count) for a in alarms] == [(str(stream_id), "active", 2)]


@pytest.mark.usefixtures("stream_id")
async def test_while_the_lane_runs_the_delivery_job_waits_and_is_the_fallback(runtime: Runtime) -> None:
    async def delivery_delays() -> list[float]:
        async with runtime.db.session() as session:
            jobs = (await session.scalars(select(Job).where(Job.name == "events.deliver"))).all()
        return sorted(
            round((job.run_at - job.created_at).total_seconds())
            for job in jobs
            if job.payload["handler"] == OBSERVATIONS_HANDLER
        )

    await _ingest(runtime, 3, 2.0)  # no lane: delivered at once
    await runtime.dispatcher.dispatch_pending()
    lane = ObservationLane(runtime)
    await lane.start()
    try:
        await _ingest(runtime, 2, 2.0)  # the lane runs: its delivery job waits
        await runtime.dispatcher.dispatch_pending()
    finally:
        await lane.stop()
    assert await delivery_delays() == [0, int(LANE_FALLBACK_SECONDS)]

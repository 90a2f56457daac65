"""Domain events: written in the transaction, published after commit, handled once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select, update

from ioc.core.events import DomainEvent, Subscription, handle_in_session, handle_once, parse_event, record_event
from ioc.core.models import CalendarDay, EventHandled, Job, OutboxEvent
from ioc.core.runtime import Runtime
from ioc.core.time import utc_now

from .samplemod import manifest as sample


async def _count(runtime: Runtime, model: type, *where: object) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_event_is_stored_only_when_the_transaction_commits(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.session() as session:
        record_event(session, sample.ThingHappened(number=1))
        await session.rollback()
    assert await _count(kernel_runtime, OutboxEvent) == 0
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=1))
    assert await _count(kernel_runtime, OutboxEvent, OutboxEvent.published_at.is_(None)) == 1


async def test_committed_event_reaches_its_handler_once(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=3))
    await kernel_runtime.drain()
    assert await _count(kernel_runtime, CalendarDay, CalendarDay.name == "handled") == 1
    assert await _count(kernel_runtime, OutboxEvent, OutboxEvent.published_at.is_(None)) == 0
    # Publishing again (as after a crash between publish and commit) must not run the handler twice.
    async with kernel_runtime.db.transaction() as session:
        await session.execute(update(OutboxEvent).values(published_at=None))
    await kernel_runtime.drain()
    assert await _count(kernel_runtime, CalendarDay, CalendarDay.name == "handled") == 1
    assert await _count(kernel_runtime, EventHandled) == 1


async def test_handle_once_ignores_a_redelivery(kernel_runtime: Runtime) -> None:
    event = sample.ThingHappened(number=5)
    subscription = kernel_runtime.subscriptions_by_name["samplemod.on_thing"]
    assert await handle_once(kernel_runtime, subscription, event) is True
    assert await handle_once(kernel_runtime, subscription, event) is False
    assert await _count(kernel_runtime, CalendarDay) == 1


async def _deliver_in_own_transaction(runtime: Runtime, subscription: Subscription, event: DomainEvent) -> bool:
    """Deliver as a delivery job does: in a transaction that also carries other work, with no retry around it."""
    async with runtime.db.session() as session:
        ran = await handle_in_session(session, runtime, subscription, event)
        await session.commit()
        return ran


async def test_two_deliveries_at_once_run_the_handler_once_without_an_error(kernel_runtime: Runtime) -> None:
    # A delivery job and a second deliverer (another process, the alarm module's lane) race on one event: the
    # second waits for the first's claim and then finds the event taken, instead of failing on the unique key.
    event = sample.ThingHappened(number=6)
    subscription = kernel_runtime.subscriptions_by_name["samplemod.on_thing"]
    async with kernel_runtime.db.session() as first:
        assert await handle_in_session(first, kernel_runtime, subscription, event) is True
        second = asyncio.create_task(_deliver_in_own_transaction(kernel_runtime, subscription, event))
        await asyncio.sleep(0.3)
        assert not second.done()  # held by the first claim until it commits
        await first.commit()
    assert await asyncio.wait_for(second, 10) is False
    assert await _count(kernel_runtime, CalendarDay) == 1
    assert await _count(kernel_runtime, EventHandled) == 1


async def test_failing_handler_is_retried_with_backoff_until_it_succeeds(kernel_runtime: Runtime) -> None:
    sample.FAILURES_LEFT["handler"] = 2
    async with kernel_runtime.db.transaction() as session:
        record_event(session, sample.ThingHappened(number=7))
    await kernel_runtime.drain()
    assert await _count(kernel_runtime, CalendarDay) == 0
    async with kernel_runtime.db.session() as session:
        job = await session.scalar(select(Job).where(Job.name == "events.deliver"))
        assert job is not None
        assert job.status == "pending"
        assert job.attempts == 1
        assert job.run_at > utc_now() + timedelta(seconds=2)
        assert "planned failure" in (job.last_error or "")
    for _ in range(2):
        async with kernel_runtime.db.transaction() as session:
            await session.execute(update(Job).values(run_at=utc_now() - timedelta(seconds=1)))
        await kernel_runtime.drain()
    assert await _count(kernel_runtime, CalendarDay) == 1


def test_events_round_trip_through_their_json_payload() -> None:
    event = sample.ThingHappened(number=9)
    again = parse_event(event.event_name, event.payload())
    assert again == event
    assert parse_event("nobody.knows", {}) is None
    assert DomainEvent.registry["samplemod.thing_happened"] is sample.ThingHappened

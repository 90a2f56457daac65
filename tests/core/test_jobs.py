"""Durable jobs and timers: due work runs once, failures retry, nothing is lost across restarts."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from ioc.core.jobs import JobStatus, backoff, cancel_job, schedule_job
from ioc.core.models import CalendarDay, Job
from ioc.core.runtime import Runtime
from ioc.core.settings import Settings
from ioc.core.time import utc_now

from .samplemod import manifest as sample


async def _timer_rows(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).where(CalendarDay.name == "timer")) or 0)


async def test_timer_that_fell_due_while_the_process_was_down_fires_after_restart(
    kernel_settings: Settings,
) -> None:
    first = Runtime(kernel_settings)
    async with first.db.transaction() as session:
        await schedule_job(session, "samplemod.timer", {"offset": 1}, run_at=utc_now() + timedelta(milliseconds=300))
    await first.stop()  # the process goes away before the timer is due
    await asyncio.sleep(0.4)
    second = Runtime(kernel_settings)
    try:
        assert await second.jobs.run_due() == 1
        assert await _timer_rows(second) == 1
        assert await second.jobs.run_due() == 0
    finally:
        await second.stop()


async def test_timer_does_not_fire_before_it_is_due(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        await schedule_job(session, "samplemod.timer", {"offset": 2}, run_at=utc_now() + timedelta(hours=1))
    assert await kernel_runtime.jobs.run_due() == 0
    assert await _timer_rows(kernel_runtime) == 0


async def test_scheduling_with_the_same_key_reschedules_and_cancel_removes(kernel_runtime: Runtime) -> None:
    later = utc_now() + timedelta(days=1)
    async with kernel_runtime.db.transaction() as session:
        await schedule_job(session, "samplemod.timer", {"offset": 3}, run_at=later, dedupe_key="report:1:deadline")
        await schedule_job(session, "samplemod.timer", {"offset": 4}, run_at=utc_now(), dedupe_key="report:1:deadline")
    async with kernel_runtime.db.session() as session:
        jobs = (await session.scalars(select(Job))).all()
    assert len(jobs) == 1
    assert jobs[0].payload == {"offset": 4}
    async with kernel_runtime.db.transaction() as session:
        assert await cancel_job(session, "report:1:deadline") is True
        assert await cancel_job(session, "report:1:deadline") is False
    assert await kernel_runtime.jobs.run_due() == 0


async def test_job_that_keeps_failing_ends_dead_after_its_attempts(kernel_runtime: Runtime) -> None:
    sample.FAILURES_LEFT["job"] = 10
    async with kernel_runtime.db.transaction() as session:
        await schedule_job(session, "samplemod.timer", {"offset": 5}, max_attempts=3)
    for _ in range(3):
        await kernel_runtime.jobs.run_due()
        async with kernel_runtime.db.transaction() as session:
            job = await session.scalar(select(Job))
            assert job is not None
            job.run_at = utc_now() - timedelta(seconds=1)
    async with kernel_runtime.db.session() as session:
        job = await session.scalar(select(Job))
    assert job is not None
    assert job.status == JobStatus.DEAD
    assert job.attempts == 3
    assert await _timer_rows(kernel_runtime) == 0


async def test_job_abandoned_by_a_crashed_worker_is_taken_over(kernel_runtime: Runtime) -> None:
    async with kernel_runtime.db.transaction() as session:
        session.add(
            Job(
                name="samplemod.timer",
                payload={"offset": 6},
                run_at=utc_now(),
                status=JobStatus.RUNNING,
                attempts=1,
                max_attempts=5,
                locked_by="dead-host:1",
                locked_until=utc_now() - timedelta(seconds=1),
                created_at=utc_now(),
            )
        )
    assert await kernel_runtime.jobs.run_due() == 1
    assert await _timer_rows(kernel_runtime) == 1


async def test_recurring_job_keeps_exactly_one_pending_occurrence(kernel_runtime: Runtime) -> None:
    await kernel_runtime.jobs.ensure_recurring()
    await kernel_runtime.jobs.ensure_recurring()
    assert await kernel_runtime.jobs.run_due() == 1
    async with kernel_runtime.db.session() as session:
        pending = (
            await session.scalars(select(Job).where(Job.name == "samplemod.tick", Job.status == JobStatus.PENDING))
        ).all()
        tick = await session.get(CalendarDay, date(1999, 1, 1))
    assert len(pending) == 1
    assert pending[0].run_at > utc_now() + timedelta(minutes=59)
    assert tick is not None
    assert tick.name == "1"


async def test_two_processes_run_each_due_job_once(kernel_settings: Settings, is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("several processes share one database only on PostgreSQL")
    first, second = Runtime(kernel_settings), Runtime(kernel_settings)
    try:
        async with first.db.transaction() as session:
            for offset in range(40):
                await schedule_job(session, "samplemod.timer", {"offset": 100 + offset})
        counts = await asyncio.gather(*(r.jobs.run_due(limit=5) for r in (first, second, first, second) * 3))
        while await first.jobs.run_due() or await second.jobs.run_due():
            pass
        assert sum(counts) <= 40
        assert await _timer_rows(first) == 40
    finally:
        await first.stop()
        await second.stop()


def test_backoff_grows_and_is_capped() -> None:
    waits = [backoff(n) for n in range(1, 20)]
    assert waits == sorted(waits)
    assert waits[0] == timedelta(seconds=5)
    assert waits[-1] == timedelta(hours=1)

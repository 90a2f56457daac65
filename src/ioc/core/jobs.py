"""Durable jobs and timers: stored rows that run when due, even after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from .logging import OutageLog
from .metrics import JOBS_RUN
from .models import Job
from .time import utc_now

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger(__name__)

RECURRING_PREFIX = "every:"
MAX_BACKOFF = timedelta(hours=1)


class JobStatus(StrEnum):
    """Where a job is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"
    CANCELLED = "cancelled"


@dataclass
class JobContext:
    """What a job handler gets: its payload and a session in the job's transaction."""

    session: AsyncSession
    runtime: Runtime
    payload: dict[str, Any]
    job_id: int
    attempt: int


JobHandler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """A named job (`module.verb`); `every` makes it recurring."""

    name: str
    handler: JobHandler
    every: timedelta | None = None
    max_attempts: int = 5
    timeout: timedelta = timedelta(minutes=10)


def backoff(attempt: int) -> timedelta:
    """Return the wait before retry number `attempt` (exponential, capped)."""
    return min(timedelta(seconds=5 * 2 ** max(attempt - 1, 0)), MAX_BACKOFF)


async def schedule_job(
    session: AsyncSession,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 5,
    new_key: bool = False,
) -> None:
    """Schedule a job in the caller's transaction; a pending job with the same key is rescheduled.

    `new_key=True` says no job can hold `dedupe_key` yet (it names a row created in this transaction): the
    lookup is skipped, so the insert waits for the next flush together with the transaction's other rows.
    """
    when = run_at or utc_now()
    if dedupe_key is not None and not new_key:
        existing = await session.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            if existing.status == JobStatus.PENDING:
                existing.run_at = when
                existing.payload = payload or {}
            return
    session.add(
        Job(
            name=name,
            payload=payload or {},
            run_at=when,
            status=JobStatus.PENDING,
            attempts=0,
            max_attempts=max_attempts,
            dedupe_key=dedupe_key,
            created_at=utc_now(),
        )
    )


async def cancel_job(session: AsyncSession, dedupe_key: str) -> bool:
    """Cancel a pending job by key; tell whether one was cancelled."""
    result = await session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status == JobStatus.PENDING)
        .values(status=JobStatus.CANCELLED, dedupe_key=None, finished_at=utc_now())
    )
    return bool(getattr(result, "rowcount", 0))


class JobRunner:
    """Claims due jobs, runs them one transaction each, retries failures with backoff."""

    def __init__(self, runtime: Runtime, specs: dict[str, JobSpec]) -> None:
        self.runtime = runtime
        self.specs = specs
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._wake = asyncio.Event()
        self._outage = OutageLog(log, "jobs")

    def wake(self) -> None:
        """Look for due jobs now instead of at the next poll."""
        self._wake.set()

    async def ensure_recurring(self) -> None:
        """Make sure every recurring job has one pending occurrence."""
        for spec in self.specs.values():
            if spec.every is None:
                continue
            key = RECURRING_PREFIX + spec.name
            async with self.runtime.db.session() as session:
                exists = await session.scalar(select(Job.id).where(Job.dedupe_key == key))
                if exists is not None:
                    continue
                await schedule_job(session, spec.name, run_at=utc_now(), dedupe_key=key)
                try:
                    await session.commit()
                except IntegrityError:
                    await session.rollback()

    async def _claim(self, limit: int) -> list[tuple[int, str, dict[str, Any], int]]:
        now = utc_now()
        due = or_(
            and_(Job.status == JobStatus.PENDING, Job.run_at <= now),
            and_(Job.status == JobStatus.RUNNING, Job.locked_until < now),
        )
        async with self.runtime.db.session() as session:
            rows = (
                await session.scalars(
                    select(Job)
                    .where(due, Job.name.in_(list(self.specs)))
                    .order_by(Job.run_at, Job.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            claimed = []
            for job in rows:
                spec = self.specs[job.name]
                job.status = JobStatus.RUNNING
                job.locked_by = self.worker_id
                job.locked_until = now + spec.timeout
                job.attempts += 1
                claimed.append((job.id, job.name, dict(job.payload or {}), job.attempts))
            await session.commit()
        return claimed

    async def run_due(self, limit: int = 50) -> int:
        """Run the jobs that are due now; return how many ran."""
        claimed = await self._claim(limit)
        for job_id, name, payload, attempt in claimed:
            await self._run_one(job_id, self.specs[name], payload, attempt)
        return len(claimed)

    async def _run_one(self, job_id: int, spec: JobSpec, payload: dict[str, Any], attempt: int) -> None:
        try:
            async with self.runtime.db.session() as session:
                ctx = JobContext(session=session, runtime=self.runtime, payload=payload, job_id=job_id, attempt=attempt)
                await spec.handler(ctx)
                job = await session.get(Job, job_id)
                if job is not None and job.locked_by == self.worker_id:
                    await self._finish(session, job, spec)
                await session.commit()
            JOBS_RUN.labels(name=spec.name, outcome="done").inc()
        except Exception as exc:
            self._outage.failed(exc, "job failed", job=spec.name, job_id=job_id, attempt=attempt)
            await self._fail(job_id, spec, attempt, exc)

    async def _finish(self, session: AsyncSession, job: Job, spec: JobSpec) -> None:
        now = utc_now()
        job.status = JobStatus.DONE
        job.finished_at = now
        job.locked_until = None
        key = job.dedupe_key
        job.dedupe_key = None
        if spec.every is not None and key == RECURRING_PREFIX + spec.name:
            await session.flush()
            await schedule_job(session, spec.name, run_at=now + spec.every, dedupe_key=key)

    async def _fail(self, job_id: int, spec: JobSpec, attempt: int, exc: Exception) -> None:
        async with self.runtime.db.session() as session:
            job = await session.get(Job, job_id)
            if job is None:
                return
            job.last_error = f"{type(exc).__name__}: {exc}"[:4000]
            job.locked_until = None
            if attempt >= job.max_attempts:
                job.status = JobStatus.DEAD
                job.finished_at = utc_now()
                key = job.dedupe_key
                job.dedupe_key = None
                JOBS_RUN.labels(name=spec.name, outcome="dead").inc()
                if spec.every is not None and key:
                    # A recurring job keeps recurring even when one occurrence gave up.
                    await session.flush()
                    await schedule_job(session, spec.name, run_at=utc_now() + spec.every, dedupe_key=key)
            else:
                job.status = JobStatus.PENDING
                job.run_at = utc_now() + backoff(attempt)
                JOBS_RUN.labels(name=spec.name, outcome="retry").inc()
            await session.commit()

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 1.0) -> None:
        """Run due jobs until `stop` is set."""
        await self.ensure_recurring()
        while not stop.is_set():
            try:
                ran = await self.run_due()
                self._outage.succeeded()
            except Exception as exc:
                self._outage.failed(exc, "job runner loop failed; retrying")
                ran = 0
            if ran:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_seconds)

"""Durable jobs of the warning module."""

from __future__ import annotations

from ioc.core.jobs import JobContext, JobSpec, schedule_job

from . import service
from .constants import DISTRIBUTE_JOB, EXPIRE_JOB


async def distribute(ctx: JobContext) -> None:
    """Queue the messages of a published warning to its subscribers (payload: warning_id)."""
    await service.distribute(ctx.session, ctx.runtime, int(ctx.payload["warning_id"]))


async def expire(ctx: JobContext) -> None:
    """Mark a published warning expired when its expiry time comes (payload: warning_id, expires_at)."""
    warning_id = int(ctx.payload["warning_id"])
    if await service.expire(ctx.session, warning_id):
        return
    # A runner whose clock is a little ahead may fire the timer early: set it again rather than lose it.
    pending = await service.expiry_pending(ctx.session, warning_id)
    if pending is not None:
        await schedule_job(
            ctx.session,
            EXPIRE_JOB,
            ctx.payload,
            run_at=pending,
            dedupe_key=f"{EXPIRE_JOB}:{warning_id}:{ctx.job_id}",
        )


JOBS = (JobSpec(name=DISTRIBUTE_JOB, handler=distribute), JobSpec(name=EXPIRE_JOB, handler=expire))

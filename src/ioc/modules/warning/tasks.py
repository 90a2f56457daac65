"""Durable jobs of the warning module."""

from __future__ import annotations

from ioc.core.jobs import JobContext, JobSpec

from . import service
from .constants import DISTRIBUTE_JOB


async def distribute(ctx: JobContext) -> None:
    """Queue the messages of a published warning to its subscribers (payload: warning_id)."""
    await service.distribute(ctx.session, ctx.runtime, int(ctx.payload["warning_id"]))


JOBS = (JobSpec(name=DISTRIBUTE_JOB, handler=distribute),)

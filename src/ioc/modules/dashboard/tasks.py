"""Durable jobs of the `dashboard` module: the hourly KPI snapshot behind the figures' history charts."""

from __future__ import annotations

from datetime import timedelta

from ioc.core.jobs import JobContext, JobSpec

from . import service


async def snapshot_kpis(ctx: JobContext) -> None:
    """Store every tile's current value."""
    await service.snapshot_kpis(ctx.session, ctx.runtime)


SNAPSHOT_JOB = JobSpec(name="dashboard.snapshot_kpis", handler=snapshot_kpis, every=timedelta(hours=1))
JOBS = (SNAPSHOT_JOB,)

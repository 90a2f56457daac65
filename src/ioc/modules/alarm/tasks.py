"""Recurring jobs of the alarm module: time-based rule checks, and notification repeats and escalation."""

from __future__ import annotations

from datetime import timedelta

from ioc.core.jobs import JobContext, JobSpec
from ioc.core.time import utc_now

from . import engine, service
from .constants import MAX_RULE_WINDOW, NO_DATA_EVERY, NO_DATA_JOB, NOTIFY_EVERY, NOTIFY_JOB


async def periodic_check(ctx: JobContext) -> None:
    """Raise "no data for N minutes" alarms, fire due pending periods, clear calmed report clusters."""
    now = utc_now()
    await engine.periodic_check(ctx.session, ctx.runtime, now)
    await engine.prune_report_points(ctx.session, now - MAX_RULE_WINDOW - timedelta(days=1))


async def notify_check(ctx: JobContext) -> None:
    """Repeat notifications of unacknowledged alarms and escalate late ones."""
    await service.notify_due(ctx.session, ctx.runtime)


JOBS = (
    JobSpec(name=NO_DATA_JOB, handler=periodic_check, every=NO_DATA_EVERY),
    JobSpec(name=NOTIFY_JOB, handler=notify_check, every=NOTIFY_EVERY),
)

"""Durable jobs of the incident module: the overdue timer of every task."""

from __future__ import annotations

import logging

from ioc.core.jobs import JobContext, JobSpec

from . import service
from .constants import OVERDUE_JOB

log = logging.getLogger(__name__)


async def task_overdue(ctx: JobContext) -> None:
    """Flag an unfinished task past its deadline and escalate it (payload: task_id, due_at)."""
    if await service.check_overdue(ctx.session, ctx.runtime, ctx.payload):
        log.info("incident task overdue, escalated", extra={"task_id": ctx.payload.get("task_id")})


TASK_OVERDUE = JobSpec(name=OVERDUE_JOB, handler=task_overdue)
JOBS = (TASK_OVERDUE,)

"""Durable jobs of the incident module: the overdue timer of every task, in two escalation levels."""

from __future__ import annotations

import logging

from ioc.core.jobs import JobContext, JobSpec

from . import service
from .constants import OVERDUE_JOB

log = logging.getLogger(__name__)


async def task_overdue(ctx: JobContext) -> None:
    """Escalate an unfinished task past its deadline (payload: task_id, due_at, level; 1 when absent)."""
    if await service.check_overdue(ctx.session, ctx.runtime, ctx.payload):
        log.info(
            "incident task overdue, escalated",
            extra={"task_id": ctx.payload.get("task_id"), "level": ctx.payload.get("level", 1)},
        )


TASK_OVERDUE = JobSpec(name=OVERDUE_JOB, handler=task_overdue)
JOBS = (TASK_OVERDUE,)

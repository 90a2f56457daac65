"""Jobs of the citizen_report module (deadline timers, closing unrated reports, rate-limit upkeep) and start-up."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from ioc.core.jobs import JobContext, JobSpec
from ioc.modules import notification

from . import service
from .constants import CLOSE_JOB, DEADLINE_JOB, PURGE_JOB
from .notices import TEMPLATES
from .public_cache import cache_for

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)


async def deadline_check(ctx: JobContext) -> None:
    """Flag a report approaching or past its deadline and warn the agency (payload: report_id, kind, due_at)."""
    flagged = await service.check_deadline(ctx.session, ctx.runtime, ctx.payload)
    if flagged:
        log.info("citizen report deadline flagged", extra={"report_id": ctx.payload.get("report_id"), "kind": flagged})


async def close_unrated(ctx: JobContext) -> None:
    """Close a resolved report nobody rated within its window (payload: report_id)."""
    await service.close_unrated(ctx.session, ctx.runtime, int(ctx.payload["report_id"]))


async def purge_rate_hits(ctx: JobContext) -> None:
    """Forget submission records older than the rate-limit window."""
    removed = await service.purge_rate_hits(ctx.session)
    if removed:
        log.info("citizen report rate-limit records purged", extra={"removed": removed})


DEADLINE_CHECK = JobSpec(name=DEADLINE_JOB, handler=deadline_check)
CLOSE_UNRATED = JobSpec(name=CLOSE_JOB, handler=close_unrated)
PURGE_RATE_HITS = JobSpec(name=PURGE_JOB, handler=purge_rate_hits, every=timedelta(hours=1))
JOBS = (DEADLINE_CHECK, CLOSE_UNRATED, PURGE_RATE_HITS)


async def register_templates(runtime: Runtime) -> None:
    """Store this module's message templates in the notification module when missing (start-up hook)."""
    async with runtime.db.session() as session:
        try:
            # The insert is flushed inside the call: a process starting at the same moment fails there.
            added = await notification.ensure_templates(session, TEMPLATES)
            await session.commit()
        except IntegrityError:
            # Another process stored the same templates at the same moment; theirs are as good.
            await session.rollback()
            return
    if added:
        log.info("citizen report message templates stored", extra={"added": added})


async def start(runtime: Runtime) -> None:
    """Start-up hook: install the public read cache's invalidation hooks, then store the message templates."""
    cache_for(runtime)
    await register_templates(runtime)

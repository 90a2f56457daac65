"""Jobs of the indicator module (background imports, deadline reminders and late notices) and start-up."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from ioc.core.jobs import JobContext, JobSpec
from ioc.modules import notification

from . import deadlines, imports, repository
from .constants import IMPORT_JOB, REMINDER_JOB
from .notices import TEMPLATES

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)


async def run_import(ctx: JobContext) -> None:
    """Write a large import in chunks (payload: import_id, vietnamese_numbers)."""
    await imports.run_import(
        ctx.session, int(ctx.payload["import_id"]), vietnamese_numbers=bool(ctx.payload.get("vietnamese_numbers"))
    )


async def deadline_notices(ctx: JobContext) -> None:
    """Send the reminders and late notices due today (each at most once)."""
    sent = await deadlines.send_deadline_notices(ctx.session, ctx.runtime)
    if any(sent.values()):
        log.info("statistics deadline messages sent", extra=sent)


IMPORT = JobSpec(name=IMPORT_JOB, handler=run_import, max_attempts=3, timeout=timedelta(minutes=30))
# Several runs a day: a restart or a late holiday override does not delay a message by a whole day.
DEADLINE_NOTICES = JobSpec(name=REMINDER_JOB, handler=deadline_notices, every=timedelta(hours=6))
JOBS = (IMPORT, DEADLINE_NOTICES)


async def register_templates(runtime: Runtime) -> None:
    """Store this module's message templates when missing, and build a missing rollup totals layer (start-up)."""
    async with runtime.db.session() as session:
        try:
            # Rollups written before the totals layer existed get it once; later writes keep it current.
            built = await repository.backfill_rollup_totals(session)
            await session.commit()
        except IntegrityError:
            await session.rollback()  # another process built it at the same moment
            built = 0
    if built:
        log.info("statistics rollup totals built", extra={"rows": built})
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
        log.info("statistics message templates stored", extra={"added": added})

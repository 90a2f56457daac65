"""Durable jobs of the identity module."""

from __future__ import annotations

import logging

from ioc.core.jobs import JobContext

from . import service

log = logging.getLogger(__name__)


async def purge_expired(ctx: JobContext) -> None:
    """Delete expired web sessions and finished login-throttle windows."""
    removed = await service.purge_expired(ctx.session, ctx.runtime)
    if removed:
        log.info("expired sessions purged", extra={"count": removed})

"""Recurring jobs of the telemetry module: rollups, retention and offline detection."""

from __future__ import annotations

import logging

from ioc.core.jobs import JobContext, JobSpec

from . import service
from .constants import (
    OFFLINE_EVERY,
    OFFLINE_JOB,
    PARTITION_EVERY,
    PARTITION_JOB,
    RETENTION_EVERY,
    RETENTION_JOB,
    ROLLUP_EVERY,
    ROLLUP_JOB,
)

log = logging.getLogger(__name__)


async def rollup(ctx: JobContext) -> None:
    """Recompute the hourly and daily rollups of the hours that received readings since the last run."""
    hours = await service.compute_rollups(ctx.session)
    if hours:
        log.debug("telemetry rollups recomputed", extra={"hours": hours})


async def enforce_retention(ctx: JobContext) -> None:
    """Delete raw readings older than each datastream's retention period."""
    deleted = await service.enforce_retention(ctx.session)
    log.info("telemetry retention enforced", extra={"deleted": deleted})


async def maintain_partitions(ctx: JobContext) -> None:
    """Create next months' observation partitions before readings arrive for them."""
    created = await service.maintain_partitions(ctx.session)
    if created:
        log.info("telemetry partitions created", extra={"partitions": created})


async def detect_offline(ctx: JobContext) -> None:
    """Mark devices that went silent offline and announce them."""
    await service.detect_offline(ctx.session)


JOBS = (
    JobSpec(name=ROLLUP_JOB, handler=rollup, every=ROLLUP_EVERY),
    JobSpec(name=RETENTION_JOB, handler=enforce_retention, every=RETENTION_EVERY),
    JobSpec(name=OFFLINE_JOB, handler=detect_offline, every=OFFLINE_EVERY),
    JobSpec(name=PARTITION_JOB, handler=maintain_partitions, every=PARTITION_EVERY),
)

"""Durable jobs of the notification module and its start-up hook."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from ioc.core.jobs import JobContext

from . import service
from .channels import Channel, DeliveryResult, OutgoingMessage, build_channel

if TYPE_CHECKING:
    from ioc.core.runtime import Runtime

log = logging.getLogger(__name__)


async def send_once(channel: Channel, message: OutgoingMessage) -> DeliveryResult:
    """Make one attempt; an unexpected error in a channel counts as a retryable failure."""
    try:
        return await channel.send(message)
    except Exception as exc:
        # A bug in a channel must not leave the delivery stuck in "sending".
        log.exception("notification channel crashed", extra={"delivery_id": message.delivery_id})
        return DeliveryResult.retry(f"{type(exc).__name__}: {exc}")


async def deliver(ctx: JobContext) -> None:
    """Send one delivery and record the outcome (job `notification.deliver`, payload {"delivery_id"})."""
    delivery_id = int(ctx.payload["delivery_id"])
    # The claim commits on its own, so that no transaction (on SQLite: the write lock) stays open
    # while the peer is being talked to; the outcome is recorded in the job's own transaction.
    async with ctx.runtime.db.transaction() as claim:
        message = await service.claim_delivery(claim, delivery_id)
    if message is None:
        return
    result = await send_once(build_channel(message.channel, ctx.runtime.settings), message)
    await service.record_result(ctx.session, delivery_id, result)


async def seed_default_templates(runtime: Runtime) -> None:
    """Insert the shipped templates that are missing (start-up hook, safe to run in every process)."""
    async with runtime.db.session() as session:
        try:
            # The insert is flushed inside the call: a process starting at the same moment fails there.
            added = await service.ensure_default_templates(session)
            await session.commit()
        except IntegrityError:
            # Another process seeded the same templates at the same moment; theirs are as good.
            await session.rollback()
            return
    if added:
        log.info("notification templates seeded", extra={"added": added})

"""Every query of the notification module."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import NotificationDelivery, NotificationTemplate
from .schemas import DeliveryFilters


async def templates_for_key(session: AsyncSession, key: str) -> Sequence[NotificationTemplate]:
    """Return every channel and language variant of a template key."""
    return (await session.scalars(select(NotificationTemplate).where(NotificationTemplate.key == key))).all()


async def get_template(session: AsyncSession, key: str, channel: str, lang: str) -> NotificationTemplate | None:
    """Return one template variant."""
    return await session.scalar(
        select(NotificationTemplate).where(
            NotificationTemplate.key == key, NotificationTemplate.channel == channel, NotificationTemplate.lang == lang
        )
    )


async def list_templates(session: AsyncSession, key: str | None = None) -> Sequence[NotificationTemplate]:
    """Return templates ordered by key, channel and language."""
    query = select(NotificationTemplate).order_by(
        NotificationTemplate.key, NotificationTemplate.channel, NotificationTemplate.lang
    )
    if key is not None:
        query = query.where(NotificationTemplate.key == key)
    return (await session.scalars(query)).all()


async def template_identities(session: AsyncSession) -> set[tuple[str, str, str]]:
    """Return the (key, channel, lang) of every stored template."""
    rows = await session.execute(
        select(NotificationTemplate.key, NotificationTemplate.channel, NotificationTemplate.lang)
    )
    return {(key, channel, lang) for key, channel, lang in rows}


def add(session: AsyncSession, row: NotificationTemplate | NotificationDelivery) -> None:
    """Add a new row to the session."""
    session.add(row)


async def get_delivery(
    session: AsyncSession, delivery_id: int, *, for_update: bool = False
) -> NotificationDelivery | None:
    """Return a delivery by id, locking it when asked."""
    query = select(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_deliveries(
    session: AsyncSession, filters: DeliveryFilters, limit: int, offset: int
) -> tuple[Sequence[NotificationDelivery], int]:
    """Return one page of deliveries, newest first, and the total matching the filters."""
    conditions = []
    if filters.status is not None:
        conditions.append(NotificationDelivery.status == filters.status.value)
    if filters.channel is not None:
        conditions.append(NotificationDelivery.channel == filters.channel.value)
    if filters.correlation:
        conditions.append(NotificationDelivery.correlation == filters.correlation)
    total = await session.scalar(select(func.count()).select_from(NotificationDelivery).where(*conditions)) or 0
    rows = (
        await session.scalars(
            select(NotificationDelivery)
            .where(*conditions)
            .order_by(NotificationDelivery.id.desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    return rows, total

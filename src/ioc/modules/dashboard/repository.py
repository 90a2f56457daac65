"""Every query of the `dashboard` module; services call these functions and build no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ioc.core.models import OutboxEvent

from .models import DashboardKpiSnapshot, DashboardWallLayout


async def get_layout(session: AsyncSession, wall: str, role: str) -> DashboardWallLayout | None:
    """Return the layout saved for a wall and a role."""
    return await session.scalar(
        select(DashboardWallLayout).where(DashboardWallLayout.wall == wall, DashboardWallLayout.role == role)
    )


def add_layout(session: AsyncSession, row: DashboardWallLayout) -> None:
    """Stage a new layout."""
    session.add(row)


async def delete_layout(session: AsyncSession, row: DashboardWallLayout) -> None:
    """Remove a saved layout."""
    await session.delete(row)


async def list_layouts(session: AsyncSession) -> Sequence[DashboardWallLayout]:
    """Return every saved layout, by wall and role."""
    return (
        await session.scalars(select(DashboardWallLayout).order_by(DashboardWallLayout.wall, DashboardWallLayout.role))
    ).all()


async def recent_events(session: AsyncSession, names: Sequence[str], limit: int) -> Sequence[OutboxEvent]:
    """Return the newest outbox events with these names, newest first."""
    if not names:
        return []
    return (
        await session.scalars(
            select(OutboxEvent).where(OutboxEvent.name.in_(names)).order_by(OutboxEvent.id.desc()).limit(limit)
        )
    ).all()


async def event_times(
    session: AsyncSession, names: Sequence[str], since: datetime, unit_code: str | None = None
) -> dict[str, list[datetime]]:
    """Return when events with these names occurred since a moment (optionally inside one unit), by name."""
    found: dict[str, list[datetime]] = {name: [] for name in names}
    if not names:
        return found
    where = (OutboxEvent.name.in_(names), OutboxEvent.occurred_at >= since)
    if unit_code is None:
        for name, occurred in (
            await session.execute(select(OutboxEvent.name, OutboxEvent.occurred_at).where(*where))
        ).all():
            found[name].append(occurred)
        return found
    # The unit travels inside the JSON payload, which the two engines query differently: filter here.
    query = select(OutboxEvent.name, OutboxEvent.occurred_at, OutboxEvent.payload).where(*where)
    for name, occurred, payload in (await session.execute(query)).all():
        if isinstance(payload, dict) and payload.get("unit_code") == unit_code:
            found[name].append(occurred)
    return found


def add_snapshot(session: AsyncSession, row: DashboardKpiSnapshot) -> None:
    """Stage a KPI snapshot."""
    session.add(row)


async def snapshots(session: AsyncSession, tile_key: str, since: datetime) -> list[tuple[datetime, float | None]]:
    """Return a tile's snapshots since a moment, oldest first."""
    rows = await session.execute(
        select(DashboardKpiSnapshot.taken_at, DashboardKpiSnapshot.value)
        .where(DashboardKpiSnapshot.tile_key == tile_key, DashboardKpiSnapshot.taken_at >= since)
        .order_by(DashboardKpiSnapshot.taken_at)
    )
    return [(taken, value) for taken, value in rows.all()]

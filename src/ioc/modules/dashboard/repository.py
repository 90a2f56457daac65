"""Every query of the `dashboard` module; services call these functions and build no SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
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


def _in_unit(unit_codes: Sequence[str], area_codes: Sequence[str] = ()) -> ColumnElement[bool]:
    """Match events inside a unit: their `unit_code` is one of `unit_codes`, or their `unit_codes` list names
    one of `unit_codes` or `area_codes` (a warning for a whole district touches each of its communes).

    Both engines extract a JSON member as text (json_extract / ->>); a list comes back as its JSON text,
    where a code appears between double quotes.
    """
    listed = OutboxEvent.payload["unit_codes"].as_string()
    return or_(
        OutboxEvent.payload["unit_code"].as_string().in_(list(unit_codes)),
        *(listed.contains(f'"{code}"', autoescape=True) for code in dict.fromkeys([*unit_codes, *area_codes])),
    )


async def latest_event_id(session: AsyncSession) -> int:
    """Return the id of the newest outbox event (0 when there is none): it changes whenever anything happens."""
    return int(await session.scalar(select(func.max(OutboxEvent.id))) or 0)


async def recent_events(
    session: AsyncSession, names: Sequence[str], limit: int, unit_code: str | None = None
) -> Sequence[OutboxEvent]:
    """Return the newest outbox events with these names (optionally inside one unit), newest first."""
    if not names:
        return []
    query = select(OutboxEvent).where(OutboxEvent.name.in_(names))
    if unit_code is not None:
        query = query.where(_in_unit([unit_code]))
    return (await session.scalars(query.order_by(OutboxEvent.id.desc()).limit(limit))).all()


async def event_times(
    session: AsyncSession, names: Sequence[str], since: datetime, unit_code: str | None = None
) -> dict[str, list[datetime]]:
    """Return when events with these names occurred since a moment (optionally inside one unit), by name."""
    found: dict[str, list[datetime]] = {name: [] for name in names}
    if not names:
        return found
    query = select(OutboxEvent.name, OutboxEvent.occurred_at).where(
        OutboxEvent.name.in_(names), OutboxEvent.occurred_at >= since
    )
    if unit_code is not None:
        query = query.where(_in_unit([unit_code]))
    for name, occurred in (await session.execute(query)).all():
        found[name].append(occurred)
    return found


async def unit_event_counts(
    session: AsyncSession,
    names: Sequence[str],
    since: datetime,
    until: datetime,
    unit_code: str,
    area_codes: Sequence[str] = (),
) -> dict[str, int]:
    """Count, by name, the events inside a unit that occurred in [since, until), on the database."""
    if not names:
        return {}
    query = (
        select(OutboxEvent.name, func.count())
        .where(
            OutboxEvent.name.in_(names),
            OutboxEvent.occurred_at >= since,
            OutboxEvent.occurred_at < until,
            _in_unit([unit_code], area_codes),
        )
        .group_by(OutboxEvent.name)
    )
    return {name: int(count) for name, count in (await session.execute(query)).all()}


async def unit_event_payloads(
    session: AsyncSession, name: str, since: datetime, unit_code: str
) -> list[tuple[datetime, dict[str, Any]]]:
    """Return when and with what payload one kind of event occurred inside a unit since a moment, oldest first."""
    query = (
        select(OutboxEvent.occurred_at, OutboxEvent.payload)
        .where(OutboxEvent.name == name, OutboxEvent.occurred_at >= since, _in_unit([unit_code]))
        .order_by(OutboxEvent.id)
    )
    return [(occurred, payload) for occurred, payload in (await session.execute(query)).all()]


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


async def snapshots_between(
    session: AsyncSession, tile_keys: Sequence[str], since: datetime, until: datetime
) -> list[tuple[str, datetime, float | None]]:
    """Return the snapshots of these tiles taken in [since, until]."""
    if not tile_keys:
        return []
    rows = await session.execute(
        select(DashboardKpiSnapshot.tile_key, DashboardKpiSnapshot.taken_at, DashboardKpiSnapshot.value).where(
            DashboardKpiSnapshot.tile_key.in_(list(tile_keys)),
            DashboardKpiSnapshot.taken_at >= since,
            DashboardKpiSnapshot.taken_at <= until,
        )
    )
    return [(key, taken, value) for key, taken, value in rows.all()]
